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
            if let field = differingField(want, got) {
                return "brief \(id) field \(field)"
            }
        }
        return nil
    }

    /// The first brief whose state in `actual` carries a stamp that none of `own` has: a state
    /// that came from another account (or from nowhere). `others` names the account a stamp
    /// came from, when it is one of theirs.
    public static func firstForeignStamp(
        in actual: [BriefID: ReadState],
        own: Set<HybridTimestamp>,
        others: [HybridTimestamp: String]
    ) -> String? {
        for id in actual.keys.sorted() {
            guard let stamp = actual[id]?.stamps.sorted().first(where: { !own.contains($0) }) else {
                continue
            }
            let origin = others[stamp].map { "a mutation of \($0)" } ?? "no mutation of any user"
            return "brief \(id) shows a state stamped \(stamp), from \(origin)"
        }
        return nil
    }

    // why plain ifs: a table of (name, want, got) tuples crashed the 6.3.1 optimiser (CopyPropagation)
    private static func differingField(_ want: ReadState, _ got: ReadState) -> String? {
        if want.isRead != got.isRead {
            return "isRead: expected \(want.isRead), found \(got.isRead)"
        }
        if want.isSaved != got.isSaved {
            return "isSaved: expected \(want.isSaved), found \(got.isSaved)"
        }
        if want.progressValue != got.progressValue {
            return "progress: expected \(want.progressValue), found \(got.progressValue)"
        }
        if want.lastOpenedAt != got.lastOpenedAt {
            return "lastOpenedAt: expected \(describe(want.lastOpenedAt)), found \(describe(got.lastOpenedAt))"
        }
        if want != got {
            return "stamps: expected \(want), found \(got)"
        }
        return nil
    }

    private static func describe(_ time: Int64?) -> String {
        time.map { String($0) } ?? "never"
    }
}
