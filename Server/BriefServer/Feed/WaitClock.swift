import NIOConcurrencyHelpers

/// The monotonic time that long-polls wait by: their deadlines, and the sweeper that ends them.
/// Injected, as ``WallClock`` is, so that tests move time by hand instead of sleeping.
///
/// why not a `Clock`: the notifier stores deadlines of one instant type, which `any Clock<Duration>`
/// cannot name; and swift-clocks' `TestClock`, which would otherwise serve, needs a newer
/// toolchain (swift-tools 6.4) than the one these servers build with.
public protocol WaitClock: Sendable {
    var now: ContinuousClock.Instant { get }
    /// Suspends until `deadline`; throws `CancellationError` when the task is cancelled.
    func sleep(until deadline: ContinuousClock.Instant) async throws
}

/// The system's monotonic clock.
public struct SystemWaitClock: WaitClock {
    public init() {}

    public var now: ContinuousClock.Instant { .now }

    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        try await ContinuousClock().sleep(until: deadline)
    }
}

/// A monotonic clock that stands still until told to move; its sleepers wake when it passes
/// their deadline.
public final class ManualWaitClock: WaitClock {
    private struct Sleeper {
        let deadline: ContinuousClock.Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: ContinuousClock.Instant
        var sleepers: [UInt64: Sleeper] = [:]
        var next: UInt64 = 0
    }

    private let state: NIOLockedValueBox<State>

    public init() {
        state = NIOLockedValueBox(State(now: .now))
    }

    public var now: ContinuousClock.Instant { state.withLockedValue { $0.now } }

    /// How many tasks sleep on this clock now.
    public var sleepers: Int { state.withLockedValue { $0.sleepers.count } }

    public func sleep(until deadline: ContinuousClock.Instant) async throws {
        let id = state.withLockedValue { state in
            state.next += 1
            return state.next
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let due = state.withLockedValue { state -> Bool in
                    guard deadline > state.now, !Task.isCancelled else {
                        return true
                    }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return false
                }
                if due {
                    continuation.resume()
                }
            }
        } onCancel: {
            state.withLockedValue { $0.sleepers.removeValue(forKey: id) }?.continuation.resume(
                throwing: CancellationError()
            )
        }
        try Task.checkCancellation()
    }

    /// Moves the clock forward and wakes every sleeper whose deadline it reaches.
    public func advance(by duration: Duration) {
        let woken = state.withLockedValue { state -> [Sleeper] in
            state.now += duration
            let due = state.sleepers.filter { $0.value.deadline <= state.now }
            due.keys.forEach { state.sleepers[$0] = nil }
            return Array(due.values)
        }
        woken.forEach { $0.continuation.resume() }
    }
}
