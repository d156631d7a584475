import BriefModel
import BriefToken
import Foundation
import GRDB
import Hummingbird
import HummingbirdBcrypt
import Logging
import Metrics
import NIOPosix
import Prometheus
import ServiceLifecycle

/// Builds the whole service: store, token codec, notifier, routes and background services.
///
/// - Parameters:
///   - configuration: The settings (see ``ServerConfiguration``).
///   - store: The store; ``openStore(_:)`` makes the one the configuration names.
///   - clock: Wall time; tests pass a ``ManualWallClock``.
///   - waitClock: The monotonic time long-polls are held by; tests pass a ``ManualWaitClock``.
///   - registry: Where metrics go and `/metrics` reads from; `nil` serves an empty `/metrics`.
///   - logger: The application's logger; its level is the configuration's.
///   - onListening: Called with the port the server listens on, once it does (the one chosen
///     for a configured port 0).
/// - Throws: When the token secret is too short or the database cannot be read.
public func buildApplication(
    configuration: ServerConfiguration,
    store: any DeltaStore,
    clock: any WallClock = SystemWallClock(),
    waitClock: any WaitClock = SystemWaitClock(),
    registry: PrometheusCollectorRegistry? = nil,
    logger: Logger,
    onListening: @escaping @Sendable (_ port: Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    var logger = logger
    logger.logLevel = configuration.logLevel
    var secret = configuration.tokenSecret
    if secret == nil {
        // why in the database: every instance on one database then signs tokens with one key
        secret = try await store.sharedSecret(named: "change-token") {
            var generator = SystemRandomNumberGenerator()
            return (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        }
    }
    let metrics = ServerMetrics(
        factory: registry.map { PrometheusMetricsFactory(registry: $0) } ?? NOOPMetricsHandler.instance
    )
    let environment = ServerEnvironment(
        configuration: configuration,
        store: store,
        clock: clock,
        tokens: try ChangeTokenCodec(secret: secret ?? []),
        notifier: ChangeNotifier(
            relayed: store.isShared,
            maxHeldPerUser: configuration.maxLongPollsPerUser,
            clock: waitClock,
            heldCountChanged: { metrics.longPollsHeld($0) }
        ),
        sessions: SessionCache(lifetime: configuration.sessionCacheLifetime, clock: clock),
        upToDate: UpToDateCache(),
        limiter: LoginRateLimiter(limits: configuration.loginLimits),
        metrics: metrics,
        applier: PushApplier(skew: configuration.clockSkew),
        publisherKeyHash: configuration.publisherKey.map(SessionTokens.hash),
        decoyPasswordHash: try await decoyPasswordHash(cost: configuration.bcryptCost)
    )
    let router = buildRouter(environment, registry: registry)
    let serverName = "brief-server"
    let polls =
        configuration.answersPollsOnEventLoop
        ? UpToDatePolls(environment: environment, logger: logger, serverName: serverName) : nil
    var app = Application(
        router: router,
        server: .http1(
            answeringUpToDatePollsWith: polls,
            headTimeout: configuration.requestHeadTimeout,
            maxBody: configuration.maxBodyBytes
        ),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port),
            serverName: serverName
        ),
        onServerRunning: { channel in
            if let port = channel.localAddress?.port {
                await onListening(port)
            }
        },
        logger: logger
    )
    app.addServices(
        environment.notifier,
        ChangeRelay(store: store, notifier: environment.notifier),
        TombstonePurger(
            store: store,
            clock: clock,
            retention: configuration.tombstoneRetention,
            interval: configuration.purgeInterval,
            logger: logger
        )
    )
    return app
}

/// Opens the store a configuration names: creates the SQLite file and its folder if needed, or
/// connects to PostgreSQL; either way migrates the schema. Call ``DeltaStore/shutdown()`` when done.
///
/// - Parameter metrics: Where the store counts what only it sees (``PushContention`` on
///   PostgreSQL); the server's own metrics go to the registry given to `buildApplication`.
public func openStore(
    _ database: ServerConfiguration.Database,
    logger: Logger,
    metrics: any MetricsFactory = NOOPMetricsHandler.instance
) async throws -> any DeltaStore {
    switch database {
    case .postgres(let settings):
        return try await PostgresDeltaStore.connect(settings, logger: logger, metrics: metrics)
    case .sqlite, .sqliteInMemory:
        return try openStore(database)
    }
}

