import BriefModel
import Testing

@Suite struct ReadStateExplanationTests {
    let brief = BriefID(rawValue: "b-1")!
    let phone = DeviceID(rawValue: "phone")!
    let tablet = DeviceID(rawValue: "tablet")!

    func field(_ state: ReadState, _ field: FieldExplanation.Field) throws -> FieldExplanation {
        try #require(state.explanation().first { $0.field == field })
    }

    @Test func theNewestExplicitActionIsNamedAsTheWinner() throws {
        let read = HybridTimestamp(wall: 10, device: phone)
        let unread = HybridTimestamp(wall: 20, device: tablet)
        let state = ReadState(briefID: brief).applying(.markRead, at: read).applying(.markUnread, at: unread)
        let explained = try field(state, .read)
        #expect(explained.value == .bool(false) && explained.stamp == unread)
        #expect(explained.rule == "mark unread is newer than the latest mark read: the newest explicit action wins")
        // the same actions the other way round
        let reversed = try field(
            ReadState(briefID: brief).applying(.markUnread, at: read).applying(.markRead, at: unread),
            .read
        )
        #expect(reversed.value == .bool(true) && reversed.stamp == unread)
        #expect(reversed.rule.hasPrefix("mark read is newer"))
    }

    @Test func aTieGoesToTheClear() throws {
        let stamp = HybridTimestamp(wall: 10, device: phone)
        let state = ReadState(briefID: brief).applying(.save, at: stamp).applying(.unsave, at: stamp)
        let explained = try field(state, .saved)
        #expect(explained.value == .bool(false) && explained.rule.contains("unsave wins the tie"))
    }

    @Test func progressNamesTheFurthestPointSinceTheLatestRestart() throws {
        let state = ReadState(briefID: brief)
            .applying(.progress(0.9), at: HybridTimestamp(wall: 10, device: phone))
            .applying(.restartProgress(0), at: HybridTimestamp(wall: 20, device: tablet))
            .applying(.progress(0.3), at: HybridTimestamp(wall: 30, device: phone))
        let explained = try field(state, .progress)
        #expect(explained.value == .number(0.3))
        #expect(explained.stamp == HybridTimestamp(wall: 30, device: phone))
        #expect(explained.rule.contains("since the latest restart"))
        #expect(try field(ReadState(briefID: brief), .progress).rule == "not started")
        #expect(try field(ReadState(briefID: brief), .lastOpened).value == .null)
    }

    @Test func everyFieldIsExplainedAndEveryActionChangesOne() {
        #expect(ReadState(briefID: brief).explanation().map(\.field) == FieldExplanation.Field.allCases)
        let actions: [ReadAction] = [
            .markRead, .markUnread, .save, .unsave, .progress(0.5), .restartProgress(0), .open,
        ]
        for action in actions {
            #expect(FieldExplanation.Field.allCases.filter { $0.isChanged(by: action) }.count == 1, "\(action)")
        }
    }
}
