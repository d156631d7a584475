/// How far ahead of the receiver's clock a stamp may be before it is pulled back.
///
/// A device whose wall clock runs ahead would otherwise win every conflict until real time caught
/// up with it, for as long as its clock stays wrong. The server admits every pushed stamp through
/// ``admit(_:receivedAt:)``: a stamp at most ``maxAhead`` milliseconds ahead of the server's clock
/// is kept; one further ahead is pulled back to the wall time `now + maxAhead` (same device),
/// and the clamped stamp is what the server stores, merges and sends back. So a stamp can beat
/// edits made at most `maxAhead` later in real time, never more. The device learns the clamped
/// stamp from the push result and its state converges with everyone else's.
///
/// Clamping keeps the order of the device's own stamps: the clamped counter says how far ahead
/// the stamp was (milliseconds, then its counter), so that a fast device's edits of one brief,
/// pushed together, still order as it made them. (Clamped to one stamp, they would tie; the
/// merge settles a tie the same way everywhere, but by its fixed rule, so a fast device's
/// "unread" could lose to its own earlier "read".) The order is exact for stamps up to about
/// nine hours ahead whose counters stay below 128; beyond that they may tie again.
public struct ClockSkewPolicy: Sendable, Hashable {
    /// The furthest a stamp may stand ahead of the receiver's clock, in milliseconds.
    public var maxAhead: Int64

    /// Creates a policy; the default allows 5 minutes, far above the drift of a synced phone clock.
    public init(maxAhead: Int64 = 5 * 60 * 1000) {
        self.maxAhead = max(0, maxAhead)
    }

    /// The stamp to store for one received at the receiver's wall time `now`.
    ///
    /// - Returns: `stamp` itself when it is within the bound; otherwise a stamp at `now + maxAhead`
    ///   whose counter orders it by how far ahead it was (``clampedCounter(excess:counter:)``).
    public func admit(_ stamp: HybridTimestamp, receivedAt now: Int64) -> HybridTimestamp {
        let limit = now + maxAhead
        guard stamp.wall > limit else {
            return stamp
        }
        return Self.clamp(stamp, toWall: limit)
    }

    /// `stamp` pulled back to the wall time `wall` (earlier than its own), its counter ordering
    /// it by how far ahead it was. The clamp depends on the stamp and `wall` alone, so a server
    /// that remembers the wall time it admitted a stamp at can admit it the same way again.
    public static func clamp(_ stamp: HybridTimestamp, toWall wall: Int64) -> HybridTimestamp {
        HybridTimestamp(
            wall: wall,
            counter: clampedCounter(excess: stamp.wall - wall, counter: stamp.counter),
            device: stamp.device
        )
    }

    /// The counter of a clamped stamp: its excess over the bound in milliseconds (at most
    /// 2²⁵ − 1, about nine hours) in the high 25 bits, its own counter (at most 127) in the low
    /// 7. Increasing in both, and at least 128 for any excess, so a clamped stamp comes after
    /// every stamp kept as it was at that wall time that has a counter below 128.
    public static func clampedCounter(excess: Int64, counter: UInt32) -> UInt32 {
        let high = UInt32(clamping: min(max(excess, 1), (1 << 25) - 1))
        return high << 7 | min(counter, 127)
    }
}
