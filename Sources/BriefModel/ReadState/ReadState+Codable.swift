// The wire form of a read-state: the derived values a reader needs at the top, and under
// "clock" the stamps that merging needs. The derived values are informational: decoding
// recomputes them from the stamps, so a message can never make them disagree.
//
//     {"briefId": "ai-tech-2026-06-26", "isRead": true, "isSaved": false, "progress": 0.4,
//      "lastOpenedAt": 1782460800000,
//      "clock": {"read": {"setAt": {…}}, "saved": {}, "progress": {"marks": [{"value": 0.4, "stamp": {…}}]},
//                "openedAt": {…}}}
extension ReadState: Codable {
    enum CodingKeys: String, CodingKey {
        case briefId, isRead, isSaved, progress, lastOpenedAt, clock
    }

    struct Clock: Codable {
        var read: FlagRegister
        var saved: FlagRegister
        var progress: ProgressRegister
        var openedAt: HybridTimestamp?
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let clock = try container.decode(Clock.self, forKey: .clock)
        self.init(
            briefID: try container.decode(BriefID.self, forKey: .briefId),
            read: clock.read,
            saved: clock.saved,
            progress: clock.progress,
            openedAt: clock.openedAt
        )
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(briefID, forKey: .briefId)
        try container.encode(isRead, forKey: .isRead)
        try container.encode(isSaved, forKey: .isSaved)
        try container.encode(progressValue, forKey: .progress)
        try container.encodeIfPresent(lastOpenedAt, forKey: .lastOpenedAt)
        try container.encode(Clock(read: read, saved: saved, progress: progress, openedAt: openedAt), forKey: .clock)
    }
}

extension ProgressRegister {
    enum CodingKeys: String, CodingKey {
        case restartedAt, marks
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let marks = try container.decode([Mark].self, forKey: .marks)
        guard marks.allSatisfy({ $0.value.isFinite && (0...1).contains($0.value) }) else {
            throw DecodingError.dataCorruptedError(
                forKey: .marks,
                in: container,
                debugDescription: "progress must be between 0 and 1"
            )
        }
        self.init(restartedAt: try container.decodeIfPresent(HybridTimestamp.self, forKey: .restartedAt), marks: marks)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(restartedAt, forKey: .restartedAt)
        try container.encode(marks, forKey: .marks)
    }
}
