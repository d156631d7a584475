import BriefModel
import BriefToken

/// The one place that decides a poll of `/v1/changes` by a client that may be up to date:
/// whether an answer kept from an earlier poll still holds, how long a long-poll is held, and
/// which empty pages are kept. ``ChangesRoutes`` and ``UpToDatePollHandler`` both ask it, so a
/// poll gets the same answer, held as long, whichever of them serves it.
///
/// What keeps it exact: a poll reads the user's ``Moment`` *before* it reads the feed, and a
/// kept answer holds only at the moment it was kept at (``UpToDateCache``); a change that
/// commits after the read moves the moment, wakes the hold and outdates the answer.
///
/// A long-poll ends at one deadline, read on the notifier's ``WaitClock`` when the poll arrives,
/// however often it is held, parked or handed on meanwhile.
struct UpToDatePollResponder: Sendable {
    let notifier: ChangeNotifier
    let cache: UpToDateCache

    /// Where a user's feed stands as far as this process knows, read before the feed is.
    struct Moment: Sendable {
        let generation: ChangeNotifier.Generation
        /// Whether a kept answer may be used or kept now (``ChangeNotifier/answersCanBeCached``).
        let cacheable: Bool
    }

    func moment(for user: UserID) -> Moment {
        // why the generation first: a relay that stops listening in between moves it
        let generation = notifier.generation(for: user)
        return Moment(generation: generation, cacheable: notifier.answersCanBeCached)
    }

    /// The kept answer for a poll whose `since` is, byte for byte, the kept answer's
    /// `nextToken`: a token this server already checked for this user, so it is not decoded again.
    func keptAnswer(for user: UserID, since: String?, at moment: Moment) -> UpToDateCache.Answer? {
        guard moment.cacheable, let since else {
            return nil
        }
        return cache.answer(for: user, tokenText: since, generation: moment.generation)
    }

    /// The kept answer for a poll whose checked token lies within the kept empty page.
    func keptAnswer(for user: UserID, token: ChangeToken, at moment: Moment) -> UpToDateCache.Answer? {
        guard moment.cacheable else {
            return nil
        }
        return cache.answer(for: user, token: token, generation: moment.generation)
    }

    /// Keeps the answer of an empty page that ends the feed for the user, read at `moment`.
    func remember(
        _ answer: UpToDateCache.Answer,
        for user: UserID,
        epoch: UInt32,
        since: FeedCursor?,
        next: FeedCursor,
        at moment: Moment
    ) {
        guard moment.cacheable else {
            return
        }
        cache.remember(answer, for: user, epoch: epoch, since: since, next: next, generation: moment.generation)
    }

    /// When a poll that arrives now asking to wait `seconds` ends.
    func deadline(waiting seconds: Int) -> ContinuousClock.Instant {
        notifier.clock.now + .seconds(seconds)
    }

    /// Whether a poll ending at `deadline` may still be held.
    func isBefore(_ deadline: ContinuousClock.Instant) -> Bool {
        notifier.clock.now < deadline
    }

    /// The whole seconds left until `deadline` (none once it has passed): the `wait` of a
    /// parked poll handed on to the routes.
    func secondsLeft(until deadline: ContinuousClock.Instant) -> Int {
        max(0, Int((deadline - notifier.clock.now) / .seconds(1)))
    }

    /// Holds a request's task until something changes for the user after `moment`, the deadline,
    /// or shutdown.
    ///
    /// - Throws: `rate_limited` (429) when the user has as many long-polls held as allowed
    ///   (`--max-long-polls-per-user`); nothing is held then.
    func hold(_ user: UserID, after moment: Moment, until deadline: ContinuousClock.Instant) async throws {
        let outcome = await notifier.wait(for: user, after: moment.generation, until: deadline)
        if outcome == .refused {
            throw Self.tooManyHeld(notifier.maxHeldPerUser)
        }
    }

    /// Parks a request on the event loop until the same events as ``hold(_:after:until:)``;
    /// `wake` is called once, from any thread, unless it is taken back with ``unpark(_:)``.
    func park(
        _ user: UserID,
        after moment: Moment,
        until deadline: ContinuousClock.Instant,
        wake: @escaping @Sendable () -> Void
    ) -> ChangeNotifier.Parked {
        notifier.park(user: user, after: moment.generation, until: deadline, wake: wake)
    }

    func unpark(_ parking: ChangeNotifier.Parking) {
        notifier.unpark(parking)
    }

    static func tooManyHeld(_ cap: Int?) -> APIError {
        .rateLimited(
            retryAfter: 5,
            "This account already has \(cap ?? 0) long-polls waiting; one device needs only one."
        )
    }
}
