import ArgumentParser
import BriefClient
import BriefHTTP
import BriefHTTPNIO
import BriefModel
import BriefServer
import BriefStore
import Foundation
import HummingbirdBcrypt
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Measurements of BriefSync, printed as figures (never asserted). `scripts/bench-sync` runs
/// them in order against a release build; `BenchmarkSmokeTests` runs them tiny so they cannot rot.
@main
struct BriefBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brief-bench",
        abstract: "BriefSync benchmarks.",
        subcommands: [
            Populate.self, ClientSync.self, Correct.self, PollBenchmark.self, PushBenchmark.self,
            LongPollBenchmark.self, DeltaBenchmark.self, SyncReferences.self, FrameworkReference.self,
            PollPathBenchmark.self, ContentCacheBenchmark.self, FollowCostBenchmark.self,
        ]
    )
}

/// Fills a server database with generated briefs shaped like the seed.
struct Populate: AsyncParsableCommand {
    @Option(help: "The server database, sqlite:PATH or postgres://….") var database: String
    @Option(help: "How many briefs.") var briefs: Int
    @Option(help: "The generator's seed.") var seed: UInt64 = 1
    @Option(help: "A user to create (password: bench-password).") var user = "bench"

    func run() async throws {
        try await withStore(database) { store in
            var generator = BriefGenerator(seed: seed, template: try BriefGenerator.seedBrief())
            let started = ContinuousClock.now
            for index in 0..<briefs {
                _ = try await store.publish(generator.brief(index), now: Int64(index))
            }
            if try await store.user(named: user) == nil {
                _ = try await store.createUser(username: user, passwordHash: BenchPassword.hash, now: 0)
            }
            print("populated \(briefs) briefs in \(started.duration(to: .now))")
        }
    }
}

/// Syncs a device (a home folder) to the server and reports wall time and peak memory.
struct ClientSync: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "client-sync")
    @Option(help: "The server.") var server: String
    @Option(help: "The device's store file.") var store: String
    @Option(help: "The user.") var user = "bench"
    @Option(help: "What to call this measurement.") var label = "sync"
    @Option(help: "The store, for the results table.") var storeKind = "SQLite"
    @Option(help: "Seconds a raw SQLite insert of the same rows takes (sync-references).") var referenceInsert: Double?
    @Option(help: "Seconds the same raw insert with the rows' search entries takes (sync-references).")
    var referenceIndexed: Double?
    @Option(help: "Seconds downloading the same bytes from nginx takes (sync-references).") var referenceDownload:
        Double?
    @Option(help: "Content fetches in flight at once (the engine's contentFetches).") var contentFetches = 8
    @Option(
        help: """
            The device's HTTP stack: urlsession (Foundation's URLSession, what an app on Apple's systems \
            uses; on Linux it runs on libcurl) or nio (BriefHTTPNIO's AsyncHTTPClient).
            """
    )
    var http = "urlsession"
    @Option(help: "The device's storage budget in days (keepDays; default: every date).") var keepDays: Int?
    @Option(help: "The device's today, YYYY-MM-DD, which the budget counts back from (default: the clock's).")
    var asOf: String?

    func run() async throws {
        guard let url = URL(string: server) else {
            throw ValidationError("--server is not a URL")
        }
        let today = try asOf.map { text in
            guard let date = CalendarDate(iso: text) else {
                throw ValidationError("--as-of \(text) is not a date")
            }
            return Int64(date.daysSinceEpoch) * 86_400_000 + 12 * 3_600_000
        }
        let library = try BriefLibrary.open(
            at: store,
            configuration: {
                var configuration = BriefLibrary.Configuration()
                configuration.keepDays = keepDays
                if let today {
                    configuration.now = { today }
                }
                configuration.sync.contentFetches = contentFetches
                configuration.logger.logLevel = .warning
                return configuration
            }()
        )
        // why shut down here, not in a defer: AsyncHTTPClient must be shut down before it is
        // released, and that is awaited; a task started in a defer may never run before exit
        let nio = http == "nio" ? try NIOHTTPRequester(additionalCAFile: nil) : nil
        do {
            try await sync(library, from: url, through: nio ?? URLSessionRequester())
        } catch {
            try? await nio?.shutdown()
            throw error
        }
        try await nio?.shutdown()
    }

    func validate() throws {
        guard ["urlsession", "nio"].contains(http) else {
            throw ValidationError("--http is urlsession or nio")
        }
    }

    /// Signs the device in, syncs it once, and prints what it took.
    private func sync(_ library: BriefLibrary, from url: URL, through requester: any HTTPRequester) async throws {
        let session = try await BriefServiceClient(baseURL: url).login(
            username: user,
            password: BenchPassword.plain,
            deviceID: library.store.deviceID
        )
        try await library.signIn(
            AccountID(server: url.absoluteString, username: session.username),
            transport: HTTPSyncTransport(baseURL: url, sessionToken: session.token, requester: requester, timeout: 120)
        )
        let started = ContinuousClock.now
        // the first page committed holds the newest brief: pages of a fresh device come newest first
        let firstPage = FirstPage()
        let report = try await library.sync { report in
            if report.pages == 1 {
                firstPage.mark(started.duration(to: .now))
            }
        }
        let elapsed = started.duration(to: .now)
        let held = try await library.status().briefCount
        let units = Duration.UnitsFormatStyle(
            allowedUnits: [.seconds, .milliseconds],
            width: .narrow,
            fractionalPart: .show(length: 1)
        )
        print(
            "\(label): \(report.received) briefs received, \(report.contentFetched) fetched by digest, "
                + "\(report.pages) pages, device holds \(held), wall \(elapsed.formatted(units)), "
                + "newest brief stored after \(firstPage.elapsed.map { $0.formatted(units) } ?? "-"), "
                + "peak RSS \(peakResidentMiB()) MiB"
        )
        if let referenceInsert, let referenceDownload {
            let wall = seconds(elapsed)
            ResultRow.printRows([
                ResultRow(
                    benchmark: "3. \(label): wall s (peak RSS \(peakResidentMiB()) MiB)",
                    store: storeKind,
                    figure: format(wall),
                    reference: "raw SQLite insert: \(format(referenceInsert))",
                    ratio: format(wall / referenceInsert)
                )
            ])
            if let referenceIndexed {
                ResultRow.printRows([
                    ResultRow(
                        benchmark: "3. \(label): against the raw insert with search entries",
                        store: storeKind,
                        figure: format(wall),
                        reference: "raw SQLite insert + FTS5 index: \(format(referenceIndexed))",
                        ratio: format(wall / referenceIndexed)
                    )
                ])
            }
            ResultRow.printRows([
                ResultRow(
                    benchmark: "3. \(label): against the download alone",
                    store: storeKind,
                    figure: format(wall),
                    reference: "nginx download: \(format(referenceDownload))",
                    ratio: format(wall / referenceDownload)
                )
            ])
        }
    }
}

