import BriefModel
import Crypto
import Foundation

/// Applies one device's push to the read-states it touches: exactly once, in order, with stamps
/// admitted through the clock-skew bound. Pure, so that every store applies pushes the same way.
///
/// A push is judged against the cursor of its incarnation (``PushCursor``): a mutation above the
/// cursor is applied; one at or below it must be the very mutation applied before, by digest, or
/// the whole push is refused as a ``PushConflict`` (a copy of the store pushed under the same
/// incarnation; see ``PushRequestV1``).
///
/// A stamp pulled back by the clock-skew bound is admitted once: the store keeps the wall time it
/// was admitted at (``Outcome/clamped``) and passes it back (`clamped` of ``apply(_:cursor:current:clamped:now:)``)
/// whenever the same stamp comes again. A copy of a store (a restored backup) pushes the queue it
/// copied under a new incarnation, so the cursor cannot tell those mutations were applied; with a
/// fresh clamp at the later time, an old edit of a fast clock would then beat newer edits.
public struct PushApplier: Sendable {
    /// The bound on stamps ahead of the server's clock.
    public var skew: ClockSkewPolicy
    /// Whether the server numbers and stamps the push itself, for a device it plays (a Reader
    /// API session): each mutation then gets the next id above the cursor, whatever it carried,
    /// and the stamp (`now`, its id as the counter), so the session's stamps ascend strictly
    /// across requests. Such a push has no retry to recognise: each is applied.
    public var numbersMutations = false

    /// Creates an applier.
    public init(skew: ClockSkewPolicy = ClockSkewPolicy(), numbersMutations: Bool = false) {
        self.skew = skew
        self.numbersMutations = numbersMutations
    }

    /// The outcome of one push.
    public struct Outcome: Sendable, Hashable {
        /// The merged state of every brief the push touched, in brief id order.
        public var states: [ReadState]
        /// The highest mutation id now applied for the device.
        public var lastAppliedID: UInt64
        /// How many mutations were applied now (the rest had been applied before).
        public var appliedCount: Int
        /// The cursor to store, when it changed (something was applied).
        public var cursor: PushCursor?
        /// Stamps pulled back by the clock-skew bound for the first time now: pushed stamp → the
        /// wall time admitted, to store and pass back as `clamped` when the stamp comes again.
        public var clamped: [HybridTimestamp: Int64] = [:]

        /// The states a store must write: those that differ from what it holds, and say anything.
        public func changedStates(from current: [BriefID: ReadState]) -> [ReadState] {
            states.filter { $0 != current[$0.briefID] && $0 != ReadState(briefID: $0.briefID) }
        }
    }

    /// Applies the mutations above the cursor to `current`.
    ///
    /// - Parameters:
    ///   - push: A validated push (ids ascending, every stamp from the pushing device).
    ///   - cursor: Where this incarnation of the device's store stood; ``PushCursor/initial`` for a new one.
    ///   - current: The stored states of the briefs the push names; absent ones start empty.
    ///   - clamped: For stamps of the push that were pulled back before, the wall time each was
    ///     admitted at (an ``Outcome/clamped`` stored from an earlier push); others may be absent.
    ///   - now: The server's wall time in milliseconds since 1970.
    /// - Returns: The states to store and return, and the new cursor.
    /// - Throws: ``PushConflict`` when a mutation at or below the cursor is not one applied
    ///   before; nothing is applied then.
    public func apply(
        _ push: PushRequestV1,
        cursor: PushCursor,
        current: [BriefID: ReadState],
        clamped: [HybridTimestamp: Int64] = [:],
        now: Int64
    ) throws(PushConflict) -> Outcome {
        var push = push
        if numbersMutations {
            for index in push.mutations.indices {
                let id = cursor.lastAppliedID + UInt64(index) + 1
                push.mutations[index].id = id
                push.mutations[index].stamp = HybridTimestamp(
                    wall: now,
                    counter: UInt32(truncatingIfNeeded: id),
                    device: push.mutations[index].stamp.device
                )
            }
        }
        let digests = push.mutations.map(Self.digest)
        for (index, mutation) in push.mutations.enumerated() where mutation.id <= cursor.lastAppliedID {
            guard cursor.recent[mutation.id] == digests[index] else {
                throw PushConflict(index: index, mutationID: mutation.id, lastAppliedID: cursor.lastAppliedID)
            }
        }
        var states = current
        var touched = Set<BriefID>()
        var last = cursor.lastAppliedID
        var applied = 0
        var newlyClamped: [HybridTimestamp: Int64] = [:]
        for mutation in push.mutations {
            touched.insert(mutation.briefID)
            guard mutation.id > last else {
                continue  // an exact retry of a mutation already applied
            }
            let stamp: HybridTimestamp
            if let wall = clamped[mutation.stamp] ?? newlyClamped[mutation.stamp] {
                stamp = ClockSkewPolicy.clamp(mutation.stamp, toWall: wall)
            } else {
                stamp = skew.admit(mutation.stamp, receivedAt: now)
                if stamp != mutation.stamp {
                    newlyClamped[mutation.stamp] = stamp.wall
                }
            }
            let state = states[mutation.briefID] ?? ReadState(briefID: mutation.briefID)
            states[mutation.briefID] = state.applying(mutation.action, at: stamp)
            last = mutation.id
            applied += 1
        }
        let result = touched.sorted().map { states[$0] ?? ReadState(briefID: $0) }
        // why every mutation of the push, not only the new ones: a retry of this push (its answer
        // lost) brings them all again, and each must be recognised
        let next =
            applied > 0
            ? PushCursor(
                lastAppliedID: last,
                recent: Dictionary(uniqueKeysWithValues: zip(push.mutations.map(\.id), digests))
            ) : nil
        return Outcome(
            states: result,
            lastAppliedID: last,
            appliedCount: applied,
            cursor: next,
            clamped: newlyClamped
        )
    }

