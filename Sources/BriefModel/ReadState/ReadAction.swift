/// What a reader does to a brief's state; one action per mutation.
public enum ReadAction: Sendable, Hashable {
    /// Mark the brief read.
    case markRead
    /// Mark the brief unread: the one action that turns read off.
    case markUnread
    /// Save the brief for later.
    case save
    /// Remove the brief from the saved ones.
    case unsave
    /// Report the reading position, 0…1; progress keeps the furthest point.
    case progress(Double)
    /// Start over at the given position (0 for the beginning): earlier positions stop counting.
    case restartProgress(Double)
    /// Record that the brief was opened.
    case open

    /// The action's name on the wire: `read`, `unread`, `save`, `unsave`, `progress`, `restart`, `open`.
    public var name: String {
        switch self {
        case .markRead: "read"
        case .markUnread: "unread"
        case .save: "save"
        case .unsave: "unsave"
        case .progress: "progress"
        case .restartProgress: "restart"
        case .open: "open"
        }
    }

    /// The position carried by `progress` and `restart`.
    public var value: Double? {
        switch self {
        case .progress(let value), .restartProgress(let value): value
        default: nil
        }
    }

    /// Builds an action from its wire name and value.
    ///
    /// - Returns: The action, or a reason for people when the name is unknown, a value is missing
    ///   or not allowed, or a position is outside 0…1 or not a number.
    public static func make(name: String, value: Double?) -> Result<ReadAction, ReadActionError> {
        let positional: ((Double) -> ReadAction)?
        let plain: ReadAction?
        switch name {
        case "read": (positional, plain) = (nil, .markRead)
        case "unread": (positional, plain) = (nil, .markUnread)
        case "save": (positional, plain) = (nil, .save)
        case "unsave": (positional, plain) = (nil, .unsave)
        case "open": (positional, plain) = (nil, .open)
        case "progress": (positional, plain) = (ReadAction.progress, nil)
        case "restart": (positional, plain) = (ReadAction.restartProgress, nil)
        default: return .failure(ReadActionError(reason: "unknown action \"\(name)\""))
        }
        if let plain {
            return value == nil ? .success(plain) : .failure(ReadActionError(reason: "\"\(name)\" takes no value"))
        }
        guard let value, let positional else {
            return .failure(ReadActionError(reason: "\"\(name)\" needs a value"))
        }
        guard value.isFinite, (0...1).contains(value) else {
            return .failure(ReadActionError(reason: "progress must be between 0 and 1"))
        }
        return .success(positional(value))
    }
}

/// Why an action could not be built.
public struct ReadActionError: Error, Sendable, Hashable {
    /// Creates an error.
    public init(reason: String) {
        self.reason = reason
    }

    /// For people.
    public var reason: String
}
