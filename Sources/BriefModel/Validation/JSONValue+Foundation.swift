import Foundation

extension JSONValue {
    /// Parses a JSON document into the tree that `JSONDecoder` decoding a ``JSONValue`` gives.
    ///
    /// Decoding through `Decodable` cannot ask a value for its type, so it tries each kind in
    /// turn. Foundation's `JSONSerialization` knows the type of every value it reads, which makes
    /// this about twice as fast on a brief (a device reads thousands in its first sync,
    /// BENCHMARKS.md). Where the two could differ, the document is decoded as `Decodable` does:
    /// a number that is not a plain integer (on Linux `JSONSerialization` misreads decimals: it
    /// disagreed with `JSONDecoder` by 1–3 ulps on a third of 600,000 random doubles as Swift
    /// prints them, such as `0.8775887180790606`, where `JSONDecoder` reads back the bits printed),
    /// and an object with a key twice (`JSONDecoder` keeps the first, `JSONSerialization` the last).
    /// `JSONValueParsingTests` checks that both give the same tree, or both fail.
    ///
    /// - Parameter data: UTF-8 JSON; a top-level scalar is accepted, as `JSONDecoder` accepts it.
    /// - Throws: `JSONDecoder`'s `DecodingError` when `data` is not JSON.
    public init(json data: Data) throws {
        self = try Self.parsedByFoundation(data) ?? JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// The tree from `JSONSerialization`; `nil` when it fails, or where it could differ from
    /// `JSONDecoder`'s.
    static func parsedByFoundation(_ data: Data) -> JSONValue? {
        // why: both parsers also read UTF-16 and UTF-32, and a byte order mark; the member count
        // below reads UTF-8, so anything else is left to the decoder (JSON in UTF-16 or UTF-32
        // has a zero byte in its first two)
        guard let first = data.first, first != 0, first < 0xEF, data.dropFirst().first != 0 else {
            return nil
        }
        guard let object = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            return nil
        }
        var members = 0
        guard let value = JSONValue(foundationObject: object, members: &members), members == memberCount(of: data)
        else {
            return nil
        }
        return value
    }

    /// The tree of what `JSONSerialization` returned, counting the members of its objects; `nil`
    /// for a number other than a boolean or a signed integer, and for anything it never returns.
    private init?(foundationObject object: Any, members: inout Int) {
        // why by exact type first: on Linux JSONSerialization returns Swift's own String, [Any]
        // and [String: Any], and a cast that fails tries to bridge (an object asked whether it
        // is an array, a number whether it is a string), which cost more than the casts that
        // succeed: half the conversion of a brief (a throwaway swiftc -O timing, 41 -> 26 us)
        let type = ObjectIdentifier(Swift.type(of: object))
        if type == Self.stringType, let string = object as? String {
            self = .string(string)
            return
        }
        if type == Self.objectType, let dictionary = object as? [String: Any] {
            guard let value = Self.object(dictionary, members: &members) else {
                return nil
            }
            self = value
            return
        }
        if type == Self.arrayType, let array = object as? [Any] {
            guard let value = Self.array(array, members: &members) else {
                return nil
            }
            self = value
            return
        }
        // why containers before numbers: on Linux, asking whether a Swift array or dictionary
        // is an NSNumber bridges it to Foundation whole, which cost more than parsing
        switch object {
        case let string as String:
            self = .string(string)
        case let array as [Any]:
            guard let value = Self.array(array, members: &members) else {
                return nil
            }
            self = value
        case let dictionary as [String: Any]:
            guard let value = Self.object(dictionary, members: &members) else {
                return nil
            }
            self = value
        case let number as NSNumber:
            guard let value = Self.value(of: number) else {
                return nil
            }
            self = value
        case is NSNull:
            self = .null
        default:
            return nil
        }
    }

    private static let stringType = ObjectIdentifier(String.self)
    private static let arrayType = ObjectIdentifier([Any].self)
    private static let objectType = ObjectIdentifier([String: Any].self)

    private static func array(_ array: [Any], members: inout Int) -> JSONValue? {
        var elements: [JSONValue] = []
        elements.reserveCapacity(array.count)
        for element in array {
            guard let value = JSONValue(foundationObject: element, members: &members) else {
                return nil
            }
            elements.append(value)
        }
        return .array(elements)
    }

    private static func object(_ dictionary: [String: Any], members: inout Int) -> JSONValue? {
        var values: [String: JSONValue] = [:]
        values.reserveCapacity(dictionary.count)
        for (key, member) in dictionary {
            guard let value = JSONValue(foundationObject: member, members: &members) else {
                return nil
            }
            values[key] = value
        }
        members += dictionary.count
        return .object(values)
    }

    /// How many members the objects of a JSON document have together, written: its colons
    /// outside strings. More than the parsed objects hold means a key came twice.
    private static func memberCount(of data: Data) -> Int {
        data.withUnsafeBytes { bytes in
            var count = 0
            JSONText.forEachByteOutsideStrings(of: bytes) { byte in
                if byte == UInt8(ascii: ":") {
                    count += 1
                }
                return true
            }
            return count
        }
    }

    private static let booleanType = type(of: NSNumber(value: true))

    /// A boolean or a signed integer, as `Decodable` reads it; `nil` for any other number.
    private static func value(of number: NSNumber) -> JSONValue? {
        if type(of: number) == booleanType {
            return .bool(number.boolValue)
        }
        switch UInt8(bitPattern: number.objCType.pointee) {
        case UInt8(ascii: "c"), UInt8(ascii: "s"), UInt8(ascii: "i"), UInt8(ascii: "l"), UInt8(ascii: "q"):
            return .integer(number.int64Value)
        default:
            return nil
        }
    }
}