/// When a sync's first page was committed.
private final class FirstPage: @unchecked Sendable {
    // why a lock: the sync's progress callback writes it from the engine's task
    private let lock = NSLock()
    private var value: Duration?

    func mark(_ elapsed: Duration) { lock.withLock { value = value ?? elapsed } }
    var elapsed: Duration? { lock.withLock { value } }
}

/// Publishes corrections of existing briefs, as a publisher would.
struct Correct: AsyncParsableCommand {
    @Option(help: "The server database, sqlite:PATH or postgres://… (corrections go straight to the store).")
    var database: String
    @Option(help: "How many briefs to correct.") var count: Int
    @Option(help: "The generator's seed used to populate.") var seed: UInt64 = 1

    func run() async throws {
        try await withStore(database) { store in
            var generator = BriefGenerator(seed: seed, template: try BriefGenerator.seedBrief())
            for index in 0..<count {
                var brief = generator.brief(index)
                brief.title += " (corrected)"
                _ = try await store.publish(brief, now: 1)
            }
        }
        print("corrected \(count) briefs")
    }
}

/// Runs `body` on the store `database` names (`sqlite:PATH` or `postgres://…`), shut down afterwards.
func withStore(_ database: String, _ body: (any DeltaStore) async throws -> Void) async throws {
    guard let location = ConfigurationValue.database(database) else {
        throw ValidationError("--database must be sqlite:PATH or postgres://…")
    }
    try await withOpenStore(location, logger: Bench.logger, body)
}

/// The peak resident set size of this process, in MiB.
func peakResidentMiB() -> Int {
    var usage = rusage()
    #if canImport(Darwin)
        getrusage(RUSAGE_SELF, &usage)
        return Int(usage.ru_maxrss) / (1 << 20)
    #else
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Int(usage.ru_maxrss) / 1024
    #endif
}

/// The benchmark user's password.
enum BenchPassword {
    static let plain = "bench-password"
    /// Its bcrypt hash at the lowest cost: logins in benchmarks measure the service, not bcrypt.
    static let hash = Bcrypt.hash(plain, cost: 4)
}
