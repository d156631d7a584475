import BriefClient
import BriefHTTP
import BriefModel
import BriefServer
import BriefStore
import BriefTestSupport
import Foundation
import GRDB
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `kill -9` at the worst moments: of `brief-server` while a device's pushes are in flight, and of
/// `brief-device` in the middle of a sync. Nothing acknowledged may be lost, nothing applied twice,
/// and each store must be whole when it starts again.
@Suite(.serialized) struct CrashTests {
    static let serverExecutable = BriefDeviceProcess.executable.deletingLastPathComponent()
        .appendingPathComponent("brief-server")
    static let (tech, climate) = (BriefID(rawValue: "ai-tech-2026-06-26")!, BriefID(rawValue: "climate-2026-06-26")!)

    /// A `brief-server --demo` on a database file of `folder`, which outlives the process.
    struct ServerProcess {
        let port: Int
        let database: String
        var url: URL { URL(string: "http://127.0.0.1:\(port)")! }

        /// Starts the server on a port it picks (a port found free here could be bound by another
        /// test before the server binds it).
        static func start(in folder: TemporaryHome) async throws -> (ServerProcess, BackgroundProcess) {
            let database = "sqlite:\(folder.path)/server.sqlite"
            let portFile = folder.url.appendingPathComponent("server.port")
            let running = try launch(database: database, port: 0, portFile: portFile)
            guard let port = try await PortFile.port(in: portFile, while: { running.isRunning }) else {
                running.kill()
                throw CLIFailure("brief-server did not start: \(running.output)")
            }
            let server = ServerProcess(port: port, database: database)
            try await server.waitUntilReady(running)
            return (server, running)
        }

        /// Starts it again, on the same port, so that devices go on reaching it.
        func restart() async throws -> BackgroundProcess {
            let running = try Self.launch(database: database, port: port, portFile: nil)
            try await waitUntilReady(running)
            return running
        }

        private static func launch(database: String, port: Int, portFile: URL?) throws -> BackgroundProcess {
            try BackgroundProcess(
                CrashTests.serverExecutable,
                [
                    "serve", "--demo", "--host", "127.0.0.1", "--port", String(port), "--database", database,
                    "--bcrypt-cost", "4", "--log-level", "warning",
                ] + (portFile.map { ["--port-file", $0.path] } ?? [])
            )
        }

        private func waitUntilReady(_ running: BackgroundProcess) async throws {
            try await Deployment.waitUntilReady("\(url)/readyz", requester: URLSessionRequester()) {
                "brief-server did not start: \(running.output)"
            }
        }
    }

    @Test func killingTheServerMidPushLosesNothingAcknowledgedAndAppliesNothingTwice() async throws {
        let folder = try TemporaryHome()
        let (server, started) = try await ServerProcess.start(in: folder)
        var running = started
        defer { running.kill() }

        var configuration = BriefLibrary.Configuration()
        configuration.keepDays = nil
        configuration.sync.pushChunk = 1  // one request per mutation: a kill lands between or during them
        let phone = try BriefLibrary.open(at: folder.path + "/phone.sqlite", configuration: configuration)
        let account = AccountID(server: server.url.absoluteString, username: "demo")
        let session = try await BriefServiceClient(baseURL: server.url)
            .login(username: "demo", password: "briefsync-demo", deviceID: phone.store.deviceID)
        let transport = HTTPSyncTransport(baseURL: server.url, sessionToken: session.token, timeout: 5)
        try await phone.signIn(account, transport: transport)
        try await phone.sync()

        // Given 300 edits queued on the phone
        var log: [MutationV1] = []
        for index in 1...300 {
            let brief = index.isMultiple(of: 2) ? Self.tech : Self.climate
            let action: ReadAction =
                index.isMultiple(of: 10) ? (index.isMultiple(of: 20) ? .save : .unsave) : .progress(Double(index) / 300)
            log.append(try await phone.store.record(action, on: brief, now: phone.now()))
        }

        // When the server is killed while they are being pushed
        let sync = Task { try await phone.sync() }
        var pendingAtKill = 300
        while pendingAtKill > 250 {
            try await Task.sleep(for: .milliseconds(2))
            pendingAtKill = try await phone.status().pendingMutations
        }
        running.kill()
        _ = try? await running.exitStatus(within: .seconds(10))
        let interrupted = await sync.result
        #expect(pendingAtKill > 0, "the pushes ended before the kill: the test proved nothing")

        // Then after a restart, the next sync pushes what was not acknowledged, as retries
        running = try await server.restart()
        if case .success = interrupted {
            Issue.record("the sync finished before the server died")
        }
        let report = try await phone.sync()
        #expect(!report.renewedIncarnation)  // the push in flight was recognised, not taken for a copy's
        #expect(try await phone.status().pendingMutations == 0)

        // Every mutation was applied once: the cursor is the last id, and another device holds
        // exactly the merge of the log
        let cursor = try await DatabaseQueue(path: folder.path + "/server.sqlite").read { db in
            try Int64.fetchOne(
                db,
                sql: "SELECT last_applied_id FROM push_cursors WHERE device_id = ?",
                arguments: [phone.store.deviceID.rawValue]
            )
        }
        #expect(cursor == 300)
        let tablet = try BriefLibrary.inMemory(configuration: configuration)
        let tabletSession = try await BriefServiceClient(baseURL: server.url)
            .login(username: "demo", password: "briefsync-demo", deviceID: tablet.store.deviceID)
        try await tablet.signIn(
            account,
            transport: HTTPSyncTransport(baseURL: server.url, sessionToken: tabletSession.token)
        )
        try await tablet.sync()
        for brief in [Self.tech, Self.climate] {
            let expected = ReadState(briefID: brief).applying(log)
            #expect(try await tablet.store.readState(brief) == expected)
            #expect(try await phone.store.readState(brief) == expected)
        }
    }

