/// Reads typed values out of a `JSONValue` tree and collects every problem it meets instead of
/// stopping at the first, so that a document is rejected with all its issues at once.
///
/// Each accessor returns `nil` when the value is missing or wrong, after recording why; callers go
/// on reading the rest of the document.
struct FieldReader {
    typealias UnknownKeys = UnknownFieldPolicy

    private(set) var issues: [ValidationIssue] = []
    let unknownKeys: UnknownKeys

    init(unknownKeys: UnknownKeys) {
        self.unknownKeys = unknownKeys
    }

    mutating func report(_ path: FieldPath, _ reason: String) {
        issues.append(ValidationIssue(path: path.description, reason: reason))
    }

    /// An object whose keys are checked against `allowed`.
    mutating func object(_ value: JSONValue?, at path: FieldPath, allowed: Set<String>) -> [String: JSONValue]? {
        guard let value = present(value, at: path) else {
            return nil
        }
        guard case .object(let members) = value else {
            report(path, "expected object, found \(value.typeName)")
            return nil
        }
        if unknownKeys == .reject {
            for key in members.keys.sorted() where !allowed.contains(key) {
                report(path.appending(key), "unknown field")
            }
        }
        return members
    }

    /// An array of at most `maxCount` elements (and at least `minCount`).
    mutating func array(
        _ value: JSONValue?,
        at path: FieldPath,
        minCount: Int = 0,
        maxCount: Int
    ) -> [JSONValue]? {
        guard let value = present(value, at: path) else {
            return nil
        }
        guard case .array(let elements) = value else {
            report(path, "expected array, found \(value.typeName)")
            return nil
        }
        if elements.count < minCount {
            report(path, minCount == 1 ? "empty" : "fewer than \(minCount) elements")
        }
        if elements.count > maxCount {
            report(path, "more than \(maxCount) elements")
            return Array(elements.prefix(maxCount))
        }
        return elements
    }

    /// A non-empty string of at most `maxLength` characters with no control characters other than
    /// line breaks and tabs, and no leading or trailing white space.
    mutating func string(_ value: JSONValue?, at path: FieldPath, maxLength: Int) -> String? {
        guard let value = present(value, at: path) else {
            return nil
        }
        guard case .string(let text) = value else {
            report(path, "expected string, found \(value.typeName)")
            return nil
        }
        let leadingWhitespace = Self.startsWithWhitespace(text)
        if text.isEmpty || (leadingWhitespace && text.allSatisfy(\.isWhitespace)) {
            report(path, "empty")
            return nil
        }
        var valid = true
        // why the UTF-8 count first: a character takes at least one byte, so a text of at most
        // maxLength bytes is short enough without counting graphemes (a third of decoding a page)
        if text.utf8.count > maxLength && text.count > maxLength {
            report(path, "longer than \(maxLength) characters")
            valid = false
        }
        if Self.containsForbiddenControl(text) {
            report(path, "contains control characters")
            valid = false
        }
        if leadingWhitespace || Self.endsWithWhitespace(text) {
            report(path, "has leading or trailing white space")
            valid = false
        }
        return valid ? text : nil
    }

    /// Whether `text`'s first character is white space, as `Character.isWhitespace` says.
    ///
    /// That property is the character's first scalar's, which is the text's first scalar: when
    /// its first byte is ASCII, that byte answers alone, with no grapheme breaking or Unicode
    /// property lookup. why: these lookups were 2% of a device's first sync (perf).
    static func startsWithWhitespace(_ text: String) -> Bool {
        guard let byte = text.utf8.first else {
            return false
        }
        guard byte < 0x80 else {
            return text.first?.isWhitespace == true
        }
        return isASCIIWhitespace(byte)
    }

    /// Whether `text`'s last character is white space, as `Character.isWhitespace` says.
    ///
    /// When the last byte is ASCII and not white space, the last character is that byte alone
    /// or it after prepended scalars (grapheme rule GB9b: no ASCII scalar extends a character
    /// otherwise), and neither is white space. Anything else asks the character itself: a
    /// prepended scalar before a trailing space makes one character that is not white space.
    static func endsWithWhitespace(_ text: String) -> Bool {
        guard let byte = text.utf8.last else {
            return false
        }
        if byte < 0x80 && !isASCIIWhitespace(byte) {
            return false
        }
        return text.last?.isWhitespace == true
    }

    /// The ASCII scalars with Unicode's White_Space property: U+0009–U+000D and U+0020.
    private static func isASCIIWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    /// Control characters (general category Cc: U+0000–U+001F and U+007F–U+009F) other than
    /// newline and tab; by value, which is what the category lookup answered, only faster.
    static func isForbiddenControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x0A, 0x09: false
        case 0x00...0x1F, 0x7F...0x9F: true
        default: false
        }
    }

    /// Whether `text` holds a character ``isForbiddenControl(_:)`` refuses, read on its UTF-8
    /// bytes: U+0000–U+001F and U+007F are one byte each, U+0080–U+009F are `C2 80`…`C2 9F`, and
    /// in UTF-8 `C2` only ever starts a character.
    ///
    /// why bytes, not `unicodeScalars`: every text of every brief is checked, and decoding each
    /// scalar was a quarter of checking a brief on a device's first sync (perf).
    static func containsForbiddenControl(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { bytes in
            var index = bytes.startIndex
            while index < bytes.endIndex {
                let byte = bytes[index]
                if byte < 0x20 {
                    if byte != 0x0A && byte != 0x09 {
                        return true
                    }
                } else if byte == 0x7F {
                    return true
                } else if byte == 0xC2, index + 1 < bytes.endIndex, (0x80...0x9F).contains(bytes[index + 1]) {
                    return true
                }
                index += 1
            }
            return false
        }
    }

    /// A string that may be absent or `null`.
    mutating func optionalString(_ value: JSONValue?, at path: FieldPath, maxLength: Int) -> String?? {
        switch value {
        case nil, .null?: .some(nil)
        default: string(value, at: path, maxLength: maxLength).map { .some($0) }
        }
    }

    /// A whole number within `range`.
    mutating func integer(_ value: JSONValue?, at path: FieldPath, in range: ClosedRange<Int64>) -> Int64? {
        guard let value = present(value, at: path) else {
            return nil
        }
        let number: Int64
        switch value {
        case .integer(let whole):
            number = whole
        case .number(let real) where real.rounded() == real && abs(real) < 9.0e15:
            number = Int64(real)
        case .number:
            report(path, "expected a whole number")
            return nil
        default:
            report(path, "expected number, found \(value.typeName)")
            return nil
        }
        guard range.contains(number) else {
            report(path, "out of range \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return number
    }

    /// A finite number within `range`.
    mutating func number(_ value: JSONValue?, at path: FieldPath, in range: ClosedRange<Double>) -> Double? {
        guard let value = present(value, at: path) else {
            return nil
        }
        guard let number = value.doubleValue else {
            report(path, "expected number, found \(value.typeName)")
            return nil
        }
        guard number.isFinite, range.contains(number) else {
            report(path, "out of range \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return number
    }

    /// A boolean.
    mutating func bool(_ value: JSONValue?, at path: FieldPath) -> Bool? {
        guard let value = present(value, at: path) else {
            return nil
        }
        guard case .bool(let flag) = value else {
            report(path, "expected boolean, found \(value.typeName)")
            return nil
        }
        return flag
    }

    /// A value that must be there: `missing` when absent or `null`.
    private mutating func present(_ value: JSONValue?, at path: FieldPath) -> JSONValue? {
        guard let value, value != .null else {
            report(path, "missing")
            return nil
        }
        return value
    }
}
