import BriefModel
import Foundation

/// Counts what a run injected and when the server first took each mutation, shared by every
/// device's transport.
final class SimulationLedger: @unchecked Sendable {
    private let lock = NSLock()
    private var faults: [String: Int] = [:]
    /// A taken mutation of a user, or its stamp: the server keeps each user's stamps apart.
    private struct Taken<Value: Hashable>: Hashable {
        var user: String
        var value: Value
    }
    private var applied: [Taken<HybridTimestamp>: Int64] = [:]
    /// Every mutation a push the server answered carried. Not only by stamp: a store and its
    /// copy go on from the same clock state under the same device id, so the two can stamp two
    /// different mutations alike (the merge orders such a tie by value, and the server admits a
    /// stamp once, so this is no loss; but one of the two may be refused and the other taken).
    private var taken: Set<Taken<MutationV1>> = []
    private var late: [(run: @Sendable () async -> Void, due: Int)] = []

    /// A hash of every request in the order the devices sent them, with its fate: the same seed
    /// must give the same one, or a replay would not rerun the run.
    var fingerprint: UInt64 { lock.withLock { hash } }
    private var hash: UInt64 = 0xcbf2_9ce4_8422_2325

    /// Adds a request and its roll to the fingerprint (FNV-1a: stable across processes, which
    /// Swift's `Hasher` is not by design).
    func note(_ request: String, _ roll: Int) {
        lock.withLock {
            for byte in request.utf8 {
                hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
            }
            hash = (hash ^ UInt64(truncatingIfNeeded: roll)) &* 0x100_0000_01b3
        }
    }

    func count(_ fault: String, by count: Int = 1) {
        lock.withLock { faults[fault, default: 0] += count }
    }

    var faultCounts: [String: Int] { lock.withLock { faults } }

    /// Notes that a push of `user`'s the server answered with `result` carried these mutations:
    /// a stamp is admitted (``ClockSkewPolicy``) when the server first takes it for that user,
    /// at the server's time then: `now` `exactly` when this process moves the server's clock. A
    /// server whose clock this process does not own (over HTTP) took the push a little before
    /// `now`; where it pulled a stamp back, its answer shows the time exactly (a clamped stamp's
    /// wall time is the server's time plus the bound). A stamp kept as it was is the same at
    /// either time.
    func delivered(
        _ push: PushRequestV1,
        of user: String,
        answer result: PushResultV1,
        at now: Int64,
        exactly: Bool,
        skew: ClockSkewPolicy
    ) {
        guard !exactly else {
            record(push, of: user, at: { _ in now })
            return
        }
        let states = Dictionary(result.states.map { ($0.briefID, $0) }, uniquingKeysWith: { first, _ in first })
        // each stamp the answer shows pulled back, with the time it was admitted at: this push's
        // time, or an earlier one for a stamp admitted before (the latest is this push's)
        var clamps: [HybridTimestamp: Int64] = [:]
        for mutation in push.mutations where mutation.stamp.wall > now + skew.maxAhead - 60_000 {
            let shown = states[mutation.briefID]?.stamps.first { shown in
                shown.device == mutation.stamp.device && shown.wall < mutation.stamp.wall
                    && ClockSkewPolicy.clamp(mutation.stamp, toWall: shown.wall) == shown
            }
            if let shown {
                clamps[mutation.stamp] = shown.wall - skew.maxAhead
            }
        }
        // why: one whose clamp a newer edit of the same field hides was admitted at this push's time
        let pushedAt = clamps.values.max() ?? now
        record(push, of: user, at: { clamps[$0.stamp] ?? pushedAt })
    }

    private func record(_ push: PushRequestV1, of user: String, at time: (MutationV1) -> Int64) {
        lock.withLock {
            for mutation in push.mutations {
                taken.insert(Taken(user: user, value: mutation))
                let stamp = Taken(user: user, value: mutation.stamp)
                if applied[stamp] == nil {
                    applied[stamp] = time(mutation)
                }
            }
        }
    }

    /// When the server first took a mutation with this stamp, if it did: when it admitted the stamp.
    func appliedAt(_ stamp: HybridTimestamp, of user: String) -> Int64? {
        lock.withLock { applied[Taken(user: user, value: stamp)] }
    }

    /// Whether the server took this very mutation.
    func took(_ mutation: MutationV1, of user: String) -> Bool {
        lock.withLock { taken.contains(Taken(user: user, value: mutation)) }
    }

    /// Keeps a request to deliver after `calls` more requests of any device.
    func holdBack(after calls: Int, _ run: @escaping @Sendable () async -> Void) {
        lock.withLock { late.append((run, calls)) }
    }

    /// The held-back requests now due, counting this call.
    func due() -> [@Sendable () async -> Void] {
        lock.withLock {
            late = late.map { ($0.run, $0.due - 1) }
            let ready = late.filter { $0.due <= 0 }.map(\.run)
            late.removeAll { $0.due <= 0 }
            return ready
        }
    }
}
