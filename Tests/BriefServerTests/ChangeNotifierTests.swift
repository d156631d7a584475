import NIOConcurrencyHelpers
import Testing

@testable import BriefServer

/// The notifier's time is a ``ManualWaitClock`` that never moves unless a test moves it: a wait
/// that ends with the clock standing still ended because of a change, a shutdown or a
/// cancellation, never because of its deadline.
@Suite(.timeLimit(.minutes(1))) struct ChangeNotifierTests {
    let clock = ManualWaitClock()
    let notifier: ChangeNotifier

    init() {
        notifier = ChangeNotifier(clock: clock)
    }

    /// A deadline `seconds` from the clock's now.
    func after(_ duration: Duration) -> ContinuousClock.Instant { clock.now + duration }

    @Test func shutdownReleasesHeldRequestsAtOnce() async throws {
        async let held = notifier.wait(for: 1, after: notifier.generation(for: 1), until: after(.seconds(120)))
        try await waitUntil { notifier.heldCount == 1 }
        notifier.releaseAll()
        #expect(await held == .ended)
        // and a wait after shutdown returns at once, holding nothing
        #expect(await notifier.wait(for: 1, after: notifier.generation(for: 1), until: after(.seconds(120))) == .ended)
        #expect(notifier.heldCount == 0)
    }

    @Test func aChangeBetweenQueryAndWaitIsNotMissed() async {
        let seen = notifier.generation(for: 7)
        notifier.notify(user: 7)  // commits after the query, before the wait
        #expect(await notifier.wait(for: 7, after: seen, until: after(.seconds(120))) == .ended)
        #expect(notifier.heldCount == 0)
    }

    @Test func otherUsersChangesDoNotWakeAndTheDeadlineDoes() async throws {
        let ended = NIOLockedValueBox(false)
        let seen = notifier.generation(for: 1)
        let deadline = after(.milliseconds(300))
        let held = Task {
            await notifier.wait(for: 1, after: seen, until: deadline)
            ended.withLockedValue { $0 = true }
        }
        try await waitUntil { notifier.heldCount == 1 && clock.sleepers == 1 }
        notifier.notify(user: 2)
        clock.advance(by: .milliseconds(200))
        try await waitUntil { clock.sleepers == 1 }  // the sweeper looked, and sleeps again
        #expect(notifier.heldCount == 1)
        #expect(!ended.withLockedValue { $0 })

        clock.advance(by: .milliseconds(100))
        await held.value
        #expect(notifier.heldCount == 0)
    }

    @Test func eachWaitEndsAtItsOwnDeadlineAndTheSweeperComesBackWhenNeeded() async throws {
        let seen = notifier.generation(for: 1)
        let start = clock.now
        let timeouts = [600, 100, 300]
        let waits = timeouts.map { milliseconds in
            Task { await notifier.wait(for: 1, after: seen, until: start + .milliseconds(milliseconds)) }
        }
        try await waitUntil { notifier.heldCount == 3 && clock.sleepers == 1 }
        for step in 1...6 {
            clock.advance(by: .milliseconds(100))
            try await waitUntil { clock.sleepers == 1 }  // the sweeper's pass is done
            let due = timeouts.filter { $0 <= step * 100 }.count
            #expect(notifier.heldCount == timeouts.count - due, "\(step * 100) ms after the start")
        }
        for wait in waits {
            #expect(await wait.value == .ended)
        }

        // the sweeper stops with nothing held; a later wait still ends at its deadline, not before
        clock.advance(by: .milliseconds(100))
        let again = Task { await notifier.wait(for: 1, after: seen, until: after(.milliseconds(150))) }
        try await waitUntil { notifier.heldCount == 1 && clock.sleepers == 1 }
        clock.advance(by: .milliseconds(100))
        try await waitUntil { clock.sleepers == 1 }
        #expect(notifier.heldCount == 1)
        clock.advance(by: .milliseconds(100))
        #expect(await again.value == .ended)
        #expect(notifier.heldCount == 0)
    }

    @Test func aDeadlineAlreadyPassedHoldsNothing() async {
        let seen = notifier.generation(for: 1)
        let deadline = clock.now
        #expect(await notifier.wait(for: 1, after: seen, until: deadline) == .ended)
        guard case .passed = notifier.park(user: 1, after: seen, until: deadline, wake: {}) else {
            Issue.record("a poll past its deadline was parked")
            return
        }
        #expect(notifier.heldCount == 0)
    }

    @Test func aCancelledWaitEndsAtOnceAndLeavesNothingHeld() async throws {
        let held = Task { await notifier.wait(for: 1, after: notifier.generation(for: 1), until: after(.seconds(120))) }
        try await waitUntil { notifier.heldCount == 1 }
        held.cancel()
        #expect(await held.value == .ended)
        #expect(notifier.heldCount == 0)
    }

    @Test func aUserAtTheCapIsRefusedAndHoldsNothingMore() async throws {
        let notifier = ChangeNotifier(maxHeldPerUser: 1, clock: clock)
        let seen = notifier.generation(for: 1)
        let first = Task { await notifier.wait(for: 1, after: seen, until: after(.seconds(120))) }
        try await waitUntil { notifier.heldCount == 1 }
        #expect(await notifier.wait(for: 1, after: seen, until: after(.seconds(120))) == .refused)
        guard case .refused = notifier.park(user: 1, after: seen, until: after(.seconds(120)), wake: {}) else {
            Issue.record("a poll beyond the cap was parked")
            return
        }
        // another user is not capped by this one
        guard case .parked(let parking) = notifier.park(user: 2, after: seen, until: after(.seconds(120)), wake: {})
        else {
            Issue.record("another user's poll was not parked")
            return
        }
        #expect(notifier.heldCount == 2)
        #expect(notifier.unpark(parking))
        notifier.notify(user: 1)
        #expect(await first.value == .ended)
    }
}