/// Opens the store a configuration names (``openStore(_:logger:)``), runs `body` with it, and
/// shuts it down afterwards, whether `body` returned or threw (tools and tests).
public func withOpenStore<T>(
    _ database: ServerConfiguration.Database,
    logger: Logger,
    _ body: (any DeltaStore) async throws -> T
) async throws -> T {
    let store = try await openStore(database, logger: logger)
    do {
        let result = try await body(store)
        await store.shutdown()
        return result
    } catch {
        await store.shutdown()
        throw error
    }
}

/// Opens an SQLite store without suspending (tests, tools). A PostgreSQL database needs
/// ``openStore(_:logger:)``.
public func openStore(_ database: ServerConfiguration.Database) throws -> any DeltaStore {
    switch database {
    case .sqliteInMemory:
        return try SQLiteDeltaStore(DatabaseQueue())
    case .sqlite(let path):
        return try SQLiteDeltaStore.open(path: path)
    case .postgres:
        throw StoreOpeningError(message: "a PostgreSQL store is opened with openStore(_:logger:), which connects")
    }
}

/// A store that cannot be opened as asked.
public struct StoreOpeningError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Relays changes committed by other instances (``DeltaStore/listenForChanges(_:)``) to this
/// instance's long-polls, until graceful shutdown.
struct ChangeRelay: Service {
    let store: any DeltaStore
    let notifier: ChangeNotifier

    func run() async throws {
        let notifier = self.notifier
        try? await cancelWhenGracefulShutdown {
            try await store.listenForChanges { signal in
                switch signal {
                case .everyone:
                    notifier.notifyAll()
                case .user(let user):
                    notifier.notify(user: user)
                case .subscribed:
                    notifier.relayListening(true)
                case .unsubscribed:
                    notifier.relayListening(false)
                }
            }
        }
        // why: a store with nothing to listen for returns at once, and a service that returns early
        // would stop the whole service group
        try? await gracefulShutdown()
    }
}

/// The routes, as the OpenAPI description in `Schema/openapi.yaml` lists them.
func buildRouter(_ environment: ServerEnvironment, registry: PrometheusCollectorRegistry?) -> Router<
    BriefRequestContext
> {
    let router = Router(context: BriefRequestContext.self)
    router.add(
        middleware: EdgeMiddleware(
            trustedProxies: environment.configuration.trustedProxies,
            metrics: environment.metrics,
            routes: routeTable
        )
    )

    let operations = OperationsRoutes(environment: environment, registry: registry)
    router.get("healthz", use: operations.health)
    router.get("readyz", use: operations.ready)
    router.get("metrics", use: operations.metrics)

    let accounts = AccountRoutes(environment: environment)
    router.post("v1/accounts", use: accounts.register)
    router.post("v1/sessions", use: accounts.login)

    let publishing = PublishRoutes(environment: environment)
    router.group("v1/briefs")
        .add(middleware: PublisherMiddleware(environment: environment))
        .put(":id", use: publishing.put)
        .delete(":id", use: publishing.delete)

    let content = ContentRoutes(environment: environment)
    if environment.configuration.contentAccess == .public {
        router.get("v1/content/:digest", use: content.get)
    }

    let feeds = FeedRoutes(environment: environment, cache: FeedCache())
    if environment.configuration.contentAccess == .public {
        router.get("v1/topics/:id/feed.json", use: feeds.json)
        router.get("v1/topics/:id/feed.atom", use: feeds.atom)
    }

    let reader = ReaderAPIRoutes(environment: environment, accounts: accounts)
    router.post("greader/accounts/ClientLogin", use: reader.clientLogin)
    router.get("greader/check/compatibility", use: reader.compatibility)
    router.get("greader/reader/api/0/token", use: reader.token)
    router.post("greader/reader/api/0/token", use: reader.token)
    router.get("greader/reader/api/0/user-info", use: reader.userInfo)
    router.get("greader/reader/api/0/subscription/list", use: reader.subscriptions)
    router.post("greader/reader/api/0/subscription/edit", use: reader.editSubscription)
    router.get("greader/reader/api/0/tag/list", use: reader.tags)
    router.get("greader/reader/api/0/unread-count", use: reader.unreadCount)
    router.get("greader/reader/api/0/stream/items/ids", use: reader.itemIDs)
    router.post("greader/reader/api/0/stream/items/ids", use: reader.itemIDs)
    router.get("greader/reader/api/0/stream/items/contents", use: reader.itemContents)
    router.post("greader/reader/api/0/stream/items/contents", use: reader.itemContents)
    router.post("greader/reader/api/0/edit-tag", use: reader.editTag)
    router.post("greader/reader/api/0/mark-all-as-read", use: reader.markAllAsRead)

    let changes = ChangesRoutes(environment: environment)
    let readStates = ReadStateRoutes(environment: environment)
    let topics = TopicRoutes(environment: environment)
    let sessions = SessionRoutes(environment: environment, accounts: accounts)
    router.group("v1")
        .add(middleware: SessionMiddleware(environment: environment))
        .delete("sessions/current", use: accounts.logout)
        .get("sessions/current", use: sessions.check)
        .get("sessions", use: sessions.list)
        .post("feed-keys", use: sessions.createFeedKey)
        .delete("sessions/:id", use: sessions.revoke)
        .put("accounts/current/password", use: sessions.changePassword)
        .delete("accounts/current", use: sessions.deleteAccount)
        .get("changes", use: changes.get)
        .post("read-states", use: readStates.push)
        .get("topics", use: topics.list)
        .put("topics/:id/follow", use: topics.follow)
        .delete("topics/:id/follow", use: topics.unfollow)
    if environment.configuration.contentAccess == .session {
        router.group("v1")
            .add(middleware: SessionMiddleware(environment: environment))
            .get("content/:digest", use: content.get)
            .get("topics/:id/feed.json", use: feeds.json)
            .get("topics/:id/feed.atom", use: feeds.atom)
    }
    return router
}

