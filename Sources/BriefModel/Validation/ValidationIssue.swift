/// One problem found in a document: where it is and what is wrong.
public struct ValidationIssue: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The field path, such as `sources[1].highlights[0]`; `$` for the document itself.
    public var path: String
    /// What is wrong, for people: `empty`, `missing`, `expected string, found number`.
    public var reason: String
    /// What is wrong, for programs, on the issues a client acts on (``unknownBrief``); `nil` on
    /// the others, which only people read.
    public var code: String?

    /// The issue of a mutation whose brief does not exist (never published, or retracted and
    /// purged): the mutation can never apply, so a device may drop it.
    public static let unknownBrief = "unknown_brief"

    /// Creates an issue at a path.
    public init(path: String, reason: String, code: String? = nil) {
        self.path = path
        self.reason = reason
        self.code = code
    }

    public var description: String { "\(path): \(reason)" }
}

/// A document that failed validation, with every issue found, in document order.
public struct DocumentValidationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// All the issues, never empty.
    public var issues: [ValidationIssue]

    /// Creates an error from the issues found.
    public init(issues: [ValidationIssue]) {
        self.issues = issues
    }

    public var description: String {
        "invalid document (\(issues.count) \(issues.count == 1 ? "issue" : "issues")): "
            + issues.map(\.description).joined(separator: "; ")
    }
}

/// What validation does with an object key it does not know.
public enum UnknownFieldPolicy: Sendable, Hashable {
    /// An unknown key is an issue. Publishers' documents are read this way: an unknown key there is
    /// most likely a typo that would otherwise lose data silently.
    case reject
    /// Unknown keys are skipped. Devices read the server's messages this way, so that a server may
    /// add optional fields within one protocol version.
    case ignore
}
