import BriefModel
import BriefServer
import Testing

@Suite struct PushApplierTests {
    let phone = DeviceID(rawValue: "phone")!
    let brief = BriefID(rawValue: "b-1")!
    let other = BriefID(rawValue: "b-2")!

    func push(_ mutations: [(UInt64, BriefID, ReadAction, Int64)]) -> PushRequestV1 {
        PushRequestV1(
            deviceID: phone,
            incarnation: "i-1",
            mutations: mutations.map {
                MutationV1(id: $0, briefID: $1, action: $2, stamp: HybridTimestamp(wall: $3, device: phone))
            }
        )
    }

    func states(_ outcome: PushApplier.Outcome) -> [BriefID: ReadState] {
        Dictionary(uniqueKeysWithValues: outcome.states.map { ($0.briefID, $0) })
    }

    /// A Reader API session's push is the server's to number: whatever ids it carries, each
    /// mutation is applied, above the cursor, stamped at the server's time with its id as the
    /// counter, so a later mark of the same session wins within one millisecond too.
    @Test func aPushTheServerNumbersIsAlwaysAppliedAndItsStampsAscend() throws {
        let applier = PushApplier(numbersMutations: true)
        let read = push([(0, brief, .markRead, 99_999_999), (0, other, .save, 5)])
        let first = try applier.apply(read, cursor: .initial, current: [:], now: 1_000)
        #expect(first.appliedCount == 2 && first.lastAppliedID == 2)
        let cursor = try #require(first.cursor)
        let unread = push([(0, brief, .markUnread, 1)])
        let second = try applier.apply(unread, cursor: cursor, current: states(first), now: 1_000)
        #expect(second.appliedCount == 1 && second.lastAppliedID == 3)
        let state = try #require(states(second)[brief])
        #expect(!state.isRead)
        #expect(state.read.setAt == HybridTimestamp(wall: 1_000, counter: 1, device: phone))
        #expect(state.read.clearedAt == HybridTimestamp(wall: 1_000, counter: 3, device: phone))
        // the same push again is a new mark, not a retry
        let again = try applier.apply(unread, cursor: try #require(second.cursor), current: states(second), now: 1_001)
        #expect(again.appliedCount == 1 && again.lastAppliedID == 4)
        // without numbering the same ids would be a conflict
        #expect(throws: PushConflict.self) {
            try PushApplier().apply(self.push([(1, self.brief, .markUnread, 1)]), cursor: cursor, current: [:], now: 1)
        }
    }

    @Test func retriedMutationsAreAcknowledgedNotReapplied() throws {
        let applier = PushApplier()
        let batch = push([(1, brief, .markRead, 10), (2, brief, .progress(0.5), 11), (3, other, .save, 12)])
        let first = try applier.apply(batch, cursor: .initial, current: [:], now: 1_000)
        #expect(first.lastAppliedID == 3 && first.appliedCount == 3)
        let cursor = try #require(first.cursor)

        // The same batch again, as after a lost response: nothing new is applied, the cursor stays.
        let retry = try applier.apply(batch, cursor: cursor, current: states(first), now: 2_000)
        #expect(retry.appliedCount == 0)
        #expect(retry.states == first.states)
        #expect(retry.lastAppliedID == 3)
        #expect(retry.cursor == nil)
    }

