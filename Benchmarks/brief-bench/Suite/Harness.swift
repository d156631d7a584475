import BriefModel
import BriefServer
import BriefTestSupport
import Foundation
import Logging
import PostgresNIO

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// What every benchmark of the suite shares: child processes (brief-server, nginx, wrk), fresh
/// databases, ports, memory readings and statistics.
enum Bench {
    static let publisherKey = "bench-publisher-key-0123456789-abcdef"
    static let logger = Logger(label: "bench")

    /// The folder of this executable, where `swift build` puts brief-server too.
    static var binaries: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    }

    static var nginx: String {
        ProcessInfo.processInfo.environment["BRIEFSYNC_BENCH_NGINX"] ?? "/usr/sbin/nginx"
    }

    static var wrk: String {
        ProcessInfo.processInfo.environment["BRIEFSYNC_BENCH_WRK"] ?? "/usr/bin/wrk"
    }

    /// Raises this process's open-file limit to the hard limit; children inherit it.
    static func raiseFileLimit() -> Int {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        return Int(limit.rlim_cur)
    }

    static func freePort() throws -> Int {
        try LoopbackPort.free()
    }

    /// A new temporary folder.
    static func folder(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent(
            "brief-bench-\(name)-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        chmod(url.path, 0o755)
        return url
    }

    /// Runs a program to its end; its standard output.
    @discardableResult
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        String(decoding: try runData(executable, arguments), as: UTF8.self)
    }

    /// What `executable` writes to its standard output, as bytes.
    static func runData(_ executable: String, _ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw BenchError("\(executable) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
        return data
    }

    /// One HTTP request over URLSession (setup and single measurements, not load).
    static func request(
        _ method: String,
        _ url: String,
        token: String? = nil,
        body: Data? = nil
    ) async throws -> (status: Int, headers: [String: String], body: Data) {
        var request = URLRequest(url: URL(string: url)!, timeoutInterval: 120)
        request.httpMethod = method
        request.setValue(String(WireProtocol.version), forHTTPHeaderField: WireProtocol.header)
        if let token {
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        }
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            headers[String(describing: name).lowercased()] = String(describing: value)
        }
        return (http.statusCode, headers, data)
    }

    /// Starts bare Hummingbird (`brief-bench framework-reference`) serving `file`'s bytes on a
    /// free port, and warms it up as the servers measured against it are.
    static func startFrameworkReference(_ name: String, serving file: URL) async throws -> (Child, port: Int) {
        let port = try Bench.freePort()
        let child = try Child(
            name,
            Bench.binaries.appendingPathComponent("brief-bench").path,
            ["framework-reference", "--port", String(port), "--file", file.path]
        )
        do {
            try await Bench.waitUntilReady("http://127.0.0.1:\(port)/held")
            for _ in 0..<20 {
                _ = try await Bench.request("GET", "http://127.0.0.1:\(port)/held")
            }
        } catch {
            child.forceStop()
            throw error
        }
        return (child, port)
    }

    static func waitUntilReady(_ url: String) async throws {
        let started = ContinuousClock.now
        while ContinuousClock.now - started < .seconds(60) {
            if let answer = try? await request("GET", url), answer.status == 200 {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw BenchError("\(url) did not answer")
    }

    /// A user's session token (the user is created by ``Fixture``).
    static func login(_ server: String, user: String = "bench", device: String = "bench-device") async throws
        -> String
    {
        let credentials = CredentialsV1(
            username: user,
            password: BenchPassword.plain,
            deviceId: DeviceID(rawValue: device)!,
            deviceName: nil
        )
        let answer = try await request(
            "POST",
            "\(server)/v1/sessions",
            body: try WireCoding.encoder().encode(credentials)
        )
        guard answer.status == 201 || answer.status == 200 else {
            throw BenchError("login failed: \(answer.status) \(String(decoding: answer.body, as: UTF8.self))")
        }
        return try WireCoding.decoder(unknownFields: .ignore).decode(SessionV1.self, from: answer.body).token
    }

    /// Pages to the head of the user's feed; the up-to-date token.
    static func upToDateToken(_ server: String, token: String) async throws -> String {
        var since: String?
        while true {
            let query = since.map { "&since=\($0)" } ?? ""
            let answer = try await request("GET", "\(server)/v1/changes?limit=1000\(query)", token: token)
            let page = try WireCoding.decoder(unknownFields: .ignore).decode(ChangesPageV2.self, from: answer.body)
            since = page.nextToken
            if !page.hasMore {
                return page.nextToken
            }
        }
    }
}

/// A running child process (brief-server, nginx); stopped with SIGTERM.
final class Child: @unchecked Sendable {
    let process = Process()
    let name: String

    init(_ name: String, _ executable: String, _ arguments: [String]) throws {
        self.name = name
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    /// Resident memory now, from /proc, in KiB.
    var residentKiB: Int {
        let status = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// CPU time the process has used so far, user and system, in seconds (from /proc).
    var cpuSeconds: Double {
        let stat = (try? String(contentsOfFile: "/proc/\(process.processIdentifier)/stat", encoding: .utf8)) ?? ""
        // why after the last ")": the command name in parentheses may hold spaces
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        // fields 14 and 15 of stat(5) (utime, stime), counted here from the state, field 3
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
            return .nan
        }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Kills the process at once (a reference server with requests held: nothing to save).
    func forceStop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    func stop() {
        guard process.isRunning else {
            return
        }
        process.terminate()
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline {
            usleep(20_000)
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
        }
    }
}

/// Where a benchmark's server keeps its data: a new SQLite file, or a new PostgreSQL database.
enum BenchDatabase: CustomStringConvertible {
    case sqlite(path: String)
    case postgres(PostgresSettings)

    /// A new, empty database of the kind given (`postgresAdmin`: an admin URL, or nil for SQLite).
    static func fresh(postgresAdmin: String?, in folder: URL) async throws -> BenchDatabase {
        guard let postgresAdmin else {
            return .sqlite(path: folder.appendingPathComponent("server.sqlite").path)
        }
        guard var settings = PostgresSettings(url: postgresAdmin) else {
            throw BenchError("--postgres is not a postgres:// URL")
        }
        let name = "brief_bench_\(UInt32.random(in: 0...UInt32.max))"
        try await execute("CREATE DATABASE \(name)", on: settings)
        settings.database = name
        return .postgres(settings)
    }

    var kind: String {
        switch self {
        case .sqlite: "SQLite"
        case .postgres: "PostgreSQL"
        }
    }

    var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let settings): settings.description
        }
    }

    var configuration: ServerConfiguration.Database {
        switch self {
        case .sqlite(let path): .sqlite(path: path)
        case .postgres(let settings): .postgres(settings)
        }
    }

    func drop() async {
        if case .postgres(var settings) = self {
            let name = settings.database
            settings.database = "postgres"
            try? await Self.execute("DROP DATABASE \(name) WITH (FORCE)", on: settings)
        }
    }

    static func execute(_ sql: String, on settings: PostgresSettings) async throws {
        try await TestPostgres.execute(sql, on: settings)
    }
}