    /// The first 8 bytes of the SHA-256 of a mutation's canonical JSON: equal for an exact retry,
    /// different for another mutation under the same id.
    static func digest(_ mutation: MutationV1) -> UInt64 {
        // why try?: encoding a validated mutation cannot fail; were it to, 0 matches no digest
        // stored for a real mutation, so the push is refused rather than taken as a retry
        guard let bytes = try? WireCoding.encoder().encode(mutation) else {
            return 0
        }
        return SHA256.hash(data: bytes).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// Where one incarnation of one device's store stands: the last mutation id applied, and the
/// digest of each mutation of the last push that applied one, so that its retry is recognised.
public struct PushCursor: Sendable, Hashable {
    /// The highest mutation id applied from this incarnation.
    public var lastAppliedID: UInt64
    /// Mutation id → digest, for the mutations of the last push that applied something.
    public var recent: [UInt64: UInt64]

    /// A store that has pushed nothing under this incarnation.
    public static let initial = PushCursor(lastAppliedID: 0, recent: [:])

    public init(lastAppliedID: UInt64, recent: [UInt64: UInt64]) {
        self.lastAppliedID = lastAppliedID
        self.recent = recent
    }

    /// Reads a stored cursor; `recent` as ``recentBytes``.
    public init(lastAppliedID: UInt64, recentBytes: [UInt8]) {
        var recent: [UInt64: UInt64] = [:]
        var index = recentBytes.startIndex
        while index + 16 <= recentBytes.endIndex {
            let number = { (start: Int) in recentBytes[start..<start + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
            recent[number(index)] = number(index + 8)
            index += 16
        }
        self.init(lastAppliedID: lastAppliedID, recent: recent)
    }

    /// `recent` as stored: 16 bytes per mutation, its id then its digest, big-endian, by id.
    public var recentBytes: [UInt8] {
        recent.sorted { $0.key < $1.key }.flatMap { id, digest in
            (0..<8).reversed().map { UInt8(truncatingIfNeeded: id >> ($0 * 8)) }
                + (0..<8).reversed().map { UInt8(truncatingIfNeeded: digest >> ($0 * 8)) }
        }
    }
}

/// A push whose mutation at `index` reuses an id at or below the cursor with content the server
/// cannot show it applied: another copy of the store pushed under the same incarnation.
public struct PushConflict: Error, Sendable, Hashable {
    /// The index of the first such mutation in the push.
    public var index: Int
    /// Its id.
    public var mutationID: UInt64
    /// The incarnation's cursor.
    public var lastAppliedID: UInt64

    public init(index: Int, mutationID: UInt64, lastAppliedID: UInt64) {
        self.index = index
        self.mutationID = mutationID
        self.lastAppliedID = lastAppliedID
    }
}
