import BriefModel
import HTTPTypes

extension ReaderItemQuery {
    /// How many item ids `stream/items/ids` lists unless `n` says otherwise, and the most it lists.
    static let defaultCount = 20
    static let maxCount = 10_000

    /// The query of `stream/items/ids` (and `mark-all-as-read`): the stream `stream` with the
    /// parameters the Google Reader API gives it.
    ///
    /// - `n`: how many (at most ``maxCount``; more is read as that many).
    /// - `r=o`: oldest first; newest first otherwise.
    /// - `ot`, `nt`: only briefs the server received at or after `ot`, or before `nt`, in
    ///   seconds since 1970 (received, not dated: a brief's date may be days before it arrived).
    /// - `xt`, `it`: leave out, or keep only, briefs in a state (read, starred), several allowed.
    /// - `c`: the continuation the previous page answered.
    ///
    /// - Throws: ``ReaderError`` 400 naming the malformed parameter.
    init(readerForm form: Form, stream: String) throws(ReaderError) {
        guard let selection = ReaderStreams.selection(of: stream) else {
            throw ReaderError(.badRequest, "s must be a feed/<topic> or a user/-/state/com.google/… stream")
        }
        var count = Self.defaultCount
        if let text = form.first("n") {
            guard let value = Int(text), value > 0 else {
                throw ReaderError(.badRequest, "n must be a positive whole number")
            }
            count = min(value, Self.maxCount)
        }
        self.init(scope: .all, limit: count)
        apply(selection)
        switch form.first("r") {
        case "o": oldestFirst = true
        case nil, "", "n", "d": oldestFirst = false
        default: throw ReaderError(.badRequest, "r must be o (oldest first) or n")
        }
        if let since = try Self.microseconds(form.first("ot"), name: "ot") {
            lowest = max(lowest, since)
        }
        if let before = try Self.microseconds(form.first("nt"), name: "nt") {
            highest = min(highest, before - 1)
        }
        for (name, keep) in [("xt", false), ("it", true)] {
            for target in form.all(name) {
                guard let selection = ReaderStreams.selection(of: target) else {
                    throw ReaderError(.badRequest, "\(name) must be a user/-/state/com.google/… stream")
                }
                switch (selection, keep) {
                case (.state(let state, _), _): apply(.state(state, keep))
                case (.label, false), (.everything, true): break  // no brief has a label; every one is listed
                case (.label, true), (.everything, false): ids = []  // only labelled briefs, or none
                case (.feed, _): throw ReaderError(.badRequest, "\(name) must be a state (read, starred) or a label")
                }
            }
        }
        if let text = form.first("c"), !text.isEmpty {
            guard let after = Int64(text) else {
                throw ReaderError(.badRequest, "c must be the continuation of the previous page")
            }
            if oldestFirst {
                lowest = after == .max ? after : max(lowest, after + 1)
                highest = after == .max ? .min : highest
            } else {
                highest = after == .min ? after : min(highest, after - 1)
                lowest = after == .min ? .max : lowest
            }
        }
    }

    /// Narrows the query to a stream, or to briefs in or out of a state.
    private mutating func apply(_ selection: ReaderStreams.Selection) {
        switch selection {
        case .everything: scope = .followed
        case .feed(let topic): scope = .topic(topic)
        case .label: ids = []
        case .state(let state, let value):
            // two filters that disagree (read and unread) match nothing
            if let current = state == .read ? read : saved, current != value {
                ids = []
            }
            if state == .read {
                read = value
            } else {
                saved = value
            }
        }
    }

    /// A time in seconds since 1970 as an item id bound (microseconds).
    private static func microseconds(_ text: String?, name: String) throws(ReaderError) -> Int64? {
        guard let text else {
            return nil
        }
        guard let seconds = Int64(text), seconds >= 0, seconds <= Int64.max / 1_000_000 else {
            throw ReaderError(.badRequest, "\(name) must be a time in seconds since 1970")
        }
        return seconds * 1_000_000
    }
}

extension ReaderStreams {
    /// What a stream id names.
    enum Selection: Hashable {
        /// The reading list: every brief of the topics followed.
        case everything
        case feed(TopicID)
        /// Briefs in a state (`true`) or not in it (`false`).
        case state(State, Bool)
        /// A label (a folder): BriefSync has none.
        case label
    }

    enum State: Hashable {
        case read, starred
    }

    /// The selection of a stream id; the user's own id may stand where clients write `-`.
    /// `nil` for a stream this API does not know.
    static func selection(of stream: String) -> Selection? {
        if let topic = ReaderAPIRoutes.topic(ofStream: stream) {
            return .feed(topic)
        }
        let parts = stream.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0] == "user" else {
            return nil
        }
        if parts[2] == "label" {
            return .label
        }
        guard parts.count == 5, parts[2] == "state", parts[3] == "com.google" else {
            return nil
        }
        switch parts[4] {
        case "reading-list": return .everything
        case "read": return .state(.read, true)
        case "starred": return .state(.starred, true)
        default: return .label  // kept-unread, fresh, like, broadcast…: states no brief is in here
        }
    }
}
