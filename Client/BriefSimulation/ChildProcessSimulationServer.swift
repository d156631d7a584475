import BriefClient
import BriefHTTP
import BriefModel
import BriefServer
import Foundation

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
        // why --port 0: a port found free here could be bound by another process before the
        // server binds it, and the devices would then talk to that process
        let portFile = folder.appendingPathComponent("server.port")
        let first = try Self.launch(executable, port: 0, portFile: portFile, expiry: expiry, in: folder)
        process = first
        guard let port = try await PortFile.port(in: portFile, while: { first.isRunning }),
            let url = URL(string: "http://127.0.0.1:\(port)")
        else {
            Self.kill(first)
            throw SimulationError("\(executable.path) did not start: \(Self.logTail(in: folder))")
        }
        self.port = port
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
        try await server.waitUntilReady()
        for brief in briefs {
            _ = try await server.publish(brief)
        }
        return try await body(server)
    }

    /// Starts a server: on `port`, or with `--port 0` writing the port it picked to `portFile`.
    private static func launch(
        _ executable: URL,
        port: Int,
        portFile: URL?,
        expiry: Bool,
        in folder: URL
    ) throws -> Process {
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
            + (portFile.map { ["--port-file", $0.path] } ?? [])
        let log = folder.appendingPathComponent("server.log")
        if !FileManager.default.fileExists(atPath: log.path) {
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        }
        let output = try FileHandle(forWritingTo: log)
        output.seekToEndOfFile()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return process
    }

    private static func logTail(in folder: URL) -> Substring {
        (try? String(contentsOf: folder.appendingPathComponent("server.log"), encoding: .utf8))?.suffix(2_000) ?? ""
    }

    /// Waits until the server answers `GET /readyz`.
    private func waitUntilReady() async throws {
        let process = lock.withLock { self.process }
        let started = ContinuousClock.now
        while ContinuousClock.now - started < .seconds(60) {
            guard let process, process.isRunning else {
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
        kill()
        throw SimulationError("\(executable.path) did not start on port \(port): \(Self.logTail(in: folder))")
    }

    /// Kills the child, if it runs, and waits for it to end.
    private func kill() {
        if let process = lock.withLock({ self.process.take() }) {
            Self.kill(process)
        }
    }

    private static func kill(_ process: Process) {
        guard process.isRunning else {
            return
        }
        #if canImport(Glibc)
            Glibc.kill(process.processIdentifier, SIGKILL)
        #else
            Darwin.kill(process.processIdentifier, SIGKILL)
        #endif
        process.waitUntilExit()
    }

    /// Kills the server and starts it again on the same file and port, so that the devices'
    /// transports go on reaching it.
    public func restart() async throws -> Bool {
        kill()
        let process = try Self.launch(executable, port: port, portFile: nil, expiry: expiry, in: folder)
        lock.withLock { self.process = process }
        try await waitUntilReady()
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
