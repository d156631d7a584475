/// Comparisons of HTTP's ASCII names and keywords, which are case-insensitive (RFC 9110).
enum ASCII {
    /// Whether a byte may stand in a `Host` value of a plain name or address and port:
    /// letters, digits, `-`, `.`, `:` and the brackets of an IPv6 address.
    static func isHostCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: ":"),
            UInt8(ascii: "["), UInt8(ascii: "]"):
            true
        default:
            false
        }
    }

    /// `byte` with an ASCII capital letter made small, any other byte as it is.
    static func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    /// Whether `bytes` spell `lowercase` with its ASCII letters in any case.
    static func equalsIgnoringCase(_ bytes: some Sequence<UInt8>, _ lowercase: some Sequence<UInt8>) -> Bool {
        bytes.elementsEqual(lowercase) { lowercased($0) == $1 }
    }
}
