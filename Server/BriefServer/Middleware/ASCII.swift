/// Comparisons of HTTP's ASCII names and keywords, which are case-insensitive (RFC 9110).
enum ASCII {
    /// `byte` with an ASCII capital letter made small, any other byte as it is.
    static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    /// Whether `bytes` spell `lowercase` with its ASCII letters in any case.
    static func equalsIgnoringCase(_ bytes: some Sequence<UInt8>, _ lowercase: some Sequence<UInt8>) -> Bool {
        bytes.elementsEqual(lowercase) { lowercased($0) == $1 }
    }
}
