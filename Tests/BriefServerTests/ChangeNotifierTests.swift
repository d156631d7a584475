import Testing

@testable import BriefServer

@Suite struct ChangeNotifierTests {
    @Test func shutdownReleasesHeldRequestsAtOnce() async {
        let notifier = ChangeNotifier()
        let started = ContinuousClock.now
        async let held = notifier.wait(for: 1, after: notifier.generation(for: 1), timeout: .seconds(120))
        while notifier.heldCount == 0 {
            await Task.yield()
        }
        notifier.releaseAll()
        _ = await held
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
        async let held = notifier.wait(for: 1, after: notifier.generation(for: 1), timeout: .milliseconds(300))
        while notifier.heldCount == 0 {
            await Task.yield()
        }
        notifier.notify(user: 2)
        #expect(notifier.heldCount == 1)
        _ = await held
        #expect(ContinuousClock.now - started >= .milliseconds(250))
    }

    // why bounds this loose: the whole suite shares two cores, and a busy moment delays any task
    // by seconds; what must hold is that no wait ends early and none is forgotten
    @Test(.timeLimit(.minutes(2))) func eachWaitEndsAtItsOwnDeadlineAndTheSweeperComesBackWhenNeeded() async {
        let notifier = ChangeNotifier()
        let started = ContinuousClock.now
        let timeouts: [Duration] = [.milliseconds(600), .milliseconds(100), .milliseconds(300)]
        let ended = await withTaskGroup(of: (Duration, Duration).self) { group in
            for timeout in timeouts {
                group.addTask {
                    await notifier.wait(for: 1, after: notifier.generation(for: 1), timeout: timeout)
                    return (timeout, ContinuousClock.now - started)
                }
            }
            return await group.reduce(into: [(Duration, Duration)]()) { $0.append($1) }
        }
        for (timeout, elapsed) in ended {
            #expect(elapsed >= timeout, "a wait of \(timeout) ended after \(elapsed)")
            #expect(elapsed < timeout + .seconds(60), "a wait of \(timeout) ended after \(elapsed)")
        }
        #expect(ended.count == timeouts.count)
        #expect(notifier.heldCount == 0)

        // the sweeper stopped with nothing held; a later wait still ends at its deadline
        try? await Task.sleep(for: .milliseconds(300))
        let again = ContinuousClock.now
        await notifier.wait(for: 1, after: notifier.generation(for: 1), timeout: .milliseconds(150))
        #expect(ContinuousClock.now - again >= .milliseconds(150))
        #expect(ContinuousClock.now - again < .seconds(60))
    }

    @Test func aCancelledWaitEndsAtOnceAndLeavesNothingHeld() async {
        let notifier = ChangeNotifier()
        let started = ContinuousClock.now
        let held = Task { await notifier.wait(for: 1, after: notifier.generation(for: 1), timeout: .seconds(120)) }
        while notifier.heldCount == 0 {
            await Task.yield()
        }
        held.cancel()
        await held.value
        #expect(ContinuousClock.now - started < .seconds(60))
        #expect(notifier.heldCount == 0)
    }
}
