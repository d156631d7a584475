/// Where a value stands in a document, written as `sources[1].highlights[0]`.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    enum Component: Sendable, Hashable {
        case key(String)
        case index(Int)
    }

    private var components: [Component]

    /// The document itself.
    public static let root = FieldPath(components: [])

    /// The path of a member of the object at this path.
    public func appending(_ key: String) -> FieldPath {
        FieldPath(components: components + [.key(key)])
    }

    /// The path of an element of the array at this path.
    public func appending(_ index: Int) -> FieldPath {
        FieldPath(components: components + [.index(index)])
    }

    public var description: String {
        var text = ""
        for component in components {
            switch component {
            case .key(let key):
                text += text.isEmpty ? key : ".\(key)"
            case .index(let index):
                text += "[\(index)]"
            }
        }
        return text.isEmpty ? "$" : text
    }
}