/// Every path and its methods, for telling 405 from 404.
let routeTable = RouteTable(routes: [
    (["healthz"], ["GET"]), (["readyz"], ["GET"]), (["metrics"], ["GET"]),
    (["v1", "accounts"], ["POST"]), (["v1", "accounts", "current"], ["DELETE"]),
    (["v1", "accounts", "current", "password"], ["PUT"]), (["v1", "sessions"], ["POST", "GET"]),
    (["v1", "sessions", "current"], ["GET", "DELETE"]), (["v1", "sessions", "{id}"], ["DELETE"]),
    (["v1", "briefs", "{id}"], ["PUT", "DELETE"]), (["v1", "changes"], ["GET"]), (["v1", "read-states"], ["POST"]),
    (["v1", "topics"], ["GET"]), (["v1", "topics", "{id}", "follow"], ["PUT", "DELETE"]),
    (["v1", "content", "{digest}"], ["GET"]), (["v1", "topics", "{id}", "feed.json"], ["GET"]),
    (["v1", "topics", "{id}", "feed.atom"], ["GET"]), (["v1", "feed-keys"], ["POST"]),
    (["greader", "accounts", "ClientLogin"], ["POST"]), (["greader", "check", "compatibility"], ["GET"]),
    (["greader", "reader", "api", "0", "token"], ["GET", "POST"]),
    (["greader", "reader", "api", "0", "user-info"], ["GET"]),
    (["greader", "reader", "api", "0", "subscription", "list"], ["GET"]),
    (["greader", "reader", "api", "0", "subscription", "edit"], ["POST"]),
    (["greader", "reader", "api", "0", "tag", "list"], ["GET"]),
    (["greader", "reader", "api", "0", "unread-count"], ["GET"]),
    (["greader", "reader", "api", "0", "stream", "items", "ids"], ["GET", "POST"]),
    (["greader", "reader", "api", "0", "stream", "items", "contents"], ["GET", "POST"]),
    (["greader", "reader", "api", "0", "edit-tag"], ["POST"]),
    (["greader", "reader", "api", "0", "mark-all-as-read"], ["POST"]),
])

/// A bcrypt hash of a random password at `cost`, checked when a login names an unknown user so
/// that the answer takes as long as a wrong password's (a cheaper decoy would tell which names exist).
public func decoyPasswordHash(cost: UInt8) async throws -> String {
    try await NIOThreadPool.singleton.runIfActive {
        Bcrypt.hash(UUID().uuidString, cost: cost)  // why a pool thread: at cost 12 it takes a quarter second
    }
}
