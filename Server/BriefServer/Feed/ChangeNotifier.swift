import NIOConcurrencyHelpers
import ServiceLifecycle

/// Wakes long-polls when something changes for their user.
///
/// Each user has a generation number that grows with every change that concerns them; briefs
/// concern everyone, so a publish bumps a global generation too. A long-poll reads the generation
/// *before* it queries the feed and, when the page is empty, waits for the generation to move
/// past what it read; a change committed between the query and the wait is therefore never
/// missed. Waiting costs a suspended task, no thread; a request parked on the event loop
/// (``park(user:after:until:wake:)``) costs only its entry in the table.
///
/// The notifier is a `Service`: on graceful shutdown it releases every held request at once and
/// answers new waits immediately, so shutdown is not delayed by the long-poll hold.
///
/// It lives in one process: a change committed by another instance reaches it only through the
/// store's relay (LISTEN/NOTIFY on PostgreSQL, see ``relayListening(_:)``).
///
/// The same generations tell when an answer computed earlier is still the answer: an
/// ``UpToDateCache`` entry holds while the user's generation has not moved. That needs every
/// change to bump a generation, which holds in one process, and across instances only while the
/// relay listens: ``answersCanBeCached`` says whether it does now.
public final class ChangeNotifier: Service, Sendable {
    private struct Waiter {
        let user: UserID
        let seen: Generation
        let deadline: ContinuousClock.Instant
        let wake: Wake
    }

    /// How a held request is woken: a suspended task resumes, or a parked one is called back.
    private enum Wake {
        case task(CheckedContinuation<Void, Never>)
        case callback(@Sendable () -> Void)

        func callAsFunction() {
            switch self {
            case .task(let continuation): continuation.resume()
            case .callback(let call): call()
            }
        }
    }

    /// A request parked with ``park(user:after:until:wake:)``, to take back with ``unpark(_:)``.
    struct Parking: Sendable, Hashable {
        fileprivate let id: UInt64
    }

    /// A user's generation: global (briefs) and per-user (their read-state and subscriptions).
    public struct Generation: Sendable, Hashable {
        var global: UInt64
        var user: UInt64
    }

    private struct State {
        var global: UInt64 = 0
        var users: [UserID: UInt64] = [:]
        var waiters: [UInt64: Waiter] = [:]
        var nextWaiter: UInt64 = 0
        var shuttingDown = false
        var relayListening = false
        /// Whether the sweeper that ends waits at their deadline runs.
        var sweeping = false
        /// No waiter's deadline is before this.
        var earliestDeadline: ContinuousClock.Instant
    }

    /// How often the sweeper looks for waits past their deadline: a wait ends up to this late.
    static let sweepInterval = Duration.milliseconds(100)

    private let state: NIOLockedValueBox<State>
    private let relayed: Bool
    /// The time deadlines are read on.
    let clock: any WaitClock
    /// The most requests one user may have held at once; `nil`: no cap.
    let maxHeldPerUser: Int?
    /// Told the number of requests held each time it changes, under the lock, so that a gauge
    /// set from it is never left behind by a racing update.
    private let heldCountChanged: (@Sendable (Int) -> Void)?

    /// - Parameters:
    ///   - relayed: Whether other processes commit changes too (a shared PostgreSQL database),
    ///     which this notifier then hears of only while the relay listens.
    ///   - maxHeldPerUser: The most requests one user may have held at once; a wait beyond it
    ///     returns ``WaitOutcome/refused`` at once, holding nothing.
    ///   - clock: The time deadlines are read on; tests pass a ``ManualWaitClock``.
    ///   - heldCountChanged: Told the number of requests held whenever it changes (the
    ///     `briefsync_longpolls_held` gauge), while the count cannot change.
    public init(
        relayed: Bool = false,
        maxHeldPerUser: Int? = nil,
        clock: any WaitClock = SystemWaitClock(),
        heldCountChanged: (@Sendable (Int) -> Void)? = nil
    ) {
        self.heldCountChanged = heldCountChanged
        self.relayed = relayed
        self.maxHeldPerUser = maxHeldPerUser
        self.clock = clock
        self.state = NIOLockedValueBox(State(earliestDeadline: clock.now))
    }

