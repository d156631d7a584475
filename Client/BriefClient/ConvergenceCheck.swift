import BriefModel

/// Checks that devices converged: what a set of mutations must produce, computed from the
/// mutations alone, and the first place where a device's states differ from it. `brief-device
/// simulate` and the tests use it.
public enum ConvergenceCheck {
    /// The merge of every mutation, brief by brief, in whatever order they are given.
    public static func expectedStates(_ mutations: [MutationV1]) -> [BriefID: ReadState] {
        var states: [BriefID: ReadState] = [:]
        for mutation in mutations {
            let current = states[mutation.briefID] ?? ReadState(briefID: mutation.briefID)
            states[mutation.briefID] = current.applying(mutation.action, at: mutation.stamp)
        }
        return states
    }

    /// The first brief and field where `actual` differs from `expected`, for people; `nil` when equal.
    public static func firstDivergence(expected: [BriefID: ReadState], actual: [BriefID: ReadState]) -> String? {
        for id in Set(expected.keys).union(actual.keys).sorted() {
            let want = expected[id] ?? ReadState(briefID: id)
            let got = actual[id] ?? ReadState(briefID: id)
            let fields: [(String, String, String)] = [
                ("isRead", "\(want.isRead)", "\(got.isRead)"),
                ("isSaved", "\(want.isSaved)", "\(got.isSaved)"),
                ("progress", "\(want.progressValue)", "\(got.progressValue)"),
                (
                    "lastOpenedAt", want.lastOpenedAt.map(String.init) ?? "never",
                    got.lastOpenedAt.map(String.init) ?? "never"
                ),
            ]
            if let field = fields.first(where: { $0.1 != $0.2 }) {
                return "brief \(id) field \(field.0): expected \(field.1), found \(field.2)"
            }
            if want != got {
                return "brief \(id) field stamps: expected \(want), found \(got)"
            }
        }
        return nil
    }
}
