import BriefServer
import Foundation
import HummingbirdTesting
import Logging
import Testing

/// Runs the sync benchmark at a tiny size so that it cannot rot; the figures are not checked.
@Suite struct BenchmarkSmokeTests {
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
    static func run(_ arguments: [String]) async throws -> BriefDeviceProcess.Output {
        let executable = BriefDeviceProcess.executable.deletingLastPathComponent().appendingPathComponent("brief-bench")
        return try await BriefDeviceProcess.run(arguments, executable: executable)
    }
}