    /// How a wait ended.
    public enum WaitOutcome: Sendable, Hashable {
        /// Something changed, the time ran out, the task was cancelled or the server shuts down.
        case ended
        /// The user already has ``maxHeldPerUser`` requests held: nothing was held.
        case refused
    }

    /// Whether every change committed anywhere bumps a generation here right now: always in one
    /// process; with several, only while the relay listens.
    public var answersCanBeCached: Bool {
        !relayed || state.withLockedValue { $0.relayListening }
    }

    /// The relay (un)subscribed to other instances' changes. Either way everything may have
    /// changed unheard, so every waiter is woken and every generation moves.
    public func relayListening(_ listening: Bool) {
        state.withLockedValue { $0.relayListening = listening }
        notifyAll()
    }

    /// Changes the state under its lock, and reports a change of the held count.
    private func mutate<T>(_ body: (inout State) -> T) -> T {
        state.withLockedValue { state in
            let before = state.waiters.count
            let result = body(&state)
            if state.waiters.count != before {
                heldCountChanged?(state.waiters.count)
            }
            return result
        }
    }

    /// How many requests are held right now.
    public var heldCount: Int { state.withLockedValue { $0.waiters.count } }

    /// The user's generation now; read it before querying the feed.
    public func generation(for user: UserID) -> Generation {
        state.withLockedValue { Generation(global: $0.global, user: $0.users[user, default: 0]) }
    }

    /// The generation of what concerns everyone (briefs published or retracted), while answers
    /// may be cached (``answersCanBeCached``); `nil` otherwise, when a change may go unheard.
    var contentGeneration: UInt64? {
        state.withLockedValue { !relayed || $0.relayListening ? $0.global : nil }
    }

    /// Something changed for everyone (a brief was published or retracted).
    public func notifyAll() {
        let woken = mutate { state -> [Wake] in
            state.global += 1
            let waiters = state.waiters
            state.waiters = [:]
            return waiters.values.map(\.wake)
        }
        woken.forEach { $0() }
    }

    /// Something changed for one user (their read-state or subscriptions).
    public func notify(user: UserID) {
        let woken = mutate { state -> [Wake] in
            state.users[user, default: 0] += 1
            let matching = state.waiters.filter { $0.value.user == user }
            matching.keys.forEach { state.waiters[$0] = nil }
            return matching.values.map(\.wake)
        }
        woken.forEach { $0() }
    }

    /// Waits until the user's generation moves past `seen`, the ``clock`` reaches `deadline`,
    /// the task is cancelled or the server shuts down, whichever comes first.
    ///
    /// A held wait is a continuation in a table, nothing more: one sweeper task for all of them
    /// ends those past their deadline (within ``sweepInterval``), instead of a timer task per wait.
    @discardableResult
    public func wait(for user: UserID, after seen: Generation, until deadline: ContinuousClock.Instant) async
        -> WaitOutcome
    {
        // why a handler here too: the HTTP server shuts down first and waits for its requests, so
        // a held request must hear of the shutdown itself rather than wait for this service's turn
        await withGracefulShutdownHandler {
            await waitForChange(user: user, seen: seen, deadline: deadline)
        } onGracefulShutdown: {
            self.releaseAll()
        }
    }

    /// Parks a request without a task: `wake` is called once, from any thread, when the user's
    /// generation moves past `seen`, at `deadline` (within ``sweepInterval``), or at shutdown.
    /// Never calls `wake` when one of those has already happened (``Parked/passed``) or the
    /// user is at ``maxHeldPerUser`` (``Parked/refused``).
    func park(
        user: UserID,
        after seen: Generation,
        until deadline: ContinuousClock.Instant,
        wake: @escaping @Sendable () -> Void
    ) -> Parked {
        let id = nextID()
        switch hold(id, user: user, seen: seen, deadline: deadline, wake: .callback(wake)) {
        case .held: return .parked(Parking(id: id))
        case .passed: return .passed
        case .refused: return .refused
        }
    }

    /// What ``park(user:after:until:wake:)`` did.
    enum Parked {
        case parked(Parking)
        /// The generation moved, the deadline passed or the server shuts down: nothing is held.
        case passed
        /// The user has ``maxHeldPerUser`` requests held already: nothing is held.
        case refused
    }

