import BriefModel
import Foundation

/// Checks a JSON value against the subset of JSON Schema (2020-12) that `Schema/` uses: types,
/// properties, required, additionalProperties, items, enum, const, oneOf, string and number
/// bounds, patterns and `$ref` (inside a document, or to `./brief.schema.json`). Anything else in
/// a schema is reported, so the subset cannot silently grow out from under the tests.
struct SchemaValidator {
    /// Documents by name: "openapi" (the OpenAPI file as JSON) and "./brief.schema.json".
    let documents: [String: JSONValue]

    func validate(_ value: JSONValue, against schema: JSONValue, in document: String, at path: String = "$") -> [String]
    {
        guard case .object(let keywords) = schema else {
            return schema == .bool(true) ? [] : ["\(path): schema is not an object"]
        }
        var problems: [String] = []
        for key in keywords.keys where !Self.known.contains(key) && !key.hasPrefix("x-") {
            problems.append("\(path): unsupported keyword \(key)")
        }
        if case .string(let reference)? = keywords["$ref"] {
            problems +=
                follow(reference, from: document).map { target, targetDocument in
                    validate(value, against: target, in: targetDocument, at: path)
                } ?? ["\(path): unresolved $ref \(reference)"]
        }
        if let type = keywords["type"], !matches(value, type: type) {
            let expected: String = if case .string(let name) = type { name } else { "\(type)" }
            problems.append("\(path): expected \(expected), found \(value.typeName)")
        }
        if let constant = keywords["const"], constant != value {
            problems.append("\(path): expected \(constant)")
        }
        if case .array(let options)? = keywords["enum"], !options.contains(value) {
            problems.append("\(path): not one of the enumerated values")
        }
        if case .array(let options)? = keywords["oneOf"] {
            let passing = options.filter { validate(value, against: $0, in: document, at: path).isEmpty }.count
            if passing != 1 {
                problems.append("\(path): matches \(passing) of oneOf, not exactly one")
            }
        }
        switch value {
        case .string(let text): problems += string(text, keywords, path)
        case .integer, .number: problems += number(value.doubleValue ?? 0, keywords, path)
        case .array(let elements): problems += array(elements, keywords, document, path)
        case .object(let members): problems += object(members, keywords, document, path)
        default: break
        }
        return problems
    }

    private static let known: Set<String> = [
        "$ref", "$schema", "$id", "$defs", "title", "description", "type", "properties", "required",
        "additionalProperties", "items", "enum", "const", "oneOf", "minLength", "maxLength", "pattern", "minimum",
        "maximum", "minItems", "maxItems", "default", "examples",
    ]

    private func follow(_ reference: String, from document: String) -> (JSONValue, String)? {
        let parts = reference.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)
        let target = parts[0].isEmpty ? document : String(parts[0])
        guard var node = documents[target] else {
            return nil
        }
        let pointer = parts.count > 1 ? parts[1].split(separator: "/").map(String.init) : []
        for component in pointer {
            guard let next = node[component] else {
                return nil
            }
            node = next
        }
        return (node, target)
    }

    private func matches(_ value: JSONValue, type: JSONValue) -> Bool {
        switch (type, value) {
        case (.array(let types), _): types.contains { matches(value, type: $0) }
        case (.string("integer"), .integer): true
        case (.string("integer"), .number(let real)): real.rounded() == real
        case (.string("number"), .integer), (.string("number"), .number): true
        case (.string(let name), _): name == value.typeName
        default: false
        }
    }

    private func string(_ text: String, _ keywords: [String: JSONValue], _ path: String) -> [String] {
        var problems: [String] = []
        if let min = keywords["minLength"]?.doubleValue, Double(text.count) < min {
            problems.append("\(path): shorter than \(Int(min))")
        }
        if let max = keywords["maxLength"]?.doubleValue, Double(text.count) > max {
            problems.append("\(path): longer than \(Int(max))")
        }
        if case .string(let pattern)? = keywords["pattern"],
            (try? Regex(pattern)).map({ text.contains($0) }) != true
        {
            problems.append("\(path): does not match \(pattern)")
        }
        return problems
    }

    private func number(_ number: Double, _ keywords: [String: JSONValue], _ path: String) -> [String] {
        var problems: [String] = []
        if let min = keywords["minimum"]?.doubleValue, number < min {
            problems.append("\(path): below \(min)")
        }
        if let max = keywords["maximum"]?.doubleValue, number > max {
            problems.append("\(path): above \(max)")
        }
        return problems
    }

    private func array(_ elements: [JSONValue], _ keywords: [String: JSONValue], _ document: String, _ path: String)
        -> [String]
    {
        var problems: [String] = []
        if let min = keywords["minItems"]?.doubleValue, Double(elements.count) < min {
            problems.append("\(path): fewer than \(Int(min)) items")
        }
        if let max = keywords["maxItems"]?.doubleValue, Double(elements.count) > max {
            problems.append("\(path): more than \(Int(max)) items")
        }
        if let items = keywords["items"] {
            for (index, element) in elements.enumerated() {
                problems += validate(element, against: items, in: document, at: "\(path)[\(index)]")
            }
        }
        return problems
    }

    private func object(
        _ members: [String: JSONValue],
        _ keywords: [String: JSONValue],
        _ document: String,
        _ path: String
    ) -> [String] {
        var problems: [String] = []
        if case .array(let required)? = keywords["required"] {
            for case .string(let key) in required where members[key] == nil {
                problems.append("\(path).\(key): missing")
            }
        }
        let properties: [String: JSONValue] = if case .object(let p)? = keywords["properties"] { p } else { [:] }
        for (key, member) in members.sorted(by: { $0.key < $1.key }) {
            if let schema = properties[key] {
                problems += validate(member, against: schema, in: document, at: "\(path).\(key)")
            } else if keywords["additionalProperties"] == .bool(false) {
                problems.append("\(path).\(key): not allowed")
            }
        }
        return problems
    }
}
