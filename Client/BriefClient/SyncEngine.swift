import BriefModel
import BriefStore
import Foundation
import Logging

/// Pushes the device's queued changes and pulls the server's, one round at a time (an actor, so
/// two rounds never overlap).
///
/// A round pushes first, in chunks, each acknowledged on its own; then pulls pages until none
/// follows. A page is a manifest: the engine fetches the content of each brief the device does
/// not hold at that version from the content plane, by digest, then applies the page, that
/// content and the page's token in one transaction. On `token_expired` (or a token the server
/// does not recognise) it starts over without a token, keeping the outbox and the reader's
/// state: briefs already held at the same version are compared with each manifest and not
/// fetched again, and briefs the new pass does not bring are removed at its end.
///
/// A round may be given a budget (``sync(budget:clock:progress:)``): it then ends within it on
/// the last page committed, and the next round goes on from there.
///
/// An engine syncs one account: it pushes only that account's queue and writes only while that
/// account is signed in on the store (``DeviceStore/signIn(_:now:)``).
public actor SyncEngine {
    /// Settings of the engine.
    public struct Configuration: Sendable {
        /// Mutations per push.
        public var pushChunk = 100
        /// Changes per page asked for.
        public var pageSize = 200
        /// Changes in the first page of a device starting from nothing (or over): small, so that
        /// the newest briefs are stored and shown at once, whatever the history behind them.
        public var firstPageSize = 20
        /// Content fetches in flight at once while a page's editions are fetched.
        public var contentFetches = 8
        /// How long a live long-poll is held, in seconds (the server allows up to 60).
        public var longPollSeconds = 25
        /// Backoff between failed live rounds.
        public var backoff = Backoff()
        /// The days of briefs the device keeps: starting from nothing, it asks for briefs dated
        /// from that many days ago on (and its saved ones), newest first. `nil`: every date.
        /// ``BriefLibrary`` sets its `keepDays` here.
        public var windowDays: Int?

        public init() {}
    }

    private let store: DeviceStore
    private let account: AccountID
    private let transport: any SyncTransport
    private let configuration: Configuration
    private let now: @Sendable () -> Int64
    private let logger: Logger
    /// Fetches content, keeping what a failed or cut-off round fetched for the next one.
    private let content: ContentFetcher

    /// Creates an engine.
    ///
    /// - Parameters:
    ///   - account: The account whose session `transport` carries.
    ///   - now: The wall clock, in milliseconds since 1970.
    ///   - logger: Where the engine logs (debug and info only).
    public init(
        store: DeviceStore,
        account: AccountID,
        transport: any SyncTransport,
        configuration: Configuration = Configuration(),
        now: @escaping @Sendable () -> Int64,
        logger: Logger
    ) {
        self.store = store
        self.account = account
        self.transport = transport
        self.configuration = configuration
        self.now = now
        self.logger = logger
        content = ContentFetcher(transport: transport, parallel: configuration.contentFetches)
    }

    /// One round: push everything queued, then pull until up to date.
    ///
    /// - Parameter progress: Called after each push and each page with what the round has done so far.
    /// - Returns: What the round did.
    /// - Throws: ``SyncError``; the store records it as the last error, and keeps everything.
    ///   A cancelled round throws `CancellationError` and records nothing: what it committed stays.
    @discardableResult
    public func sync(progress: (@Sendable (SyncReport) -> Void)? = nil) async throws -> SyncReport {
        var report = SyncReport()
        do {
            try await pushAll(&report, progress: progress)
            try await pullAll(&report, progress: progress)
            try await store.recordSyncResult(at: now(), error: nil)
            logger.debug(
                "Synced",
                metadata: [
                    "sync.pushed": "\(report.pushed)", "sync.received": "\(report.received)",
                    "sync.pages": "\(report.pages)",
                ]
            )
            return report
        } catch let error as TransportError {
            if error.kind == .cancelled && Task.isCancelled {
                throw CancellationError()
            }
            let failure = Self.syncError(error)
            try? await store.recordSyncResult(at: now(), error: failure.message)
            logger.info("Sync failed", metadata: ["sync.error": "\(failure.message)"])
            throw failure
        }
    }

    /// One round within `budget` (iOS gives a background refresh about 30 s): it ends, within the
    /// budget, on the last page or push committed, and leaves the rest for the next round, which
    /// goes on from the token stored. ``SyncReport/complete`` says whether it caught up.
    ///
    /// When the budget runs out the round's requests are cancelled; every write of the store is
    /// one transaction, so the device is left exactly at its last checkpoint, and a push cut off
    /// before its acknowledgement is sent again (the server applies each mutation once).
    ///
    /// - Throws: ``SyncError``, as ``sync(progress:)``.
    @discardableResult
    public func sync(
        budget: Duration,
        clock: some Clock<Duration> = ContinuousClock(),
        progress: (@Sendable (SyncReport) -> Void)? = nil
    ) async throws -> SyncReport {
        let sofar = ReportBox()
        let finished: SyncReport? = try await withThrowingTaskGroup(of: SyncReport?.self) { group in
            group.addTask {
                try await self.sync { report in
                    sofar.report = report
                    progress?(report)
                }
            }
            group.addTask {
                try await clock.sleep(for: budget)
                return nil
            }
            // why: the round's own error wins; the other child is cancelled and its end awaited
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        if var finished {
            finished.complete = true
            return finished
        }
        var report = sofar.report
        report.complete = false
        logger.info(
            "Sync budget spent",
            metadata: ["sync.budget": "\(budget)", "sync.pages": "\(report.pages)", "sync.pushed": "\(report.pushed)"]
        )
        return report
    }

    /// Waits for changes with a long-poll and syncs whenever something changed or `nudges` says
    /// there are local changes, until the task is cancelled. Failures back off with jitter,
    /// honouring `Retry-After`; it stops when the session is refused (``SyncError/Kind/loginRequired``).
    public func runLive(
        nudges: AsyncStream<Void>,
        clock: some Clock<Duration> = ContinuousClock()
    ) async throws {
        var failures = 0
        var generator = SystemRandomNumberGenerator()
        while !Task.isCancelled {
            do {
                try await sync()
                failures = 0
                let token = try await store.changeToken()
                let transport = self.transport
                let request = ChangesRequest(
                    since: token,
                    limit: configuration.pageSize,
                    wait: configuration.longPollSeconds
                )
                // Whichever comes first: the server has news, or the app queued a change. The
                // group waits for the loser to finish cancelling, so one consumer reads `nudges`.
                let page: ChangesPageV2? = try await withThrowingTaskGroup(of: ChangesPageV2?.self) { group in
                    group.addTask { try await transport.changes(request) }
                    group.addTask {
                        for await _ in nudges {
                            break
                        }
                        return nil
                    }
                    let first = try await group.next() ?? nil
                    group.cancelAll()
                    return first
                }
                if let page {
                    let fetched = try await Self.withContent(page, from: content, for: store)
                    _ = try await apply(fetched.page, fetched: fetched.editions)
                }
            } catch let error as SyncError
                where error.kind == .loginRequired || error.kind == .updateRequired || error.kind == .untrustedServer
            {
                throw error
            } catch {
                if Task.isCancelled {
                    return
                }
                failures += 1
                let retryAfter = (error as? SyncError)?.retryAfter ?? (error as? TransportError)?.retryAfter
                let delay = configuration.backoff.delay(
                    afterFailures: failures,
                    retryAfter: retryAfter,
                    using: &generator
                )
                logger.info("Live sync waits", metadata: ["sync.failures": "\(failures)", "sync.delay": "\(delay)"])
                try? await clock.sleep(for: delay)
            }
        }
    }

    // MARK: Push

    private func pushAll(_ report: inout SyncReport, progress: (@Sendable (SyncReport) -> Void)?) async throws {
        var renewed = false
        while true {
            guard let batch = try await store.preparePush(limit: configuration.pushChunk) else {
                return
            }
            guard batch.account == account else {
                throw DeviceStoreError.accountChanged  // why: this engine's session is another account's
            }
            let result: PushResultV1
            do {
                result = try await transport.push(batch.request)
            } catch let error as TransportError where error.response?.error.code == .incarnationConflict && !renewed {
                // Another copy of this store pushed these ids first: nothing was applied. Under a
                // new incarnation the server starts this store's cursor afresh and applies them.
                logger.info(
                    "Taking a new incarnation",
                    metadata: [
                        "sync.incarnation": "\(batch.request.incarnation ?? "")", "sync.reason": "\(error.message)",
                    ]
                )
                try await store.renewIncarnation(replacing: batch.request.incarnation)
                report.renewedIncarnation = true
                renewed = true
                continue
            } catch let error as TransportError where error.response?.error.code == .validationFailed {
                // Only a mutation whose brief is gone can never apply: drop those, keep the rest
                // and go on, so that one moot mutation cannot block the outbox forever. Any other
                // refusal keeps everything queued and is reported.
                let moot = Self.mootIssues(error.response).filter { batch.request.mutations.indices.contains($0.index) }
                guard !moot.isEmpty else {
                    throw error
                }
                try await store.dropMutations(
                    moot.map { batch.request.mutations[$0.index].id },
                    of: batch,
                    reason: moot.map(\.issue.description).joined(separator: "; "),
                    now: now()
                )
                report.dropped += moot.count
                continue
            }
            let acknowledgement = try await store.acknowledge(result, of: batch, now: now())
            report.pushed += acknowledgement.acknowledged
            report.renewedIncarnation = report.renewedIncarnation || acknowledgement.renewedIncarnation
            progress?(report)
        }
    }

    /// The issues of the mutations refused because their brief does not exist, with each
    /// mutation's index in the push.
    private static func mootIssues(_ response: ErrorResponseV1?) -> [(index: Int, issue: ValidationIssue)] {
        (response?.error.details ?? []).compactMap { issue in
            guard issue.code == ValidationIssue.unknownBrief, issue.path.hasPrefix("mutations["),
                let end = issue.path.firstIndex(of: "]"),
                let index = Int(issue.path[issue.path.index(issue.path.startIndex, offsetBy: 10)..<end])
            else {
                return nil
            }
            return (index, issue)
        }
    }

    // MARK: Pull

    private func pullAll(_ report: inout SyncReport, progress: (@Sendable (SyncReport) -> Void)?) async throws {
        let (transport, content, store, pageSize) = (self.transport, self.content, self.store, configuration.pageSize)
        let window = configuration.windowDays.flatMap { CalendarDate(daysBefore: $0, millisecondsSince1970: now()) }
        var restarted = false
        // only the first request (and one after starting over) reads a token; later ones take the
        // previous page's
        var token = try await store.changeToken()
        // The next page and its content are fetched while this one is written: its request needs
        // only this page's token. If writing fails, what was fetched ahead is dropped unread, and
        // the stored token is still this page's predecessor's, so nothing is lost or skipped.
        var ahead: Task<Fetched, any Error>?
        defer { ahead?.cancel() }
        while true {
            let fetched: Fetched
            do {
                if let fetching = ahead {
                    ahead = nil
                    // why the handler: awaiting an unstructured task's value does not pass this
                    // task's cancellation on (a round out of budget would wait for the page)
                    fetched = try await withTaskCancellationHandler {
                        try await fetching.value
                    } onCancel: {
                        fetching.cancel()
                    }
                } else {
                    fetched = try await Self.fetch(
                        ChangesRequest(
                            since: token,
                            limit: token == nil ? min(pageSize, configuration.firstPageSize) : pageSize,
                            window: window
                        ),
                        from: transport,
                        content: content,
                        for: store
                    )
                }
            } catch let error as TransportError where SyncAction.resolve(error) == .tokenExpired && !restarted {
                logger.info("Starting over without a token", metadata: ["sync.reason": "\(error.message)"])
                try await store.beginFullResync()
                report.fullResync = true
                restarted = true
                token = nil
                continue
            }
            let page = fetched.page
            if page.hasMore {
                let next = page.nextToken
                ahead = Task {
                    try await Self.fetch(
                        ChangesRequest(since: next, limit: pageSize, window: window),
                        from: transport,
                        content: content,
                        for: store
                    )
                }
            }
            let outcome = try await apply(page, fetched: fetched.editions)
            report.pages += 1
            report.received += outcome.received
            report.retracted += outcome.retracted + outcome.dropped
            report.readStates += outcome.readStates
            report.contentFetched += fetched.editions.count
            progress?(report)
            if !page.hasMore {
                break
            }
        }
        report.retracted += try await store.finishFullResync()
    }

    /// A manifest page and the editions it named that the store lacked when it was read.
    struct Fetched: Sendable {
        var page: ChangesPageV2
        var editions: [FetchedEdition]
    }

    /// Applies a page with its content. Content fetched ahead was chosen against the store as it
    /// was then; when the store has changed since (an eviction), what is missing now is fetched
    /// and the page applied again, in a new transaction.
    private func apply(_ page: ChangesPageV2, fetched: [FetchedEdition]) async throws -> PageOutcome {
        var editions = fetched
        var attempts = 0
        while true {
            do {
                let outcome = try await store.apply(page, editions: editions, now: now(), account: account)
                content.applied(page)
                return outcome
            } catch DeviceStoreError.missingContent(let id) where attempts < 3 {
                attempts += 1
                logger.debug("Fetching content the store lacks", metadata: ["sync.brief": "\(id)"])
                editions += try await content.editions(of: try await store.editionsNeeded(for: page))
            }
        }
    }

    /// A page fetched with the content the store lacks, off the engine's actor.
    private nonisolated static func fetch(
        _ request: ChangesRequest,
        from transport: any SyncTransport,
        content: ContentFetcher,
        for store: DeviceStore
    ) async throws -> Fetched {
        try await withContent(try await transport.changes(request), from: content, for: store)
    }

    /// A page with the content of the editions the store lacks now.
    private nonisolated static func withContent(
        _ page: ChangesPageV2,
        from content: ContentFetcher,
        for store: DeviceStore
    ) async throws -> Fetched {
        let needed = try await store.editionsNeeded(for: page)
        return Fetched(page: page, editions: try await content.editions(of: needed))
    }

    static func syncError(_ error: TransportError) -> SyncError {
        switch SyncAction.resolve(error) {
        case .retry(let after):
            return SyncError(
                kind: .offline,
                message: "\(error.message) Changes are kept and will sync later.",
                retryAfter: after
            )
        case .unauthorized:
            return SyncError(
                kind: .loginRequired,
                message: "The session has expired or was revoked: log in again. Changes are kept."
            )
        case .updateRequired:
            return SyncError(kind: .updateRequired, message: error.response?.error.message ?? error.message)
        case .tokenExpired, .fatal:
            if error.kind == .untrustedServer {
                return SyncError(kind: .untrustedServer, message: "\(error.message) Changes are kept.")
            }
            let details = (error.response?.error.details ?? []).map(\.description).joined(separator: "; ")
            let message = error.response?.error.message ?? error.message
            return SyncError(
                kind: .rejected,
                message: details.isEmpty ? message : "\(message) (\(details)). Changes are kept."
            )
        }
    }
}

/// What a sync round did.
public struct SyncReport: Sendable, Hashable, Codable {
    /// Local mutations the server acknowledged.
    public var pushed = 0
    /// Local mutations dropped because they can never apply (their brief is gone).
    public var dropped = 0
    /// Whether the store took a new incarnation, having found that a copy of it pushed under the
    /// old one (see ``PushRequestV1``).
    public var renewedIncarnation = false
    /// Briefs stored or updated.
    public var received = 0
    /// Briefs removed or marked retracted (including unfollowed topics).
    public var retracted = 0
    /// Read-states merged from the server.
    public var readStates = 0
    /// Pages pulled.
    public var pages = 0
    /// Whether the round started over without a token.
    public var fullResync = false
    /// Brief editions fetched from the content plane (briefs the device held at the same
    /// version are not fetched).
    public var contentFetched = 0
    /// Whether the round caught up: `false` when its budget ran out first
    /// (``SyncEngine/sync(budget:clock:progress:)``), and the next round goes on.
    public var complete = true

    public init() {}
}

/// The report of a budgeted round so far, written by its progress callback.
private final class ReportBox: @unchecked Sendable {
    // why a lock: the callback runs in the round's task and the budget reads it after cancelling it
    private let lock = NSLock()
    private var value = SyncReport()

    var report: SyncReport {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}
