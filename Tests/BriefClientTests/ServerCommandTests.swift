import BriefHTTP
import BriefServer
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `brief-server serve` refuses an unusable setting before it opens anything: exit 2 and one line
/// that names the flag, so that a typo in a unit file is found at once, not at the first request.
@Suite struct ServerCommandTests {
    @Test(arguments: [
        (["--session-cache", "soon"], "--session-cache \"soon\" is not usable"),
        (["--token-secret", "short"], "--token-secret must be at least 32 bytes"),
        (["--port", "70000"], "--port \"70000\" is not usable"),
        (["--purge-interval", "10ms"], "--purge-interval \"10ms\" is not usable"),
        (["--event-loop-polls", "maybe"], "--event-loop-polls \"maybe\" is not usable"),
        (["--page-size", "50", "--max-page-size", "10"], "--page-size 50 is above --max-page-size 10"),
        (["--publisher-key", "aaaaaaaaaaaaaaaa"], "--publisher-key must be at least 32 bytes"),
        (["--publisher-key", String(repeating: "a1", count: 20)], "--publisher-key has fewer than 12 different"),
        (["--publisher-key", "demo-publisher-key-not-for-production"], "the demo's key, which everyone knows"),
        (["--demo", "--host", "0.0.0.0"], "--demo publishes with a key everyone knows"),
        (["--content-pass-secret", "short"], "--content-pass-secret must be 32 to 256 characters"),
        (["--content-pass-secret", String(repeating: "a$", count: 20)], "--content-pass-secret may contain only"),
        (["--content-pass-secret", String(repeating: "a", count: 40)], "--content-pass-secret has fewer than 12"),
        (
            ["--content-pass-secret", String(repeating: "abcdefghijklm", count: 3)],
            "--content-pass-secret repeats a pattern of 13 characters"
        ),
        (
            ["--content-access", "public", "--content-pass-secret", String(repeating: "ab", count: 20)],
            "--content-pass-secret needs --content-access session"
        ),
        (["--content-pass-lifetime", "10s"], "--content-pass-lifetime \"10s\" is not usable"),
        (
            [
                "--publisher-key", "k7Qm2xV9pL4wR8tZ3nB6cY1dF5gH0jS2aE7uI9oP4", "--content-pass-secret",
                "k7Qm2xV9pL4wR8tZ3nB6cY1dF5gH0jS2aE7uI9oP4",
            ],
            "--content-pass-secret must not be the publisher key"
        ),
    ])
    func unusableSettingsStopTheServerWithOneLine(_ flags: [String], _ message: String) async throws {
        let run = try await BriefDeviceProcess.run(
            ["serve", "--database", "sqlite::memory:"] + flags,
            executable: BriefDeviceProcess.executable.deletingLastPathComponent().appendingPathComponent("brief-server")
        )
        #expect(run.code == 2, "\(flags): \(run.stderr)")
        #expect(run.stderr.contains(message), "\(flags): \(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1, "one line: \(run.stderr)")
    }

    @Test func theSessionCacheIsReadFromTheEnvironmentToo() async throws {
        let run = try await BriefDeviceProcess.run(
            ["serve", "--database", "sqlite::memory:"],
            environment: ["BRIEFSYNC_SESSION_CACHE": "5 seconds"],
            executable: BriefDeviceProcess.executable.deletingLastPathComponent().appendingPathComponent("brief-server")
        )
        #expect(run.code == 2, "\(run.stderr)")
        #expect(run.stderr.contains("--session-cache \"5 seconds\" is not usable"), "\(run.stderr)")
    }

