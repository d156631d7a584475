import Foundation

/// A fault the simulator injects (`brief-device simulate --faults LIST`).
public enum SimulationFault: String, Sendable, Hashable, CaseIterable, Comparable {
    /// Requests lost before the server sees them, answers lost after it applied them, requests
    /// delivered twice, and pushes held back and delivered late, after newer ones (injected in
    /// the transport, so they work against any server).
    case network
    /// Each device's clock off by up to ±6 hours, drifting during the run.
    case skew
    /// Tombstones purged after a short retention, so that devices offline meanwhile come back to
    /// an expired token and start over (in process; a real server purges on its own schedule).
    case expiry
    /// A device dies during a sync (after a push the server applied, before its answer; or
    /// while it fetches a page's content) and reopens its store.
    case crash
    /// A device's store is copied (a restored backup), and the copy carries on as another phone.
    case copy
    /// A home signs out with edits queued and another account signs in; later the first
    /// account comes back.
    case `switch`
    /// The server restarts: in process, or a child `brief-server` killed and started again.
    case restart

    /// The faults `--faults all` names: every one this simulator injects.
    public static let all = Set(allCases)

    /// Reads a comma-separated list (`network,skew`) or `all`.
    /// - Throws: ``SimulationError`` naming an unknown fault.
    public static func parse(_ list: String) throws(SimulationError) -> Set<SimulationFault> {
        var faults = Set<SimulationFault>()
        for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            if name == "all" {
                faults.formUnion(all)
            } else if let fault = SimulationFault(rawValue: name) {
                faults.insert(fault)
            } else {
                throw SimulationError(
                    "unknown fault \(name): the faults are \(allCases.map(\.rawValue).joined(separator: ", ")) or all"
                )
            }
        }
        return faults
    }

    public static func < (lhs: SimulationFault, rhs: SimulationFault) -> Bool {
        (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
    }
}

/// A simulation that could not run (not a divergence: see ``SimulationDivergence``).
public struct SimulationError: Error, Sendable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
