/// The rule every identifier in BriefSync follows (briefs, topics, devices): 1 to `maxLength`
/// ASCII letters, digits, `.`, `_` and `-`, starting with a letter or digit, and never `..`.
///
/// Identifiers appear in URL paths and file names, so the rule keeps out `/`, quotes, white space,
/// control characters and path tricks, and a valid identifier needs no escaping anywhere.
public enum Identifier {
    /// Why `text` is not a valid identifier, or `nil` when it is.
    public static func problem(with text: String, maxLength: Int) -> String? {
        if text.isEmpty {
            return "empty"
        }
        if text.utf8.count > maxLength {
            return "longer than \(maxLength) characters"
        }
        guard text.utf8.allSatisfy(isAllowed) else {
            return "may contain only letters, digits, '.', '_' and '-'"
        }
        guard let first = text.utf8.first, isAlphanumeric(first) else {
            return "must start with a letter or digit"
        }
        if hasDoubleDot(text.utf8) {
            return "may not contain '..'"
        }
        return nil
    }

    // why not `text.contains("..")`: that is a generic string search (StringProcessing), and
    // every identifier in every decoded stamp is checked here; this is one pass over the bytes
    private static func hasDoubleDot(_ bytes: String.UTF8View) -> Bool {
        var previous: UInt8 = 0
        for byte in bytes {
            if byte == UInt8(ascii: "."), previous == byte {
                return true
            }
            previous = byte
        }
        return false
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        isAlphanumeric(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }
}

/// An identifier type that follows the ``Identifier`` rule and travels as a plain JSON string.
public protocol ValidatedIdentifier: RawRepresentable<String>, Sendable, Hashable, Comparable, Codable,
    CustomStringConvertible
{
    /// The longest identifier accepted, in bytes.
    static var maxLength: Int { get }
    /// Wraps text already checked against the rule; not API: use `init?(rawValue:)`.
    init(_unchecked text: String)
}

extension ValidatedIdentifier {
    /// Creates an identifier, or `nil` when `rawValue` breaks the ``Identifier`` rule.
    public init?(rawValue: String) {
        guard Identifier.problem(with: rawValue, maxLength: Self.maxLength) == nil else {
            return nil
        }
        self.init(_unchecked: rawValue)
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        if let problem = Identifier.problem(with: text, maxLength: Self.maxLength) {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: problem))
        }
        self.init(_unchecked: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { rawValue }
}

/// The publisher's stable identifier of a brief, such as `ai-tech-2026-06-26`.
public struct BriefID: ValidatedIdentifier {
    public static let maxLength = 100
    public let rawValue: String
    public init(_unchecked text: String) { rawValue = text }
}

/// The stable identifier of a topic, such as `ai-tech`.
public struct TopicID: ValidatedIdentifier {
    public static let maxLength = 64
    public let rawValue: String
    public init(_unchecked text: String) { rawValue = text }
}

/// The identifier a device gives itself once, when its store is created. It breaks ties between
/// stamps and scopes the ids of the mutations the device pushes.
public struct DeviceID: ValidatedIdentifier {
    public static let maxLength = 64
    public let rawValue: String
    public init(_unchecked text: String) { rawValue = text }
}
