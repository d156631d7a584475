import BriefModel
import HTTPTypes
import NIOConcurrencyHelpers
import NIOCore
import Testing

@testable import BriefServer

/// The contract both the route and the event-loop handler ask: a kept answer holds only at the
/// moment it was kept at and only while answers may be cached; a long-poll ends at one deadline
/// however often it is held; a hold beyond the user's cap is refused, holding nothing.
@Suite(.timeLimit(.minutes(1))) struct UpToDatePollResponderTests {
    let clock = ManualWaitClock()
    let notifier: ChangeNotifier
    let responder: UpToDatePollResponder
    let answer = UpToDateCache.Answer(body: ByteBuffer(string: "{}"), etag: "\"e\"", nextToken: "next")

    init() {
        notifier = ChangeNotifier(relayed: true, maxHeldPerUser: 1, clock: clock)
        responder = UpToDatePollResponder(notifier: notifier, cache: UpToDateCache())
    }

    func keep(for user: UserID, at moment: UpToDatePollResponder.Moment) {
        responder.remember(
            answer,
            for: user,
            epoch: 1,
            since: FeedCursor(content: 1, state: 1),
            next: FeedCursor(content: 2, state: 2),
            at: moment
        )
    }

    @Test func aKeptAnswerHoldsOnlyAtItsMomentAndWhileAnswersMayBeCached() {
        // a shared database whose relay does not listen: nothing is kept, nothing is answered
        let deaf = responder.moment(for: 1)
        keep(for: 1, at: deaf)
        #expect(responder.keptAnswer(for: 1, since: "next", at: deaf) == nil)
        notifier.relayListening(true)
        #expect(responder.keptAnswer(for: 1, since: "next", at: responder.moment(for: 1)) == nil)

        let listening = responder.moment(for: 1)
        keep(for: 1, at: listening)
        #expect(responder.keptAnswer(for: 1, since: "next", at: listening)?.etag == "\"e\"")
        #expect(responder.keptAnswer(for: 1, since: "other", at: listening) == nil)
        #expect(responder.keptAnswer(for: 1, since: nil, at: listening) == nil)
        #expect(responder.keptAnswer(for: 2, since: "next", at: responder.moment(for: 2)) == nil)
        let token = ChangeToken(epoch: 1, cursor: FeedCursor(content: 2, state: 1))
        #expect(responder.keptAnswer(for: 1, token: token, at: listening) != nil)

        // another user's change leaves it; the user's own change, a publish, or the relay's loss outdate it
        notifier.notify(user: 2)
        #expect(responder.keptAnswer(for: 1, since: "next", at: responder.moment(for: 1)) != nil)
        notifier.notify(user: 1)
        #expect(responder.keptAnswer(for: 1, since: "next", at: responder.moment(for: 1)) == nil)
        keep(for: 1, at: responder.moment(for: 1))
        notifier.notifyAll()
        #expect(responder.keptAnswer(for: 1, since: "next", at: responder.moment(for: 1)) == nil)
        keep(for: 1, at: responder.moment(for: 1))
        notifier.relayListening(false)
        #expect(responder.keptAnswer(for: 1, since: "next", at: responder.moment(for: 1)) == nil)
    }

    @Test func aLongPollEndsAtOneDeadlineHoweverOftenItIsHeld() async throws {
        let deadline = responder.deadline(waiting: 10)
        #expect(responder.secondsLeft(until: deadline) == 10)
        #expect(responder.deadline(waiting: 0) == clock.now)
        #expect(!responder.isBefore(responder.deadline(waiting: 0)))

        // held, and woken after 4 s by a change that leaves the page empty
        let first = Task { try await responder.hold(1, after: responder.moment(for: 1), until: deadline) }
        try await waitUntil { notifier.heldCount == 1 }
        clock.advance(by: .seconds(4))
        notifier.notify(user: 1)
        try await first.value
        #expect(responder.secondsLeft(until: deadline) == 6)

        // held again: it ends when the clock reaches the same deadline, 6 s later, not 10
        let ended = NIOLockedValueBox(false)
        let second = Task {
            try await responder.hold(1, after: responder.moment(for: 1), until: deadline)
            ended.withLockedValue { $0 = true }
        }
        try await waitUntil { notifier.heldCount == 1 && clock.sleepers == 1 }
        clock.advance(by: .milliseconds(5_900))
        try await waitUntil { clock.sleepers == 1 }
        #expect(!ended.withLockedValue { $0 })
        clock.advance(by: .milliseconds(100))
        try await second.value
        #expect(responder.secondsLeft(until: deadline) == 0 && !responder.isBefore(deadline))
    }

    @Test func aHoldBeyondTheUsersCapIsRefusedAsTheRouteAnswersIt() async throws {
        let deadline = responder.deadline(waiting: 30)
        let first = Task { try await responder.hold(1, after: responder.moment(for: 1), until: deadline) }
        try await waitUntil { notifier.heldCount == 1 }
        do {
            try await responder.hold(1, after: responder.moment(for: 1), until: deadline)
            Issue.record("a second hold of the user was not refused")
        } catch let error as APIError {
            #expect(error.status == .tooManyRequests && error.body.error.retryAfterSeconds == 5)
        }
        guard case .refused = responder.park(1, after: responder.moment(for: 1), until: deadline, wake: {}) else {
            Issue.record("a poll beyond the cap was parked")
            return
        }
        #expect(notifier.heldCount == 1)
        notifier.notify(user: 1)
        try await first.value
    }
}
