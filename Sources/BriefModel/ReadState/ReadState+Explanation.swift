/// Why a read-state shows what it shows: for each field, its value, the stamp of the action that
/// decided it, and the rule of ``ReadState`` that chose that action (what `brief-device explain`
/// prints).
public struct FieldExplanation: Sendable, Hashable, Codable {
    /// The fields of a read-state, as the wire and the explanation name them.
    public enum Field: String, Sendable, Hashable, Codable, CaseIterable {
        case read, saved, progress, lastOpened

        /// Whether `action` changes this field.
        public func isChanged(by action: ReadAction) -> Bool {
            switch (self, action) {
            case (.read, .markRead), (.read, .markUnread), (.saved, .save), (.saved, .unsave),
                (.progress, .progress), (.progress, .restartProgress), (.lastOpened, .open):
                true
            default:
                false
            }
        }
    }

    /// Which field.
    public var field: Field
    /// Its value: a boolean, a fraction, or the wall time of the last open (or `null`).
    public var value: JSONValue
    /// The stamp of the action that decided the value; `nil` when no action has been seen.
    public var stamp: HybridTimestamp?
    /// The rule that made that action the winner, for people.
    public var rule: String

    /// Creates an explanation.
    public init(field: Field, value: JSONValue, stamp: HybridTimestamp?, rule: String) {
        self.field = field
        self.value = value
        self.stamp = stamp
        self.rule = rule
    }
}

extension ReadState {
    /// Each field's value, the stamp that decided it and the rule that chose it.
    public func explanation() -> [FieldExplanation] {
        [
            Self.flag(.read, read, set: "mark read", clear: "mark unread"),
            Self.flag(.saved, saved, set: "save", clear: "unsave"),
            progressExplanation(),
            FieldExplanation(
                field: .lastOpened,
                value: openedAt.map { .integer($0.wall) } ?? .null,
                stamp: openedAt,
                rule: openedAt == nil ? "never opened" : "the latest open wins"
            ),
        ]
    }

    private static func flag(_ field: FieldExplanation.Field, _ register: FlagRegister, set: String, clear: String)
        -> FieldExplanation
    {
        let rule: String
        switch (register.setAt, register.clearedAt) {
        case (nil, nil):
            rule = "no \(set) or \(clear) seen: the default"
        case (.some, nil):
            rule = "\(set), and no \(clear) seen"
        case (nil, .some):
            rule = "\(clear), and no \(set) seen"
        case (.some(let setAt), .some(let clearedAt)) where setAt > clearedAt:
            rule = "\(set) is newer than the latest \(clear): the newest explicit action wins"
        case (.some(let setAt), .some(let clearedAt)) where setAt == clearedAt:
            rule = "\(set) and \(clear) share a stamp: \(clear) wins the tie"
        case (.some, .some):
            rule = "\(clear) is newer than the latest \(set): the newest explicit action wins"
        }
        return FieldExplanation(field: field, value: .bool(register.value), stamp: register.decidedAt, rule: rule)
    }

    private func progressExplanation() -> FieldExplanation {
        let rule: String
        switch (progress.marks.first, progress.restartedAt) {
        case (nil, nil):
            rule = "not started"
        case (nil, .some):
            rule = "restarted, and nothing reported since"
        case (.some, nil):
            rule = "the furthest point reported"
        case (.some, .some):
            rule = "the furthest point reported since the latest restart (earlier positions no longer count)"
        }
        return FieldExplanation(
            field: .progress,
            value: .number(progress.value),
            stamp: progress.decidedAt,
            rule: rule
        )
    }
}
