import BriefModel
import Foundation

/// Files of the repository the tests read: the examples and schemas under `Schema/`, shared with
/// the server and client tests.
enum Repository {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func url(_ relativePath: String) -> URL {
        root.appendingPathComponent(relativePath)
    }

    static func data(_ relativePath: String) throws -> Data {
        try Data(contentsOf: url(relativePath))
    }

    static func text(_ relativePath: String) throws -> String {
        try String(decoding: data(relativePath), as: UTF8.self)
    }

    static func json(_ relativePath: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: data(relativePath))
    }

    static let exampleBriefPath = "Schema/examples/brief-ai-tech-2026-06-26.json"
    static let seedTextPath = "Schema/examples/brief-ai-tech-2026-06-26.txt"

    static func exampleBrief() throws -> Brief {
        try Brief.validate(json(exampleBriefPath))
    }
}

extension JSONValue {
    /// The value with an edit applied at a path of keys and indices, for building invalid documents.
    func replacing(_ path: [Any], with newValue: JSONValue?) -> JSONValue {
        guard let head = path.first else {
            return newValue ?? .null
        }
        let rest = Array(path.dropFirst())
        switch (self, head) {
        case (.object(var members), let key as String):
            if rest.isEmpty && newValue == nil {
                members[key] = nil
            } else {
                members[key] = (members[key] ?? .null).replacing(rest, with: newValue)
            }
            return .object(members)
        case (.array(var elements), let index as Int):
            if rest.isEmpty && newValue == nil {
                elements.remove(at: index)
            } else {
                elements[index] = elements[index].replacing(rest, with: newValue)
            }
            return .array(elements)
        default:
            preconditionFailure("path \(path) does not fit \(self.typeName)")
        }
    }
}
