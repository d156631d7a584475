import NIOConcurrencyHelpers
import ServiceLifecycle

/// Wakes long-polls when something changes for their user.
///
/// Each user has a generation number that grows with every change that concerns them; briefs
/// concern everyone, so a publish bumps a global generation too. A long-poll reads the generation
/// *before* it queries the feed and, when the page is empty, waits for the generation to move
/// past what it read; a change committed between the query and the wait is therefore never
/// missed. Waiting costs a suspended task, no thread.
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
        let continuation: CheckedContinuation<Void, Never>
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
    }

    private let state = NIOLockedValueBox(State())
    private let relayed: Bool

    /// - Parameter relayed: Whether other processes commit changes too (a shared PostgreSQL
    ///   database), which this notifier then hears of only while the relay listens.
    public init(relayed: Bool = false) {
        self.relayed = relayed
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

    /// How many requests are held right now.
    public var heldCount: Int { state.withLockedValue { $0.waiters.count } }

    /// The user's generation now; read it before querying the feed.
    public func generation(for user: UserID) -> Generation {
        state.withLockedValue { Generation(global: $0.global, user: $0.users[user, default: 0]) }
    }

    /// Something changed for everyone (a brief was published or retracted).
    public func notifyAll() {
        let woken = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.global += 1
            let waiters = state.waiters
            state.waiters = [:]
            return waiters.values.map(\.continuation)
        }
        woken.forEach { $0.resume() }
    }

    /// Something changed for one user (their read-state or subscriptions).
    public func notify(user: UserID) {
        let woken = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.users[user, default: 0] += 1
            let matching = state.waiters.filter { $0.value.user == user }
            matching.keys.forEach { state.waiters[$0] = nil }
            return matching.values.map(\.continuation)
        }
        woken.forEach { $0.resume() }
    }

    /// Waits until the user's generation moves past `seen`, the time runs out, the task is
    /// cancelled or the server shuts down, whichever comes first.
    public func wait(for user: UserID, after seen: Generation, timeout: Duration) async {
        // why a handler here too: the HTTP server shuts down first and waits for its requests, so
        // a held request must hear of the shutdown itself rather than wait for this service's turn
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.waitForChange(user: user, seen: seen) }
                group.addTask { try? await Task.sleep(for: timeout) }
                await group.next()
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.releaseAll()
        }
    }

    /// Holds until graceful shutdown, then releases every waiter.
    public func run() async throws {
        try? await gracefulShutdown()
        releaseAll()
    }

    /// Answers every held request now, and every later wait at once.
    public func releaseAll() {
        let woken = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            state.shuttingDown = true
            let waiters = state.waiters
            state.waiters = [:]
            return waiters.values.map(\.continuation)
        }
        woken.forEach { $0.resume() }
    }

    private func waitForChange(user: UserID, seen: Generation) async {
        let id = state.withLockedValue { state -> UInt64 in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLockedValue { state -> Bool in
                    let current = Generation(global: state.global, user: state.users[user, default: 0])
                    if state.shuttingDown || current != seen || Task.isCancelled {
                        return true
                    }
                    state.waiters[id] = Waiter(user: user, seen: seen, continuation: continuation)
                    return false
                }
                if resumeNow {
                    continuation.resume()
                }
            }
        } onCancel: {
            let waiter = state.withLockedValue { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume()
        }
    }
}