    @Test func aBatchOverlappingTheAppliedOnesAppliesOnlyTheNewTail() throws {
        let applier = PushApplier()
        let first = try applier.apply(push([(4, brief, .markRead, 10)]), cursor: .initial, current: [:], now: 1_000)
        let batch = push([(4, brief, .markRead, 10), (5, brief, .markUnread, 20)])
        let outcome = try applier.apply(batch, cursor: try #require(first.cursor), current: [:], now: 1_000)
        #expect(outcome.appliedCount == 1)
        #expect(outcome.states.map(\.isRead) == [false])
        #expect(outcome.states[0].read.setAt == nil)
        // The new cursor knows every mutation of this push, so its own retry is recognised too
        #expect(try #require(outcome.cursor).recent.keys.sorted() == [4, 5])
        #expect(try applier.apply(batch, cursor: try #require(outcome.cursor), current: [:], now: 2).appliedCount == 0)
    }

    @Test func anotherMutationUnderAnAppliedIdIsAConflict() throws {
        let applier = PushApplier()
        let original = try applier.apply(push([(5, brief, .markRead, 10)]), cursor: .initial, current: [:], now: 1)
        let cursor = try #require(original.cursor)
        // A copy of the store made mutation 5 too, with another action (or another stamp)
        #expect(throws: PushConflict(index: 0, mutationID: 5, lastAppliedID: 5)) {
            try applier.apply(push([(5, brief, .save, 10)]), cursor: cursor, current: [:], now: 2)
        }
        #expect(throws: PushConflict(index: 1, mutationID: 5, lastAppliedID: 5)) {
            try applier.apply(
                push([(5, brief, .markRead, 10), (5, other, .markRead, 11)]),
                cursor: cursor,
                current: [:],
                now: 2
            )
        }
    }

    @Test func anIdBelowTheRememberedPushIsAConflict() throws {
        let applier = PushApplier()
        var cursor = PushCursor.initial
        for id: UInt64 in 1...3 {
            cursor = try #require(
                try applier.apply(
                    push([(id, brief, .progress(Double(id) / 10), Int64(id))]),
                    cursor: cursor,
                    current: [:],
                    now: 1
                )
                .cursor
            )
        }
        // Mutation 1 was applied, but two pushes ago: the server can no longer show it is this one
        #expect(throws: PushConflict.self) {
            try applier.apply(push([(1, brief, .progress(0.1), 1)]), cursor: cursor, current: [:], now: 2)
        }
        // Nothing in it is at or below the cursor: no conflict
        #expect(try applier.apply(push([(4, brief, .save, 4)]), cursor: cursor, current: [:], now: 2).appliedCount == 1)
    }

    @Test func cursorsSurviveTheirStoredForm() throws {
        let cursor = PushCursor(lastAppliedID: 9, recent: [7: 0x0123_4567_89ab_cdef, 9: .max, 1 << 40: 0])
        let bytes = cursor.recentBytes
        #expect(bytes.count == 48)
        #expect(PushCursor(lastAppliedID: 9, recentBytes: bytes) == cursor)
        #expect(PushCursor(lastAppliedID: 0, recentBytes: []) == .initial)
    }

    @Test func stampsAheadOfTheServerAreClamped() throws {
        let applier = PushApplier(skew: ClockSkewPolicy(maxAhead: 100))
        let outcome = try applier.apply(push([(1, brief, .save, 99_999)]), cursor: .initial, current: [:], now: 1_000)
        #expect(outcome.states[0].saved.setAt?.wall == 1_100)
        #expect(outcome.clamped == [HybridTimestamp(wall: 99_999, device: phone): 1_100])
        // a stamp within the bound is kept and not recorded
        let kept = try applier.apply(push([(2, brief, .save, 1_050)]), cursor: .initial, current: [:], now: 1_000)
        #expect(kept.clamped.isEmpty)
    }

    /// A copy of a store (a restored backup) pushes the fast clock's queue it copied again, under
    /// a new incarnation and later: given the wall time the first push admitted it at, the stamp
    /// is admitted the same way, so the old edit does not win over one made in between. Without
    /// it, the re-push is pulled back to the later time and the old "read" beats the newer
    /// "unread".
    @Test func aStampPulledBackBeforeIsAdmittedTheSameWayAgain() throws {
        let applier = PushApplier(skew: ClockSkewPolicy(maxAhead: 100))
        let fast = push([(1, brief, .markRead, 99_999)])
        let first = try applier.apply(fast, cursor: .initial, current: [:], now: 1_000)
        let tablet = DeviceID(rawValue: "tablet")!
        let newer = PushRequestV1(
            deviceID: tablet,
            mutations: [
                MutationV1(
                    id: 1,
                    briefID: brief,
                    action: .markUnread,
                    stamp: HybridTimestamp(wall: 1_500, device: tablet)
                )
            ]
        )
        let between = try applier.apply(newer, cursor: .initial, current: states(first), now: 1_500)
        #expect(between.states.map(\.isRead) == [false])
        var copy = fast
        copy.incarnation = "i-2"
        let again = try applier.apply(
            copy,
            cursor: .initial,
            current: states(between),
            clamped: first.clamped,
            now: 5_000
        )
        #expect(again.appliedCount == 1 && again.clamped.isEmpty)
        #expect(again.states.map(\.isRead) == [false])
        #expect(again.states[0].read.setAt == first.states[0].read.setAt)
        // the failure the remembered admission prevents
        let forgotten = try applier.apply(copy, cursor: .initial, current: states(between), now: 5_000)
        #expect(forgotten.states.map(\.isRead) == [true])
    }
}
