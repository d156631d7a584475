/// The names of editions on the content plane: the SHA-256 of an edition's canonical JSON, as 64
/// lowercase hex digits (`GET /v1/content/{digest}`, ``BriefRefV2/digest``). Hashing is the
/// caller's (the model does no cryptography); this is only the text form.
public enum ContentDigest {
    private static let digits = Array("0123456789abcdef".utf8)

    /// The 64 lowercase hex digits of a digest.
    public static func hex(_ digest: [UInt8]) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(digest.count * 2)
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The digest 64 lowercase hex digits stand for; `nil` for anything else.
    public static func parse(_ text: Substring) -> [UInt8]? {
        let bytes = Array(text.utf8)
        guard bytes.count == 64 else {
            return nil
        }
        var digest: [UInt8] = []
        digest.reserveCapacity(32)
        for index in stride(from: 0, to: 64, by: 2) {
            guard let high = nibble(bytes[index]), let low = nibble(bytes[index + 1]) else {
                return nil
            }
            digest.append(high << 4 | low)
        }
        return digest
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
