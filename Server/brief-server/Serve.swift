import ArgumentParser
import BriefModel
import BriefServer
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP service.",
        discussion: """
            Every option may also come from the environment variable named in its help. \
            An unusable setting stops the server at start with a one-line reason.
            """
    )

    @Option(help: "Address to listen on (BRIEFSYNC_HOST).") var host: String?
    @Option(help: "Port to listen on; 0 picks a free one (BRIEFSYNC_PORT).") var port: Int?
    @Option(
        help: """
            File to write the port to once the server listens, replacing it whole: how a script that \
            passed --port 0 learns the port, and that it is this server's (BRIEFSYNC_PORT_FILE).
            """
    )
    var portFile: String?
    @Option(
        help: """
            sqlite:PATH, sqlite::memory:, or postgres://USER@HOST:PORT/DB[?sslmode=require] for several \
            instances; the password in the URL or BRIEFSYNC_DATABASE_PASSWORD (BRIEFSYNC_DATABASE).
            """
    )
    var database: String?
    @Option(help: "Key publishers send as Bearer token; no key, no publishing (BRIEFSYNC_PUBLISHER_KEY).")
    var publisherKey: String?
    @Option(
        help:
            "Secret of 32+ bytes that signs change tokens; default: one kept in the database (BRIEFSYNC_TOKEN_SECRET)."
    )
    var tokenSecret: String?
    @Option(help: "How long a session lives unused; each use renews it, e.g. 90d (BRIEFSYNC_SESSION_LIFETIME).")
    var sessionLifetime: String?
    @Option(help: "How long retractions are kept, e.g. 30d (BRIEFSYNC_TOMBSTONE_RETENTION).") var tombstoneRetention:
        String?
    @Option(help: "How often retractions past their retention are purged, e.g. 1h (BRIEFSYNC_PURGE_INTERVAL).")
    var purgeInterval: String?
    @Option(help: "Largest request body, e.g. 1MiB (BRIEFSYNC_MAX_BODY).") var maxBody: String?
    @Option(help: "Changes per page by default (BRIEFSYNC_PAGE_SIZE).") var pageSize: Int?
    @Option(help: "Largest page a client may ask for (BRIEFSYNC_MAX_PAGE_SIZE).") var maxPageSize: Int?
    @Option(help: "Bytes of content a page names after which it stops, e.g. 4MiB (BRIEFSYNC_MAX_PAGE_BYTES).")
    var maxPageBytes: String?
    @Option(
        help:
            "Comma-separated proxies whose X-Forwarded-For is believed, e.g. 127.0.0.1,10.0.0.0/8 (BRIEFSYNC_TRUSTED_PROXIES)."
    )
    var trustedProxies: String?
    @Option(help: "trace, debug, info, notice, warning, error or critical (BRIEFSYNC_LOG_LEVEL).") var logLevel: String?
    @Option(help: "bcrypt cost of password hashes, 4...31 (BRIEFSYNC_BCRYPT_COST).") var bcryptCost: Int?
    @Option(
        help: """
            Registrations accepted from one client address per 15 minutes; default 10, 1000 with --demo \
            (BRIEFSYNC_REGISTRATION_LIMIT).
            """
    )
    var registrationLimit: Int?
    @Option(
        help: "Long-polls one account may have waiting at once; more get 429 (BRIEFSYNC_MAX_LONG_POLLS_PER_USER)."
    )
    var maxLongPollsPerUser: Int?
    @Option(
        help: """
            Who may fetch brief editions from GET /v1/content/{digest}: public (anyone; CDNs may cache \
            them) or session (signed-in devices only) (BRIEFSYNC_CONTENT_ACCESS).
            """
    )
    var contentAccess: String?
    @Option(
        help: """
            With --content-access session: a secret that signs the content pass of each manifest page, \
            which nginx checks itself (secure_link, deploy/nginx) instead of asking an instance at every \
            fetch; the same secret goes in nginx's site. 32 to 256 letters, digits, '-' and '_', not easy \
            to guess: brief-server new-key prints one (BRIEFSYNC_CONTENT_PASS_SECRET).
            """
    )
    var contentPassSecret: String?
    @Option(help: "How long a content pass stays good, e.g. 1h; at least 1m (BRIEFSYNC_CONTENT_PASS_LIFETIME).")
    var contentPassLifetime: String?
    @Option(
        help: """
            on (the default) or off: answer the polls of devices already up to date on the event loop, \
            before the routes; off only to measure what that saves (BRIEFSYNC_EVENT_LOOP_POLLS).
            """
    )
    var eventLoopPolls: String?
    @Option(
        help: """
            How long a looked-up session is believed, e.g. 5s; a logout through another instance takes \
            effect here within it; 0s looks up every request (BRIEFSYNC_SESSION_CACHE).
            """
    )
    var sessionCache: String?
    @Flag(help: "Publish the example briefs of Schema/examples and create the account demo / briefsync-demo.")
    var demo = false
    @Flag(help: "Let --demo listen on an address other than loopback (its key and password are public).")
    var allowRemoteDemo = false

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let configuration: ServerConfiguration
        do {
            configuration = try makeConfiguration(environment: environment)
        } catch let error as SettingError {
            FileHandle.standardError.write(Data("brief-server: \(error.message)\n".utf8))
            throw ExitCode(2)
        }
        // why removed first: a script waiting for the file must never read the port of a run before
        let portFile = portFileLocation(environment: environment)
        if let portFile, FileManager.default.fileExists(atPath: portFile.path) {
            do {
                try FileManager.default.removeItem(at: portFile)
            } catch {
                FileHandle.standardError.write(Data("brief-server: cannot replace --port-file: \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = configuration.logLevel
            return handler
        }
        let registry = PrometheusCollectorRegistry()
        let metrics = PrometheusMetricsFactory(registry: registry)
        MetricsSystem.bootstrap(metrics)
        let logger = Logger(label: "brief-server")

        let store: any DeltaStore
        do {
            store = try await openStore(configuration.database, logger: logger, metrics: metrics)
            if demo {
                try await Demo.load(into: store, configuration: configuration, logger: logger)
            }
        } catch let error as SettingError {
            FileHandle.standardError.write(Data("brief-server: \(error.message)\n".utf8))
            throw ExitCode(2)
        } catch {
            FileHandle.standardError.write(Data("brief-server: cannot open the database: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let app = try await buildApplication(
            configuration: configuration,
            store: store,
            registry: registry,
            logger: logger,
            onListening: { port in
                guard let portFile else {
                    return
                }
                do {
                    try PortFile.write(port, to: portFile)
                } catch {
                    logger.error(
                        "Cannot write the port file",
                        metadata: ["file": "\(portFile.path)", "error": "\(error)"]
                    )
                }
            }
        )
        logger.info(
            "Starting",
            metadata: [
                "server.address": "\(configuration.host):\(configuration.port)",
                "server.database": "\(configuration.database)",
                "server.publishing": "\(configuration.publisherKey == nil ? "off" : "on")",
            ]
        )
        try await app.runService()
        await store.shutdown()
    }

    /// Where to write the port (`--port-file`, then `BRIEFSYNC_PORT_FILE`): the command's, not
    /// the server's, so it is not part of ``ServerConfiguration``.
    func portFileLocation(environment: [String: String]) -> URL? {
        (portFile ?? environment["BRIEFSYNC_PORT_FILE"]).map { URL(fileURLWithPath: $0) }
    }

    /// Flags first, then `BRIEFSYNC_…` variables, then the defaults.
    func makeConfiguration(environment: [String: String]) throws -> ServerConfiguration {
        var configuration = ServerConfiguration()
        func value(_ flag: String?, _ variable: String) -> String? {
            flag ?? environment["BRIEFSYNC_\(variable)"]
        }
        func parsed<T>(_ text: String?, _ name: String, _ parse: (String) -> T?) throws -> T? {
            guard let text else {
                return nil
            }
            guard let value = parse(text) else {
                throw SettingError(message: "--\(name) \"\(text)\" is not usable; see brief-server serve --help")
            }
            return value
        }
        if let host = value(host, "HOST") {
            configuration.host = host
        }
        if let port = try parsed(
            value(port.map(String.init), "PORT"),
            "port",
            { Int($0).flatMap { (0...65535).contains($0) ? $0 : nil } }
        ) {
            configuration.port = port
        }
        if let text = value(database, "DATABASE") {
            // why not echoed: the URL may hold the database password
            guard let database = ConfigurationValue.database(text) else {
                throw SettingError(
                    message: "--database is not usable: expected sqlite:PATH, sqlite::memory: or "
                        + "postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=require&sslrootcert=PATH]"
                )
            }
            configuration.database = database
        }
        if case .postgres(var settings) = configuration.database, settings.password == nil,
            let password = environment["BRIEFSYNC_DATABASE_PASSWORD"]
        {
            settings.password = password
            configuration.database = .postgres(settings)
        }
        if let key = value(publisherKey, "PUBLISHER_KEY") {
            if key == Demo.publisherKey && !demo {
                throw SettingError(
                    message: "--publisher-key is the demo's key, which everyone knows: use it only with --demo"
                )
            }
            if key != Demo.publisherKey, let problem = PublisherKey.problem(with: key) {
                throw SettingError(message: "--publisher-key \(problem)")
            }
            configuration.publisherKey = key
        } else if demo {
            configuration.publisherKey = Demo.publisherKey
        }
        if demo && !allowRemoteDemo && !LoopbackHost.contains(configuration.host) {
            throw SettingError(
                message: """
                    --demo publishes with a key everyone knows and has a known password: it listens only on \
                    127.0.0.1, ::1 or localhost, not \(configuration.host) (--allow-remote-demo overrides)
                    """
            )
        }
        if let secret = value(tokenSecret, "TOKEN_SECRET") {
            guard secret.utf8.count >= 32 else {
                throw SettingError(message: "--token-secret must be at least 32 bytes")
            }
            configuration.tokenSecret = Array(secret.utf8)
        }
        if let retention = try parsed(
            value(tombstoneRetention, "TOMBSTONE_RETENTION"),
            "tombstone-retention",
            ConfigurationValue.duration
        ) {
            configuration.tombstoneRetention = retention
        }
        if let interval = try parsed(
            value(purgeInterval, "PURGE_INTERVAL"),
            "purge-interval",
            { ConfigurationValue.duration($0).flatMap { $0 >= 1_000 ? $0 : nil } }
        ) {
            configuration.purgeInterval = .milliseconds(interval)
        }
        if let lifetime = try parsed(
            value(sessionLifetime, "SESSION_LIFETIME"),
            "session-lifetime",
            ConfigurationValue.duration
        ) {
            guard lifetime >= 60 * 60 * 1000 else {
                throw SettingError(message: "--session-lifetime must be at least an hour (uses are noted to the hour)")
            }
            configuration.sessionIdleLifetime = lifetime
        }
        if let size = try parsed(value(maxBody, "MAX_BODY"), "max-body", ConfigurationValue.size) {
            configuration.maxBodyBytes = size
        }
        if let size = try parsed(
            value(pageSize.map(String.init), "PAGE_SIZE"),
            "page-size",
            { Int($0).flatMap { $0 > 0 ? $0 : nil } }
        ) {
            configuration.defaultPageSize = size
        }
        if let size = try parsed(
            value(maxPageSize.map(String.init), "MAX_PAGE_SIZE"),
            "max-page-size",
            { Int($0).flatMap { $0 > 0 ? $0 : nil } }
        ) {
            configuration.maxPageSize = size
        }
        guard configuration.defaultPageSize <= configuration.maxPageSize else {
            throw SettingError(
                message:
                    "--page-size \(configuration.defaultPageSize) is above --max-page-size \(configuration.maxPageSize)"
            )
        }
        if let bytes = try parsed(value(maxPageBytes, "MAX_PAGE_BYTES"), "max-page-bytes", ConfigurationValue.size) {
            configuration.maxPageBytes = bytes
        }
        if let proxies = value(trustedProxies, "TRUSTED_PROXIES") {
            configuration.trustedProxies = try proxies.split(separator: ",").map {
                let text = $0.trimmingCharacters(in: .whitespaces)
                guard let range = AddressRange(text) else {
                    throw SettingError(message: "--trusted-proxies: \"\(text)\" is not an IPv4 network or IPv6 address")
                }
                return range
            }
        }
        if let lifetime = try parsed(value(sessionCache, "SESSION_CACHE"), "session-cache", ConfigurationValue.duration)
        {
            configuration.sessionCacheLifetime = lifetime
        }
        if let level = try parsed(value(logLevel, "LOG_LEVEL"), "log-level", Logger.Level.init(rawValue:)) {
            configuration.logLevel = level
        }
        if let cost = try parsed(
            value(bcryptCost.map(String.init), "BCRYPT_COST"),
            "bcrypt-cost",
            { UInt8($0).flatMap { (4...31).contains($0) ? $0 : nil } }
        ) {
            configuration.bcryptCost = cost
        }
        if let cap = try parsed(
            value(maxLongPollsPerUser.map(String.init), "MAX_LONG_POLLS_PER_USER"),
            "max-long-polls-per-user",
            { Int($0).flatMap { $0 > 0 ? $0 : nil } }
        ) {
            configuration.maxLongPollsPerUser = cap
        }
        if let access = try parsed(value(contentAccess, "CONTENT_ACCESS"), "content-access", ContentAccess.init) {
            configuration.contentAccess = access
        }
        if let secret = value(contentPassSecret, "CONTENT_PASS_SECRET") {
            guard configuration.contentAccess == .session else {
                throw SettingError(
                    message: "--content-pass-secret needs --content-access session (public content needs no pass)"
                )
            }
            if let problem = ContentPass.problem(withSecret: secret) {
                throw SettingError(message: "--content-pass-secret \(problem)")
            }
            guard secret != configuration.publisherKey else {
                throw SettingError(
                    message: "--content-pass-secret must not be the publisher key (nginx's site holds it)"
                )
            }
            configuration.contentPassSecret = secret
        }
        if let lifetime = try parsed(
            value(contentPassLifetime, "CONTENT_PASS_LIFETIME"),
            "content-pass-lifetime",
            { ConfigurationValue.duration($0).flatMap { $0 >= 60_000 ? $0 : nil } }
        ) {
            configuration.contentPassLifetime = lifetime
        }
        if let answers = try parsed(
            value(eventLoopPolls, "EVENT_LOOP_POLLS"),
            "event-loop-polls",
            { ["on": true, "off": false][$0] }
        ) {
            configuration.answersPollsOnEventLoop = answers
        }
        if demo {
            configuration.loginLimits.registrationsPerAddress = 1_000  // why: demos register from one address
        }
        if let limit = try parsed(
            value(registrationLimit.map(String.init), "REGISTRATION_LIMIT"),
            "registration-limit",
            { Int($0).flatMap { $0 > 0 ? $0 : nil } }
        ) {
            configuration.loginLimits.registrationsPerAddress = limit
        }
        return configuration
    }
}

/// `brief-server new-key`: prints a fresh publisher key.
struct NewKey: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new-key",
        abstract: "Print a new random publisher key (bpk1_ and 32 random bytes, base64url) for --publisher-key."
    )

    func run() {
        print(PublisherKey.generate())
    }
}

/// A setting that cannot be used, said in one line.
struct SettingError: Error {
    let message: String
}
