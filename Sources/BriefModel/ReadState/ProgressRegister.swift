/// Reading progress (0…1): the furthest point reached, unless an explicit restart is newer.
///
/// Devices report progress as marks, each a value with its stamp. A restart at stamp `r` discards
/// every mark made before `r` and (restarting "to" a value) adds a mark at `r`. The progress is
/// the largest value among the marks not discarded.
///
/// To merge exactly, without keeping every mark ever made, the register keeps only the marks that
/// a future restart could make decisive: those not *dominated* by a later mark of at least the
/// same value. They form a staircase: ascending stamps, strictly descending values, so the first
/// mark holds the progress. Whatever restart arrives later, the largest surviving value is on the
/// staircase, so pruning loses nothing, and the state is a function of the set of marks and
/// restarts seen: merge is commutative, associative and idempotent. While a reader only moves
/// forward the staircase has a single step; each step back in a device that had not yet seen the
/// further mark adds one.
public struct ProgressRegister: Sendable, Hashable, Codable {
    /// One reported position.
    public struct Mark: Sendable, Hashable, Codable {
        /// The fraction read, 0…1.
        public var value: Double
        /// When it was reported.
        public var stamp: HybridTimestamp

        /// Creates a mark.
        public init(value: Double, stamp: HybridTimestamp) {
            self.value = value
            self.stamp = stamp
        }
    }

    /// The stamp of the latest restart, if any; marks before it no longer count.
    public private(set) var restartedAt: HybridTimestamp?
    /// The staircase of marks that may still decide the progress: ascending stamps, descending values.
    public private(set) var marks: [Mark]

    /// Creates a register from a restart stamp and any marks, keeping only the staircase.
    public init(restartedAt: HybridTimestamp? = nil, marks: [Mark] = []) {
        self.restartedAt = restartedAt
        self.marks = Self.staircase(of: marks, notBefore: restartedAt)
    }

    /// The progress, 0…1.
    public var value: Double { marks.first?.value ?? 0 }

    /// The stamp of the mark or restart that decided ``value``.
    public var decidedAt: HybridTimestamp? { marks.first?.stamp ?? restartedAt }

    /// The register with one more mark.
    public func marking(_ value: Double, at stamp: HybridTimestamp) -> ProgressRegister {
        ProgressRegister(restartedAt: restartedAt, marks: marks + [Mark(value: value, stamp: stamp)])
    }

    /// The register after a restart at `stamp` to `value` (0 for "from the beginning").
    public func restarting(to value: Double, at stamp: HybridTimestamp) -> ProgressRegister {
        let restart = later(restartedAt, stamp)
        return ProgressRegister(
            restartedAt: restart,
            marks: marks + (value > 0 ? [Mark(value: value, stamp: stamp)] : [])
        )
    }

    /// The register that has seen what both have seen.
    public func merged(with other: ProgressRegister) -> ProgressRegister {
        ProgressRegister(restartedAt: later(restartedAt, other.restartedAt), marks: marks + other.marks)
    }

    /// Drops marks before the restart, then every mark dominated by a later one at least as high.
    private static func staircase(of marks: [Mark], notBefore restart: HybridTimestamp?) -> [Mark] {
        // Latest first; at equal stamps the higher value first, so the lower duplicate is dominated.
        let candidates =
            marks
            .filter { mark in restart.map { mark.stamp >= $0 } ?? true }
            .sorted { ($0.stamp, $0.value) > ($1.stamp, $1.value) }
        var kept: [Mark] = []
        for mark in candidates where mark.value > (kept.last?.value ?? -1) {
            kept.append(mark)
        }
        return kept.reversed()
    }
}
