import BriefServer
import BriefTestSupport
import Foundation
import HummingbirdTesting
import Logging
import Testing

/// Runs every benchmark of `scripts/bench` at a tiny size so that none can rot: each must run to
/// its end and print its rows of figures; the figures themselves are not checked (they are
/// measured, on a quiet machine, by the suite).
@Suite struct BenchmarkSmokeTests {
    enum Benchmark: String, CaseIterable, Sendable {
        case poll, delta, push, longpoll
        case pollPath = "poll-path"
        case contentCache = "content-cache"
        case followCost = "follow-cost"
    }

    @Test(
        .enabled(if: TestServices.nginx, "needs nginx (BRIEFSYNC_TEST_NGINX; scripts/test finds it)"),
        .enabled(if: TestServices.wrk, "needs wrk (BRIEFSYNC_TEST_WRK; scripts/test installs it)"),
        arguments: Benchmark.allCases
    )
    func eachBenchmarkRunsAtATinySize(_ benchmark: Benchmark) async throws {
        let nginx = try TestPostgres.required("nginx", variable: "BRIEFSYNC_TEST_NGINX", test: #function)
        let wrk = try TestPostgres.required("wrk", variable: "BRIEFSYNC_TEST_WRK", test: #function)
        var stores: [[String]] = [[]]
        if let postgres = ProcessInfo.processInfo.environment["BRIEFSYNC_TEST_POSTGRES"] {
            stores.append(["--postgres", postgres])
        }
        for store in stores {
            let run = try await BenchProcess.run(
                [benchmark.rawValue, "--tiny", "--seconds", "1", "--repeats", "1"] + store,
                environment: ["BRIEFSYNC_BENCH_NGINX": nginx, "BRIEFSYNC_BENCH_WRK": wrk]
            )
            #expect(run.code == 0, "\(benchmark) \(store): \(run.stderr)")
            let rows = run.stdout.split(separator: "\n").filter {
                $0.hasPrefix("| ") && $0.first(where: \.isNumber) != nil
            }
            #expect(!rows.isEmpty, "\(benchmark) printed no figures: \(run.stdout)")
        }
    }

    /// Figure 7: two instances on PostgreSQL behind nginx, with the proxy's own ceiling beside them.
    @Test(
        .enabled(if: TestServices.nginx, "needs nginx (BRIEFSYNC_TEST_NGINX; scripts/test finds it)"),
        .enabled(if: TestServices.wrk, "needs wrk (BRIEFSYNC_TEST_WRK; scripts/test installs it)"),
        .enabled(if: TestServices.postgres, "needs PostgreSQL (BRIEFSYNC_TEST_POSTGRES; scripts/test starts one)")
    ) func pollThroughTheProxyRunsAtATinySize() async throws {
        let nginx = try TestPostgres.required("nginx", variable: "BRIEFSYNC_TEST_NGINX", test: #function)
        let wrk = try TestPostgres.required("wrk", variable: "BRIEFSYNC_TEST_WRK", test: #function)
        let postgres = try TestPostgres.required("PostgreSQL", variable: "BRIEFSYNC_TEST_POSTGRES", test: #function)
        let run = try await BenchProcess.run(
            ["poll", "--tiny", "--seconds", "1", "--repeats", "1", "--postgres", postgres, "--instances", "2"],
            environment: ["BRIEFSYNC_BENCH_NGINX": nginx, "BRIEFSYNC_BENCH_WRK": wrk]
        )
        #expect(run.code == 0, "\(run.stderr)")
        #expect(run.stdout.contains("| 1. up-to-date poll, requests/s"), "\(run.stdout)")
        #expect(run.stdout.contains("| 7. up-to-date poll against the proxy's ceiling"), "\(run.stdout)")
    }

    @Test(.enabled(if: TestServices.nginx, "needs nginx (BRIEFSYNC_TEST_NGINX; scripts/test finds it)"))
    func syncReferencesRunAtATinySize() async throws {
        let nginx = try TestPostgres.required("nginx", variable: "BRIEFSYNC_TEST_NGINX", test: #function)
        let run = try await BenchProcess.run(
            ["sync-references", "--briefs", "5", "--repeats", "1"],
            environment: ["BRIEFSYNC_BENCH_NGINX": nginx]
        )
        #expect(run.code == 0, "\(run.stderr)")
        #expect(run.stdout.contains("REFERENCE insert="), "\(run.stdout)")
        #expect(run.stdout.contains(" indexed="), "\(run.stdout)")
        #expect(run.stdout.contains(" checked="), "\(run.stdout)")
    }

    @Test func syncBenchmarkRunsAtATinySize() async throws {
        let folder = try TemporaryHome()
        let database = folder.url.appendingPathComponent("server.sqlite").path
        let populate = try await BenchProcess.run(["populate", "--database", "sqlite:\(database)", "--briefs", "12"])
        #expect(populate.code == 0, "\(populate.stderr)")

        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.logLevel = .warning
        let app = try await buildApplication(
            configuration: configuration,
            store: try openStore(.sqlite(path: database)),
            logger: Logger(label: "bench")
        )
        try await app.test(.live) { client in
            let server = "http://127.0.0.1:\(try #require(client.port))"
            let store = folder.url.appendingPathComponent("device.sqlite").path
            let initial = try await BenchProcess.run(["client-sync", "--server", server, "--store", store])
            #expect(initial.stdout.contains("12 briefs received"), "\(initial.stdout) \(initial.stderr)")
            #expect(initial.stdout.contains("peak RSS"))
            _ = try await BenchProcess.run(["correct", "--database", "sqlite:\(database)", "--count", "2"])
            let incremental = try await BenchProcess.run(["client-sync", "--server", server, "--store", store])
            #expect(incremental.stdout.contains("2 briefs received"), "\(incremental.stdout) \(incremental.stderr)")
        }
    }
}

enum BenchProcess {
    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws
        -> BriefDeviceProcess.Output
    {
        let executable = BriefDeviceProcess.executable.deletingLastPathComponent().appendingPathComponent("brief-bench")
        return try await BriefDeviceProcess.run(arguments, environment: environment, executable: executable)
    }
}
