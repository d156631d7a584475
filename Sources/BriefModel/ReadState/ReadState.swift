/// One user's reading state of one brief, as every device and the server keep it, and its merge.
///
/// **Merge policy.** Each field carries the hybrid-logical-clock stamps of the actions that set it,
/// and each has a reader's rule rather than one generic rule. *Read* is on after "mark read" (or
/// an open that marks read) and stays on unless an explicit "mark unread" is newer. *Saved* is
/// last-writer-wins by stamp between "save" and "unsave". *Progress* keeps the furthest point
/// reached, unless an explicit restart is newer; positions reported before the restart no longer
/// count. *Last opened* is the latest open. Every rule keeps, per field, the latest stamp of each
/// kind of action (progress keeps a short staircase of marks, see ``ProgressRegister``), so
/// merging is a per-field maximum: commutative, associative and idempotent. Two replicas that
/// have seen the same mutations are therefore equal, whatever the order and however often each
/// arrived. Stamps are ordered by wall time, counter, then device id, so ties have one winner
/// everywhere; a stamp far in the future is pulled back on arrival (``ClockSkewPolicy``).
public struct ReadState: Sendable, Hashable {
    /// The brief this state belongs to.
    public var briefID: BriefID
    /// Read or unread.
    public var read: FlagRegister
    /// Saved for later, or not.
    public var saved: FlagRegister
    /// How far the user has read.
    public var progress: ProgressRegister
    /// The stamp of the latest open.
    public var openedAt: HybridTimestamp?

    /// Creates a state; with no stamps it reads as unread, unsaved, not started, never opened.
    public init(
        briefID: BriefID,
        read: FlagRegister = FlagRegister(),
        saved: FlagRegister = FlagRegister(),
        progress: ProgressRegister = ProgressRegister(),
        openedAt: HybridTimestamp? = nil
    ) {
        self.briefID = briefID
        self.read = read
        self.saved = saved
        self.progress = progress
        self.openedAt = openedAt
    }

    /// Whether the brief is read.
    public var isRead: Bool { read.value }
    /// Whether the brief is saved.
    public var isSaved: Bool { saved.value }
    /// The fraction read, 0…1.
    public var progressValue: Double { progress.value }
    /// When the brief was last opened, in milliseconds since 1970 by the opening device's clock.
    public var lastOpenedAt: Int64? { openedAt?.wall }
    /// Every stamp the state carries: each the stamp of an action that some device made.
    public var stamps: [HybridTimestamp] {
        [read.setAt, read.clearedAt, saved.setAt, saved.clearedAt, progress.restartedAt, openedAt].compactMap { $0 }
            + progress.marks.map(\.stamp)
    }

    /// The latest stamp anywhere in the state.
    public var latestStamp: HybridTimestamp? { stamps.max() }

    /// The state that has seen every action either state has seen.
    ///
    /// Both states must describe the same brief; the result keeps `self.briefID`.
    public func merged(with other: ReadState) -> ReadState {
        ReadState(
            briefID: briefID,
            read: read.merged(with: other.read),
            saved: saved.merged(with: other.saved),
            progress: progress.merged(with: other.progress),
            openedAt: later(openedAt, other.openedAt)
        )
    }

    /// The state after one more action.
    public func applying(_ action: ReadAction, at stamp: HybridTimestamp) -> ReadState {
        var next = self
        switch action {
        case .markRead:
            next.read = read.merged(with: FlagRegister(setAt: stamp))
        case .markUnread:
            next.read = read.merged(with: FlagRegister(clearedAt: stamp))
        case .save:
            next.saved = saved.merged(with: FlagRegister(setAt: stamp))
        case .unsave:
            next.saved = saved.merged(with: FlagRegister(clearedAt: stamp))
        case .progress(let value):
            next.progress = progress.marking(value, at: stamp)
        case .restartProgress(let value):
            next.progress = progress.restarting(to: value, at: stamp)
        case .open:
            next.openedAt = later(openedAt, stamp)
        }
        return next
    }
}

/// Merges two states of the same brief; see ``ReadState`` for the policy.
public func merge(_ a: ReadState, _ b: ReadState) -> ReadState {
    a.merged(with: b)
}
