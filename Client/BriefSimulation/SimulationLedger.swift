import BriefModel
import Foundation

/// Counts what a run injected and when the server first took each mutation, shared by every
/// device's transport.
final class SimulationLedger: @unchecked Sendable {
    private let lock = NSLock()
    private var faults: [String: Int] = [:]
    private var applied: [HybridTimestamp: Int64] = [:]
    private var late: [(run: @Sendable () async -> Void, due: Int)] = []

    func count(_ fault: String, by count: Int = 1) {
        lock.withLock { faults[fault, default: 0] += count }
    }

    var faultCounts: [String: Int] { lock.withLock { faults } }

    /// Notes that a push the server answered carried these stamps, at its clock's `now`: a stamp
    /// is admitted (``ClockSkewPolicy``) when the server first takes it.
    func delivered(_ push: PushRequestV1, at now: Int64) {
        lock.withLock {
            for mutation in push.mutations where applied[mutation.stamp] == nil {
                applied[mutation.stamp] = now
            }
        }
    }

    /// When the server first took the mutation with this stamp, if it did.
    func appliedAt(_ stamp: HybridTimestamp) -> Int64? { lock.withLock { applied[stamp] } }

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
