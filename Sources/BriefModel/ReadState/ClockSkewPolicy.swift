/// How far ahead of the receiver's clock a stamp may be before it is pulled back.
///
/// A device whose wall clock runs ahead would otherwise win every conflict until real time caught
/// up with it, for as long as its clock stays wrong. The server admits every pushed stamp through
/// ``admit(_:receivedAt:)``: a stamp at most ``maxAhead`` milliseconds ahead of the server's clock
/// is kept; one further ahead is clamped to exactly `now + maxAhead` (same counter and device),
/// and the clamped stamp is what the server stores, merges and sends back. So a stamp can beat
/// edits made at most `maxAhead` later in real time, never more. The device learns the clamped
/// stamp from the push result and its state converges with everyone else's.
public struct ClockSkewPolicy: Sendable, Hashable {
    /// The furthest a stamp may stand ahead of the receiver's clock, in milliseconds.
    public var maxAhead: Int64

    /// Creates a policy; the default allows 5 minutes, far above the drift of a synced phone clock.
    public init(maxAhead: Int64 = 5 * 60 * 1000) {
        self.maxAhead = max(0, maxAhead)
    }

    /// The stamp to store for one received at the receiver's wall time `now`.
    ///
    /// - Returns: `stamp` itself when it is within the bound; otherwise a stamp at `now + maxAhead`.
    public func admit(_ stamp: HybridTimestamp, receivedAt now: Int64) -> HybridTimestamp {
        let limit = now + maxAhead
        guard stamp.wall > limit else {
            return stamp
        }
        return HybridTimestamp(wall: limit, counter: stamp.counter, device: stamp.device)
    }
}
