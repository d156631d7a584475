import BriefModel

/// Applies one device's push to the read-states it touches: exactly once, in order, with stamps
/// admitted through the clock-skew bound. Pure, so that every store applies pushes the same way.
public struct PushApplier: Sendable {
    /// The bound on stamps ahead of the server's clock.
    public var skew: ClockSkewPolicy

    /// Creates an applier.
    public init(skew: ClockSkewPolicy = ClockSkewPolicy()) {
        self.skew = skew
    }

    /// The outcome of one push.
    public struct Outcome: Sendable, Hashable {
        /// The merged state of every brief the push touched, in brief id order.
        public var states: [ReadState]
        /// The highest mutation id now applied for the device.
        public var lastAppliedID: UInt64
        /// How many mutations were applied now (the rest had been applied before).
        public var appliedCount: Int
    }

    /// Applies the mutations above `lastAppliedID` to `current`.
    ///
    /// - Parameters:
    ///   - push: A validated push (ids ascending, every stamp from the pushing device).
    ///   - lastAppliedID: The highest id of this device applied before.
    ///   - current: The stored states of the briefs the push names; absent ones start empty.
    ///   - now: The server's wall time in milliseconds since 1970.
    /// - Returns: The states to store and return, and the new last applied id. A mutation at or
    ///   below `lastAppliedID` is acknowledged without being applied again.
    public func apply(
        _ push: PushRequestV1,
        lastAppliedID: UInt64,
        current: [BriefID: ReadState],
        now: Int64
    ) -> Outcome {
        var states = current
        var touched = Set<BriefID>()
        var last = lastAppliedID
        var applied = 0
        for mutation in push.mutations {
            touched.insert(mutation.briefID)
            guard mutation.id > last else {
                continue  // a retry of a mutation already applied
            }
            let stamp = skew.admit(mutation.stamp, receivedAt: now)
            let state = states[mutation.briefID] ?? ReadState(briefID: mutation.briefID)
            states[mutation.briefID] = state.applying(mutation.action, at: stamp)
            last = mutation.id
            applied += 1
        }
        let result = touched.sorted().map { states[$0] ?? ReadState(briefID: $0) }
        return Outcome(states: result, lastAppliedID: last, appliedCount: applied)
    }
}
