import BriefModel
import PropertyBased
import Testing

@Suite struct ClockTests {
    let device = DeviceID(rawValue: "phone")!

    @Test func stampsAlwaysIncreaseEvenWhenTheWallClockGoesBack() async {
        await propertyCheck(count: 2_000, input: Gen.int64(in: 0...1_000).array(of: 1...40)) { nows in
            var clock = HybridClock(device: device)
            var previous: HybridTimestamp?
            for now in nows {
                let stamp = clock.tick(now: now)
                if let previous {
                    #expect(stamp > previous)
                }
                #expect(stamp.wall >= now)
                previous = stamp
            }
        }
    }

    @Test func observingARemoteStampMovesTheClockPastIt() {
        var clock = HybridClock(device: device)
        _ = clock.tick(now: 100)
        let remote = HybridTimestamp(wall: 5_000, counter: 7, device: DeviceID(rawValue: "tablet")!)
        clock.observe(remote)
        let next = clock.tick(now: 200)
        #expect(next > remote)
        #expect(next.wall == 5_000 && next.counter == 8)
    }

    @Test func aStampTooFarAheadIsClampedToTheBound() async {
        let policy = ClockSkewPolicy(maxAhead: 60_000)
        await propertyCheck(count: 10_000, input: Gen.int64(in: 0...10_000_000), Gen.int64(in: 0...10_000_000)) {
            wall,
            now in
            let stamp = HybridTimestamp(wall: wall, counter: 3, device: device)
            let admitted = policy.admit(stamp, receivedAt: now)
            #expect(admitted.wall <= now + 60_000)
            #expect(admitted == stamp || wall > now + 60_000)
            #expect(admitted.device == device)
        }
    }

    /// A fast device's stamps keep their order when clamped, and never tie: its edits of one
    /// brief pushed together apply as it made them, on every replica alike.
    @Test func clampingKeepsTheOrderOfADevicesStamps() async {
        let policy = ClockSkewPolicy(maxAhead: 60_000)
        await propertyCheck(
            count: 10_000,
            input: Gen.int64(in: 0...30_000_000),
            Gen.int64(in: 0...30_000_000),
            Gen.int64(in: 0...1_000_000)
        ) { first, second, now in
            for (a, b) in [(UInt32(0), UInt32(1)), (UInt32(5), UInt32(2))] {
                let one = HybridTimestamp(wall: first, counter: a, device: device)
                let other = HybridTimestamp(wall: second, counter: b, device: device)
                let (x, y) = (policy.admit(one, receivedAt: now), policy.admit(other, receivedAt: now))
                // (within the documented range: less than 2^25 ms ahead of the bound)
                if max(first, second) - (now + 60_000) < 1 << 25 {
                    #expect((one < other) == (x < y) && x != y)
                }
            }
        }
    }

    @Test func aFastClockCannotWinForever() {
        // Given a device whose clock runs a day ahead marked a brief unread
        let policy = ClockSkewPolicy(maxAhead: 5 * 60_000)
        let now: Int64 = 1_000_000_000
        let fast = policy.admit(HybridTimestamp(wall: now + 86_400_000, device: device), receivedAt: now)
        let unread = ReadState(briefID: Gens.briefID).applying(.markUnread, at: fast)
        // When another device marks it read ten minutes later in real time
        let honest = HybridTimestamp(wall: now + 10 * 60_000, device: DeviceID(rawValue: "tablet")!)
        let read = ReadState(briefID: Gens.briefID).applying(
            .markRead,
            at: policy.admit(honest, receivedAt: now + 10 * 60_000)
        )
        // Then the honest, later action wins
        #expect(merge(unread, read).isRead)
    }
}
