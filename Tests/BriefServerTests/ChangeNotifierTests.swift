import Testing

@testable import BriefServer

@Suite struct ChangeNotifierTests {
    @Test func shutdownReleasesHeldRequestsAtOnce() async {
        let notifier = ChangeNotifier()
        let started = ContinuousClock.now
        async let held: Void = notifier.wait(for: 1, after: notifier.generation(for: 1), timeout: .seconds(120))
        while notifier.heldCount == 0 {
            await Task.yield()
        }
        notifier.releaseAll()
        await held
        #expect(ContinuousClock.now - started < .seconds(60))
        // and a wait after shutdown returns immediately
        await notifier.wait(for: 1, after: notifier.generation(for: 1), timeout: .seconds(120))
        #expect(ContinuousClock.now - started < .seconds(60))
    }

    @Test func aChangeBetweenQueryAndWaitIsNotMissed() async {
        let notifier = ChangeNotifier()
        let seen = notifier.generation(for: 7)
        notifier.notify(user: 7)  // commits after the query, before the wait
        let started = ContinuousClock.now
        await notifier.wait(for: 7, after: seen, timeout: .seconds(120))
        #expect(ContinuousClock.now - started < .seconds(60))
        #expect(notifier.heldCount == 0)
    }

    @Test func otherUsersChangesDoNotWake() async {
        let notifier = ChangeNotifier()
        let started = ContinuousClock.now
        async let held: Void = notifier.wait(for: 1, after: notifier.generation(for: 1), timeout: .milliseconds(300))
        while notifier.heldCount == 0 {
            await Task.yield()
        }
        notifier.notify(user: 2)
        #expect(notifier.heldCount == 1)
        await held
        #expect(ContinuousClock.now - started >= .milliseconds(250))
    }
}
