/// A yes/no field that devices set and clear concurrently: the latest explicit action wins.
///
/// The register keeps the stamp of the latest "set" and of the latest "clear" it has seen; the
/// value is "set" when the latest set is newer than the latest clear. Merging takes the later
/// stamp of each, which is commutative, associative and idempotent. When both stamps are equal
/// (only possible for a clamped stamp, see ``ClockSkewPolicy``) the clear wins, so every replica
/// still agrees.
public struct FlagRegister: Sendable, Hashable, Codable {
    /// The stamp of the latest "set" (mark read, save), if any.
    public var setAt: HybridTimestamp?
    /// The stamp of the latest "clear" (mark unread, unsave), if any.
    public var clearedAt: HybridTimestamp?

    /// Creates a register; with no stamps it reads as not set.
    public init(setAt: HybridTimestamp? = nil, clearedAt: HybridTimestamp? = nil) {
        self.setAt = setAt
        self.clearedAt = clearedAt
    }

    /// Whether the flag is on.
    public var value: Bool {
        guard let setAt else {
            return false
        }
        return clearedAt.map { setAt > $0 } ?? true
    }

    /// The stamp of the action that decided ``value``.
    public var decidedAt: HybridTimestamp? { later(setAt, clearedAt) }

    /// The register that has seen what both have seen.
    public func merged(with other: FlagRegister) -> FlagRegister {
        FlagRegister(setAt: later(setAt, other.setAt), clearedAt: later(clearedAt, other.clearedAt))
    }
}

/// The later of two optional stamps; a stamp is later than none.
func later(_ a: HybridTimestamp?, _ b: HybridTimestamp?) -> HybridTimestamp? {
    guard let a else {
        return b
    }
    guard let b else {
        return a
    }
    return Swift.max(a, b)
}