/// A database filled with generated briefs and the benchmark user, and brief-server instances on it.
struct Fixture {
    let folder: URL
    let database: BenchDatabase
    let instances: [Child]
    let ports: [Int]

    var server: String { "http://127.0.0.1:\(ports[0])" }

    /// Publishes `briefs` generated briefs and creates the user `bench` (and `users` more, `bench-N`),
    /// then starts `instances` brief-server processes on the database.
    static func start(
        _ name: String,
        postgres: String?,
        briefs: Int,
        users: Int = 0,
        instances count: Int = 1,
        serverArguments: [String] = [],
        prepare: (any DeltaStore, BenchDatabase) async throws -> Void = { _, _ in }
    ) async throws -> Fixture {
        let folder = try Bench.folder(name)
        let database = try await BenchDatabase.fresh(postgresAdmin: postgres, in: folder)
        try await withOpenStore(database.configuration, logger: Bench.logger) { store in
            var generator = BriefGenerator(seed: 1, template: try BriefGenerator.seedBrief())
            for index in 0..<briefs {
                _ = try await store.publish(generator.brief(index), now: Int64(index))
            }
            let hash = BenchPassword.hash
            for user in ["bench"] + (0..<users).map({ "bench-\($0)" }) {
                _ = try await store.createUser(username: user, passwordHash: hash, now: 0)
            }
            try await prepare(store, database)
        }
        // why --port 0: a port found free here could be bound by another process (a test beside
        // the smoke test, another benchmark) before the instance binds it
        var ports: [Int] = []
        var instances: [Child] = []
        for index in 0..<count {
            let portFile = folder.appendingPathComponent("instance-\(index).port")
            let instance = try Child(
                "brief-server",
                Bench.binaries.appendingPathComponent("brief-server").path,
                [
                    "serve", "--port", "0", "--port-file", portFile.path, "--database", database.description,
                    "--publisher-key", Bench.publisherKey, "--log-level", "error", "--trusted-proxies", "127.0.0.1",
                    // why no cap: one bench account stands for the devices of many users
                    "--bcrypt-cost", "4", "--max-long-polls-per-user", "1000000",
                ] + serverArguments
            )
            instances.append(instance)
            guard let port = try await PortFile.port(in: portFile, while: { instance.process.isRunning }) else {
                // why no exit status: a server that hangs is still running, and Foundation traps
                // when asked for the status of a running process
                instances.forEach { $0.stop() }
                throw BenchError("brief-server stopped, or did not listen within 60 s, before writing \(portFile.path)")
            }
            ports.append(port)
        }
        for port in ports {
            try await Bench.waitUntilReady("http://127.0.0.1:\(port)/readyz")
        }
        return Fixture(folder: folder, database: database, instances: instances, ports: ports)
    }

    func stop() async {
        instances.forEach { $0.stop() }
        await database.drop()
        try? FileManager.default.removeItem(at: folder)
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) {
        self.description = description
    }
}

/// Median and spread of repeated measurements.
struct Sample: CustomStringConvertible {
    var values: [Double]

    var median: Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else {
            return .nan
        }
        return sorted.count % 2 == 1
            ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// (max − min) / median, as a percentage.
    var spread: Double {
        guard let low = values.min(), let high = values.max(), median != 0 else {
            return .nan
        }
        return (high - low) / median * 100
    }

    var description: String {
        values.count > 1 && spread.isFinite ? "\(format(median)) (±\(Int(spread.rounded()))%)" : format(median)
    }
}

func format(_ value: Double) -> String {
    if value.isNaN {
        return "–"
    }
    if value >= 100 {
        return String(Int(value.rounded()))
    }
    return String(format: value >= 10 ? "%.1f" : "%.2f", value)
}

/// One line of the results table.
struct ResultRow {
    var benchmark: String
    var store: String
    var figure: String
    var reference: String
    var ratio: String

    static func printTable(_ rows: [ResultRow]) {
        print("| benchmark | store | BriefSync | reference | ratio |")
        print("| --- | --- | --- | --- | --- |")
        printRows(rows)
    }

    static func printRows(_ rows: [ResultRow]) {
        for row in rows {
            print("| \(row.benchmark) | \(row.store) | \(row.figure) | \(row.reference) | \(row.ratio) |")
        }
    }
}