    @Test func newKeyPrintsAKeyThatServeAccepts() async throws {
        let server = BriefDeviceProcess.executable.deletingLastPathComponent().appendingPathComponent("brief-server")
        let first = try await BriefDeviceProcess.run(["new-key"], executable: server)
        let second = try await BriefDeviceProcess.run(["new-key"], executable: server)
        let key = first.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(first.code == 0 && key.utf8.count == 48)
        #expect(key != second.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        // serve takes it (and then stops at the next unusable setting, before opening anything)
        let serve = try await BriefDeviceProcess.run(
            ["serve", "--database", "sqlite::memory:", "--publisher-key", key, "--tombstone-retention", "soon"],
            executable: server
        )
        #expect(
            serve.code == 2 && serve.stderr.contains("--tombstone-retention") && !serve.stderr.contains("publisher")
        )
    }

    /// `check-brief` says of each file what publishing it would: valid, every issue with its
    /// path, or not JSON; and exits 1 when any file is not a valid brief.
    @Test func checkBriefValidatesAsPublishingWill() async throws {
        let server = BriefDeviceProcess.executable.deletingLastPathComponent().appendingPathComponent("brief-server")
        let folder = try TemporaryHome()
        let seed = DeployFileTests.repository.appendingPathComponent("Schema/examples/brief-ai-tech-2026-06-26.json")
        let valid = try await BriefDeviceProcess.run(["check-brief", seed.path], executable: server)
        #expect(valid.code == 0, "\(valid.stderr)")
        #expect(valid.stdout.contains("valid brief ai-tech-2026-06-26"), "\(valid.stdout)")

        var document = try JSONSerialization.jsonObject(with: Data(contentsOf: seed)) as? [String: Any] ?? [:]
        document["title"] = " "
        document["takeaways"] = 3
        let invalid = folder.url.appendingPathComponent("invalid.json")
        try JSONSerialization.data(withJSONObject: document).write(to: invalid)
        let truncated = folder.url.appendingPathComponent("truncated.json")
        try Data(try Data(contentsOf: seed).prefix(100)).write(to: truncated)
        let run = try await BriefDeviceProcess.run(
            ["check-brief", seed.path, invalid.path, truncated.path],
            executable: server
        )
        #expect(run.code == 1)
        #expect(run.stdout.contains("\(invalid.path): 2 issue(s)"), "\(run.stdout)")
        #expect(run.stdout.contains("title: empty"), "\(run.stdout)")
        #expect(run.stdout.contains("takeaways: expected array, found number"), "\(run.stdout)")
        #expect(run.stdout.contains("\(truncated.path): not JSON"), "\(run.stdout)")
    }

    /// `--port 0 --port-file F`: the server picks a port and writes it to F once it listens, so
    /// that whoever started it reaches this server, not one that took a port found free before.
    @Test func aServerOnPortZeroWritesThePortItListensOn() async throws {
        let home = try TemporaryHome()
        let portFile = home.url.appendingPathComponent("server.port")
        let server = try BackgroundProcess(
            BriefDeviceProcess.executable.deletingLastPathComponent().appendingPathComponent("brief-server"),
            [
                "serve", "--database", "sqlite::memory:", "--host", "127.0.0.1", "--port", "0", "--port-file",
                portFile.path,
            ]
        )
        defer { server.kill() }
        let port = try #require(try await PortFile.port(in: portFile, while: { server.isRunning }), "\(server.output)")
        let (_, response) = try await URLSessionRequester().data(
            for: URLRequest(url: try #require(URL(string: "http://127.0.0.1:\(port)/readyz")))
        )
        #expect(response.statusCode == 200)
        #expect(try String(contentsOf: portFile, encoding: .utf8) == "\(port)\n")
    }

    /// A port file left by an earlier run is removed at start, before anything can fail, so that
    /// nobody waiting for the new server's port reads the old one.
    @Test func aStalePortFileIsRemovedEvenWhenTheServerCannotStart() async throws {
        let home = try TemporaryHome()
        let portFile = home.url.appendingPathComponent("server.port")
        try PortFile.write(8081, to: portFile)
        let blocker = home.url.appendingPathComponent("a-file")
        try Data().write(to: blocker)  // a database under a file cannot be opened
        let run = try await BriefDeviceProcess.run(
            [
                "serve", "--database", "sqlite:\(blocker.path)/server.sqlite", "--port", "0",
                "--port-file", portFile.path,
            ],
            executable: BriefDeviceProcess.executable.deletingLastPathComponent().appendingPathComponent("brief-server")
        )
        #expect(run.code == 2 && run.stderr.contains("cannot open the database"), "\(run.stderr)")
        #expect(!FileManager.default.fileExists(atPath: portFile.path))
        #expect(try await PortFile.port(in: portFile, timeout: .milliseconds(100), while: { true }) == nil)
    }
}
