import BriefClient
import BriefHTTP
import BriefModel
import Foundation
import NIOCore
import NIOPosix

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A real `brief-server`, started by this process as a child on a SQLite file of its own
/// (`brief-device simulate` given neither `--server` nor `--in-process`), reached over HTTP on
/// loopback. Unlike a server given by URL it can be restarted: the `restart` fault kills it
/// (SIGKILL, by the process id this simulator started) in the middle of the run, whatever it
/// was doing, and starts it again on the same file and port. What it had committed stays;
/// requests in flight fail as they would for a phone.
///
/// Its clock is the machine's. For the `expiry` fault it keeps tombstones two seconds and purges
/// every second, so that a device offline longer than that comes back to an expired token.
public final class ChildProcessSimulationServer: SimulationServer, @unchecked Sendable {
    static let publisherKey = InProcessSimulationServer.publisherKey

    private let executable: URL
    private let expiry: Bool
    private let folder: URL
    private let port: Int
    private let http: HTTPSimulationServer
    private let requester: any HTTPRequester
    private let lock = NSLock()
    private var process: Process?

    public var skew: ClockSkewPolicy { http.skew }
    public var ownsClock: Bool { false }

    private init(executable: URL, expiry: Bool, requester: any HTTPRequester) async throws {
        self.executable = executable
        self.expiry = expiry
        self.requester = requester
        folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "brief-simulation-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        )
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        port = try await Self.freePort()
        guard let url = URL(string: "http://127.0.0.1:\(port)") else {
            throw SimulationError("no URL for port \(port)")
        }
        http = HTTPSimulationServer(
            baseURL: url,
            requester: requester,
            allowInsecureHTTP: true,
            publisherKey: Self.publisherKey
        )
    }

    /// Runs `body` with a child `brief-server` (the executable at `executable`) that holds
    /// `briefs`, purging tombstones after two seconds when `expiry`; stops it and removes its
    /// files afterwards.
    public static func run<Value: Sendable>(
        executable: URL,
        briefs: [Brief],
        expiry: Bool = false,
        requester: any HTTPRequester,
        _ body: (ChildProcessSimulationServer) async throws -> Value
    ) async throws -> Value {
        let server = try await ChildProcessSimulationServer(
            executable: executable,
            expiry: expiry,
            requester: requester
        )
        defer {
            server.kill()
            try? FileManager.default.removeItem(at: server.folder)
        }
        try await server.start()
        for brief in briefs {
            _ = try await server.publish(brief)
        }
        return try await body(server)
    }

    /// Starts the server and waits until it answers `GET /readyz`.
    private func start() async throws {
        let process = Process()
        process.executableURL = executable
        process.arguments =
            [
                "serve", "--host", "127.0.0.1", "--port", String(port),
                "--database", "sqlite:" + folder.appendingPathComponent("server.sqlite").path,
                "--publisher-key", Self.publisherKey,
                // why: passwords are hashed at every sign-in of a copy or an account switch
                "--bcrypt-cost", "4",
                "--log-level", "error",
            ] + (expiry ? ["--tombstone-retention", "2s", "--purge-interval", "1s"] : [])
        let log = folder.appendingPathComponent("server.log")
        if !FileManager.default.fileExists(atPath: log.path) {
            FileManager.default.createFile(atPath: log.path, contents: nil)
        }
        let output = try FileHandle(forWritingTo: log)
        output.seekToEndOfFile()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        lock.withLock { self.process = process }
        let started = ContinuousClock.now
        while ContinuousClock.now - started < .seconds(60) {
            guard process.isRunning else {
                break
            }
            if let url = URL(string: "http://127.0.0.1:\(port)/readyz"),
                let (_, response) = try? await requester.data(for: URLRequest(url: url, timeoutInterval: 5)),
                response.statusCode == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        let tail = (try? String(contentsOf: log, encoding: .utf8))?.suffix(2_000) ?? ""
        kill()
        throw SimulationError("\(executable.path) did not start on port \(port): \(tail)")
    }

    /// Kills the child, if it runs, and waits for it to end.
    private func kill() {
        guard let process = lock.withLock({ self.process.take() }), process.isRunning else {
            return
        }
        #if canImport(Glibc)
            Glibc.kill(process.processIdentifier, SIGKILL)
        #else
            Darwin.kill(process.processIdentifier, SIGKILL)
        #endif
        process.waitUntilExit()
    }

    /// A port free on loopback now, which the server is then told to listen on: it keeps it
    /// across restarts, so the devices' transports go on reaching it.
    private static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0)
            .get()
        let port = channel.localAddress?.port
        try await channel.close()
        guard let port else {
            throw SimulationError("no free port on 127.0.0.1")
        }
        return port
    }

    public func restart() async throws -> Bool {
        kill()
        try await start()
        return true
    }

    public func session(user: String, password: String, device: DeviceID, register: Bool) async throws -> SessionV1 {
        try await http.session(user: user, password: password, device: device, register: register)
    }

    public func transport(token: String) -> any SyncTransport { http.transport(token: token) }

    public func topics(token: String) async throws -> [TopicStatusV1] { try await http.topics(token: token) }

    public func setFollowing(_ topic: TopicID, _ follow: Bool, token: String) async throws {
        try await http.setFollowing(topic, follow, token: token)
    }

    public func publish(_ brief: Brief) async throws -> Bool { try await http.publish(brief) }

    public func retract(_ id: BriefID) async throws -> Bool { try await http.retract(id) }

    public func now() -> Int64 { http.now() }

    public func advance(by milliseconds: Int64) {}

    public func purgeTombstones(olderThan age: Int64) async throws -> Int? { nil }
}