    @Test func killingTheDeviceMidSyncLeavesAWholeStoreThatFinishesTheSync() async throws {
        let folder = try TemporaryHome()
        let (server, running) = try await ServerProcess.start(in: folder)
        defer { running.kill() }
        let (phone, tablet) = (try TemporaryHome(), try TemporaryHome())
        func device(_ home: TemporaryHome, _ arguments: String...) async throws -> BriefDeviceProcess.Output {
            try await BriefDeviceProcess.succeed(home, arguments, password: "briefsync-demo")
        }
        _ = try await device(phone, "login", "--server", server.url.absoluteString, "--user", "demo")
        _ = try await device(phone, "sync")
        _ = try await device(phone, "read", Self.tech.rawValue)
        _ = try await device(phone, "save", Self.climate.rawValue)
        _ = try await device(phone, "progress", Self.tech.rawValue, "0.3")

        // Given 400 more briefs on the server, so that a sync takes pages and time
        for index in 0..<400 {
            var request = URLRequest(url: server.url.appendingPathComponent("v1/briefs/crash-\(index)"))
            request.httpMethod = "PUT"
            request.setValue("Bearer demo-publisher-key-not-for-production", forHTTPHeaderField: "Authorization")
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try WireCoding.encoder().encode(try Briefs.small("crash-\(index)"))
            let (_, response) = try await URLSessionRequester().data(for: request)
            #expect(response.statusCode == 200 || response.statusCode == 201)
        }

        // When brief-device is killed mid-sync, again and again
        for delay in [60, 250, 600, 1_200] {
            let sync = try BackgroundProcess(["--home", phone.path, "sync"])
            try await Task.sleep(for: .milliseconds(delay))
            sync.kill()
            _ = try await sync.exitStatus(within: .seconds(10))
            let check = try await DatabaseQueue(path: phone.path + "/device.sqlite").read { db in
                try String.fetchOne(db, sql: "PRAGMA integrity_check")
            }
            #expect(check == "ok", "after a kill at \(delay) ms")
        }

        // Then the next sync finishes it: every brief, nothing queued, every edit on another device
        _ = try await device(phone, "sync")
        let list = try await device(phone, "list", "--json")
        guard case .array(let lines)? = list.json else {
            Issue.record("list --json is not an array: \(list.stdout)")
            return
        }
        #expect(lines.count == 402)
        #expect(try await device(phone, "status", "--json").json?["pendingMutations"] == 0)
        _ = try await device(tablet, "login", "--server", server.url.absoluteString, "--user", "demo")
        _ = try await device(tablet, "sync")
        let tech = try await device(tablet, "show", Self.tech.rawValue, "--json")
        #expect(tech.json?["readState"]?["isRead"] == true && tech.json?["readState"]?["progress"] == 0.3)
        let climate = try await device(tablet, "show", Self.climate.rawValue, "--json")
        #expect(climate.json?["readState"]?["isSaved"] == true)
    }
}
