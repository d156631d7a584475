/// A brief's item id in the Google Reader API: a 64-bit number, the microseconds since 1970 at
/// which the server first received the brief (unique per server; see `Schema/sqlite/server_v6.sql`).
///
/// Clients send it in three forms, and each is accepted: the long form
/// `tag:google.com,2005:reader/item/<16 hex digits>`, the same without the zero padding
/// (NetNewsWire sends that in `stream/items/contents`), and the short form, the number in signed
/// decimal (as `stream/items/ids` lists it). The hex is the number's 64 bits, two's complement.
struct ReaderItemID: Sendable, Hashable, Comparable {
    var rawValue: Int64

    static let longPrefix = "tag:google.com,2005:reader/item/"

    init(rawValue: Int64) {
        self.rawValue = rawValue
    }

    /// Reads any of the three forms; `nil` for anything else.
    init?(_ text: String) {
        if text.hasPrefix(Self.longPrefix) {
            let hex = text.utf8.dropFirst(Self.longPrefix.utf8.count)
            // why by hand: UInt64(_:radix:) also takes a sign, which no item id has
            guard (1...16).contains(hex.count), hex.allSatisfy(Self.isHexDigit),
                let bits = UInt64(String(decoding: hex, as: UTF8.self), radix: 16)
            else {
                return nil
            }
            self.rawValue = Int64(bitPattern: bits)
        } else {
            let digits = text.utf8.first == UInt8(ascii: "-") ? text.utf8.dropFirst() : text.utf8[...]
            guard (1...19).contains(digits.count), digits.allSatisfy({ (0x30...0x39).contains($0) }),
                let value = Int64(text)
            else {
                return nil
            }
            self.rawValue = value
        }
    }

    /// `tag:google.com,2005:reader/item/` and 16 hex digits.
    var longForm: String {
        let hex = String(UInt64(bitPattern: rawValue), radix: 16)
        return Self.longPrefix + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The signed decimal form.
    var shortForm: String { String(rawValue) }

    static func < (lhs: ReaderItemID, rhs: ReaderItemID) -> Bool { lhs.rawValue < rhs.rawValue }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x61...0x66).contains(byte) || (0x41...0x46).contains(byte)
    }
}