    /// Takes back a parked request without calling its `wake` (its connection closed, or it went
    /// on another way). Returns whether it was still parked.
    @discardableResult
    func unpark(_ parking: Parking) -> Bool {
        mutate { $0.waiters.removeValue(forKey: parking.id) } != nil
    }

    private func nextID() -> UInt64 {
        state.withLockedValue { state in
            state.nextWaiter += 1
            return state.nextWaiter
        }
    }

    private enum Hold {
        case held, passed, refused
    }

    /// Holds `wake` as waiter `id` until the user's generation moves past `seen`, the deadline or
    /// shutdown, and starts the sweeper if none runs. Holds nothing, and says `passed`, when the
    /// generation has already moved, the deadline has passed, the server is shutting down, or
    /// `cancelled()` says so (read under the same lock, so that a cancellation cannot slip in
    /// between); `refused` when the user has ``maxHeldPerUser`` held already (counted under the
    /// lock: polls arriving at once cannot all pass).
    private func hold(
        _ id: UInt64,
        user: UserID,
        seen: Generation,
        deadline: ContinuousClock.Instant,
        wake: Wake,
        unless cancelled: () -> Bool = { false }
    ) -> Hold {
        let (held, startSweeper) = mutate { state -> (Hold, Bool) in
            let current = Generation(global: state.global, user: state.users[user, default: 0])
            guard !state.shuttingDown, current == seen, deadline > clock.now, !cancelled() else {
                return (.passed, false)
            }
            if let cap = maxHeldPerUser, state.waiters.values.lazy.filter({ $0.user == user }).count >= cap {
                return (.refused, false)
            }
            state.waiters[id] = Waiter(user: user, seen: seen, deadline: deadline, wake: wake)
            state.earliestDeadline = state.waiters.count == 1 ? deadline : min(state.earliestDeadline, deadline)
            let start = !state.sweeping
            state.sweeping = true
            return (.held, start)
        }
        if startSweeper {
            Task { await self.sweep() }
        }
        return held
    }

    /// Holds until graceful shutdown, then releases every waiter.
    public func run() async throws {
        try? await gracefulShutdown()
        releaseAll()
    }

    /// Answers every held request now, and every later wait at once.
    public func releaseAll() {
        let woken = mutate { state -> [Wake] in
            state.shuttingDown = true
            let waiters = state.waiters
            state.waiters = [:]
            return waiters.values.map(\.wake)
        }
        woken.forEach { $0() }
    }

    private func waitForChange(user: UserID, seen: Generation, deadline: ContinuousClock.Instant) async
        -> WaitOutcome
    {
        let id = nextID()
        let refused = NIOLockedValueBox(false)
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let held = hold(
                    id,
                    user: user,
                    seen: seen,
                    deadline: deadline,
                    wake: .task(continuation),
                    unless: { Task.isCancelled }
                )
                if held != .held {
                    refused.withLockedValue { $0 = held == .refused }
                    continuation.resume()
                }
            }
        } onCancel: {
            let waiter = mutate { $0.waiters.removeValue(forKey: id) }
            waiter?.wake()
        }
        return refused.withLockedValue { $0 } ? .refused : .ended
    }

    /// Ends the waits past their deadline, every ``sweepInterval``, until none is held.
    private func sweep() async {
        while true {
            try? await clock.sleep(until: clock.now + Self.sweepInterval)
            let now = clock.now
            let (expired, done) = mutate { state -> ([Wake], Bool) in
                guard !state.waiters.isEmpty else {
                    state.sweeping = false
                    return ([], true)
                }
                guard state.earliestDeadline <= now else {
                    return ([], false)
                }
                let due = state.waiters.compactMap { $0.value.deadline <= now ? $0.key : nil }
                let expired = due.compactMap { state.waiters.removeValue(forKey: $0)?.wake }
                state.earliestDeadline = state.waiters.values.lazy.map(\.deadline).min() ?? now
                return (expired, false)
            }
            expired.forEach { $0() }
            if done {
                return
            }
        }
    }
}
