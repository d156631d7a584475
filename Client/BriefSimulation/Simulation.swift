import BriefClient
import BriefModel
import BriefStore
import Foundation

/// What a simulation does: how many devices of how many users, how many random operations,
/// which faults, from which seed. The same plan on a fresh server replays the same run.
public struct SimulationPlan: Sendable, Hashable {
    public var seed: UInt64
    public var devices: Int
    public var users: Int
    public var ops: Int
    public var faults: Set<SimulationFault>

    public init(seed: UInt64, devices: Int, users: Int, ops: Int, faults: Set<SimulationFault> = []) {
        self.seed = seed
        self.devices = devices
        self.users = users
        self.ops = ops
        self.faults = faults
    }
}

/// What a passing run did, fault by fault.
public struct SimulationReport: Sendable {
    public var edits = 0
    public var syncs = 0
    public var failedSyncs = 0
    public var offlinePeriods = 0
    public var followChanges = 0
    public var publisherChanges = 0
    /// Briefs edited on more than one device of a user: the merges that had a conflict to settle.
    public var conflicts = 0
    /// Each fault injected, by kind (`requests lost`, `clocks skewed`, …), and how often.
    public var faults: [String: Int] = [:]
    /// A hash of every request the devices sent, in order, with what the faults did to it: a
    /// replay of the same plan gives the same one.
    public var fingerprint: UInt64 = 0
    public var elapsed: Duration = .zero
    public var ops = 0

    /// Operations a second.
    public var rate: Double {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return seconds > 0 ? Double(ops) / seconds : 0
    }
}

/// A device that does not show what the model's laws say it must, after every device synced
/// until quiet.
public struct SimulationDivergence: Error, Sendable, CustomStringConvertible {
    /// The device (`d3`) and its user.
    public var device: String
    public var user: String
    /// The brief and field, and what was expected and found.
    public var detail: String
    /// How many operations the run had performed.
    public var ops: Int
    /// The user's last mutations of that brief, oldest first, as people read them.
    public var history: [String] = []

    public var description: String {
        "\(device) of \(user) diverged after \(ops) operations: \(detail)"
            + (history.isEmpty ? "" : "\nits last mutations of the brief:\n  " + history.joined(separator: "\n  "))
    }
}

/// The simulation engine: devices of several users editing at random, going offline and back,
/// following and unfollowing, while the publisher corrects and retracts, with the faults of the
/// plan injected; then every device syncs until quiet, and each must show the merge that the
/// model's rules make of that user's mutations, computed from the log alone.
public enum Simulation {
    /// Runs the plan against `server`.
    /// - Parameter progress: Called every `progressEvery` operations with how many are done.
    /// - Returns: The report of a run in which every device converged.
    /// - Throws: ``SimulationDivergence`` for the first device that did not; ``SimulationError``
    ///   when the run could not be made (no briefs, a refused publisher key).
    public static func run(
        _ plan: SimulationPlan,
        on server: any SimulationServer,
        progressEvery: Int = 100_000,
        progress: ((Int) -> Void)? = nil
    ) async throws -> SimulationReport {
        var run = try await SimulationRun(plan: plan, server: server)
        try await run.perform(progressEvery: progressEvery, progress: progress)
        return try await run.finish()
    }

    /// The smallest number of operations, at most `plan.ops`, after which the plan's run
    /// diverges, by bisection: each probe replays the plan with fewer operations on a fresh
    /// server from `fresh`. `nil` when even the whole plan converges (a divergence that a
    /// replay does not show).
    public static func firstDivergingOps(
        _ plan: SimulationPlan,
        fresh: (SimulationPlan) async throws -> SimulationReport
    ) async throws -> Int? {
        func diverges(_ ops: Int) async throws -> Bool {
            var probe = plan
            probe.ops = ops
            do {
                _ = try await fresh(probe)
                return false
            } catch is SimulationDivergence {
                return true
            }
        }
        guard try await diverges(plan.ops) else {
            return nil
        }
        var (good, bad) = (0, plan.ops)
        while bad - good > 1 {
            let middle = (good + bad) / 2
            if try await diverges(middle) {
                bad = middle
            } else {
                good = middle
            }
        }
        return bad
    }
}
