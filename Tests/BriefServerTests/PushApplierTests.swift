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
            mutations: mutations.map {
                MutationV1(id: $0, briefID: $1, action: $2, stamp: HybridTimestamp(wall: $3, device: phone))
            }
        )
    }

    @Test func retriedMutationsAreAcknowledgedNotReapplied() {
        let applier = PushApplier()
        let batch = push([(1, brief, .markRead, 10), (2, brief, .progress(0.5), 11), (3, other, .save, 12)])
        let first = applier.apply(batch, lastAppliedID: 0, current: [:], now: 1_000)
        #expect(first.lastAppliedID == 3 && first.appliedCount == 3)

        // The same batch again, as after a lost response: nothing new is applied.
        let current = Dictionary(uniqueKeysWithValues: first.states.map { ($0.briefID, $0) })
        let retry = applier.apply(batch, lastAppliedID: first.lastAppliedID, current: current, now: 2_000)
        #expect(retry.appliedCount == 0)
        #expect(retry.states == first.states)
        #expect(retry.lastAppliedID == 3)
    }

    @Test func aBatchOverlappingTheAppliedOnesAppliesOnlyTheNewTail() {
        let applier = PushApplier()
        let batch = push([(4, brief, .markRead, 10), (5, brief, .markUnread, 20)])
        let outcome = applier.apply(batch, lastAppliedID: 4, current: [:], now: 1_000)
        #expect(outcome.appliedCount == 1)
        #expect(outcome.states.map(\.isRead) == [false])
        #expect(outcome.states[0].read.setAt == nil)
    }

    @Test func stampsAheadOfTheServerAreClamped() {
        let applier = PushApplier(skew: ClockSkewPolicy(maxAhead: 100))
        let outcome = applier.apply(push([(1, brief, .save, 99_999)]), lastAppliedID: 0, current: [:], now: 1_000)
        #expect(outcome.states[0].saved.setAt?.wall == 1_100)
    }
}
