import BriefModel
import PropertyBased
import Testing

/// The laws that make every replica converge, each over 10,000 generated cases. A failure prints
/// the seed; keep it as a regression test with `@Test(.fixedSeed("…"))`.
@Suite struct MergeLawTests {
    static let cases = 10_000

    @Test func mergeIsCommutative() async {
        await propertyCheck(count: Self.cases, input: Gens.state, Gens.state) { a, b in
            #expect(merge(a, b) == merge(b, a))
        }
    }

    @Test func mergeIsAssociative() async {
        await propertyCheck(count: Self.cases, input: Gens.state, Gens.state, Gens.state) { a, b, c in
            #expect(merge(merge(a, b), c) == merge(a, merge(b, c)))
        }
    }

    @Test func mergeIsIdempotent() async {
        await propertyCheck(count: Self.cases, input: Gens.state, Gens.state) { a, b in
            #expect(merge(a, a) == a)
            let ab = merge(a, b)
            #expect(merge(ab, b) == ab)
        }
    }

    @Test func emptyStateIsTheIdentity() async {
        await propertyCheck(count: Self.cases, input: Gens.state) { a in
            #expect(merge(a, ReadState(briefID: a.briefID)) == a)
        }
    }

    @Test func applyingAnActionIsMergingItsState() async {
        // Applying on a replica and merging with a replica that applied it agree: the op and
        // state views of the rules are one rule.
        await propertyCheck(count: Self.cases, input: Gens.state, Gens.event) { state, event in
            let single = ReadState(briefID: state.briefID).applying([event])
            #expect(state.applying([event]) == merge(state, single))
        }
    }

    /// Any number of replicas that receive the same events, each in its own order and some more
    /// than once, end equal; and equal to merging the replicas' states in any order.
    @Test func replicasConverge() async {
        await propertyCheck(count: Self.cases, input: Gens.events, Gen.int(in: 2...5), Gen.uint64(in: 0...UInt64.max)) {
            events,
            replicaCount,
            seed in
            var rng = SplitMix(state: seed)
            let replicas = (0..<replicaCount).map { _ in
                var delivery = events.shuffled(using: &rng)
                for _ in 0..<Int.random(in: 0...3, using: &rng) {
                    delivery.insert(
                        events.randomElement(using: &rng)!,
                        at: Int.random(in: 0...delivery.count, using: &rng)
                    )
                }
                return ReadState(briefID: Gens.briefID).applying(delivery)
            }
            for replica in replicas.dropFirst() {
                #expect(replica == replicas[0], "events \(events)")
            }
            let merged = replicas.shuffled(using: &rng).reduce(ReadState(briefID: Gens.briefID), merge)
            #expect(merged == replicas[0])
        }
    }

    /// An action newer than everything a state has seen shows its effect after merging with that
    /// state: an unacknowledged local change is never flipped back by older server state.
    @Test func newestActionIsNeverLost() async {
        await propertyCheck(count: Self.cases, input: Gens.state, Gens.state, Gens.action) { local, server, action in
            let newest = [local.latestStamp, server.latestStamp].compactMap { $0 }.max()
            let stamp = HybridTimestamp(wall: (newest?.wall ?? 0) + 1, device: Gens.devices[0])
            let result = merge(server, local.applying(action, at: stamp))
            switch action {
            case .markRead: #expect(result.isRead)
            case .markUnread: #expect(!result.isRead)
            case .save: #expect(result.isSaved)
            case .unsave: #expect(!result.isSaved)
            case .progress(let value): #expect(result.progressValue >= value)
            case .restartProgress(let value): #expect(result.progressValue == value)
            case .open: #expect(result.lastOpenedAt == stamp.wall)
            }
        }
    }
}

@Suite struct ReadStateRuleTests {
    let brief = Gens.briefID
    let a = Gens.devices[0]
    let b = Gens.devices[1]

    @Test func readStaysReadUnlessAnUnreadIsNewer() {
        let read = ReadState(briefID: brief).applying(.markRead, at: HybridTimestamp(wall: 10, device: a))
        let olderUnread = ReadState(briefID: brief).applying(.markUnread, at: HybridTimestamp(wall: 5, device: b))
        let newerUnread = ReadState(briefID: brief).applying(.markUnread, at: HybridTimestamp(wall: 11, device: b))
        #expect(merge(read, olderUnread).isRead)
        #expect(!merge(read, newerUnread).isRead)
    }

    @Test func progressKeepsTheFurthestPointUnlessARestartIsNewer() {
        let s = { (wall: Int64, device: DeviceID) in HybridTimestamp(wall: wall, device: device) }
        // Device a reads to 90%, then (not knowing) device b reports 30% later on.
        let deviceA = ReadState(briefID: brief).applying(.progress(0.9), at: s(5, a))
        let deviceB = ReadState(briefID: brief).applying(.progress(0.3), at: s(10, b))
        #expect(merge(deviceA, deviceB).progressValue == 0.9)
        // A restart at 7 discards the 90% mark but not b's later 30%: the staircase kept it.
        let restart = ReadState(briefID: brief).applying(.restartProgress(0), at: s(7, a))
        #expect(merge(merge(deviceA, deviceB), restart).progressValue == 0.3)
        #expect(merge(deviceA, merge(deviceB, restart)).progressValue == 0.3)
        // A restart newer than everything wins.
        let lateRestart = ReadState(briefID: brief).applying(.restartProgress(0.1), at: s(20, b))
        #expect(merge(merge(deviceA, deviceB), lateRestart).progressValue == 0.1)
    }

    @Test func savedIsLastWriterWinsWithDeviceTieBreak() {
        let save = ReadState(briefID: brief).applying(.save, at: HybridTimestamp(wall: 10, counter: 0, device: b))
        let unsave = ReadState(briefID: brief).applying(.unsave, at: HybridTimestamp(wall: 10, counter: 0, device: a))
        // Same wall time and counter: device "b" > "a", so b's save is the later action everywhere.
        #expect(merge(save, unsave).isSaved)
        #expect(merge(unsave, save).isSaved)
    }
}
