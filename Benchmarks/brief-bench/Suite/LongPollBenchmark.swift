import ArgumentParser
import BriefModel
import Foundation
import NIOCore
import NIOPosix

/// Figure 6: how many idle long-polls one instance holds, and the memory each costs it.
///
/// The client opens plain TCP connections and writes one `GET /v1/changes?wait=60` on each
/// (SwiftNIO, no HTTP client per connection), so that the client costs little and the server's
/// resident memory is read from /proc before and while they are held. The same is measured for
/// bare Hummingbird holding requests in a handler that sleeps, the framework's share, and for bare
/// Hummingbird with as many idle keep-alive connections, what a connection alone costs there.
struct LongPollBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "longpoll",
        abstract: "Concurrent idle long-polls held by one instance, and memory per held request."
    )
    @OptionGroup var options: SuiteOptions
    @Option(help: "Long-polls to hold.") var count = 10_000

    func run() async throws {
        ResultRow.printTable(try await measure())
    }

    func measure() async throws -> [ResultRow] {
        let limit = Bench.raiseFileLimit()
        let wanted = options.scaled(count, tiny: 20)
        guard wanted + 100 <= limit else {
            throw BenchError("the open-file limit (\(limit)) is below \(wanted) connections: raise ulimit -Hn")
        }
        let fixture = try await Fixture.start("longpoll", postgres: options.postgres, briefs: 3)
        var channels: [any Channel] = []
        do {
            let token = try await Bench.login(fixture.server)
            let since = try await Bench.upToDateToken(fixture.server, token: token)
            let request = try await Self.longPollRequest(fixture.server, token: token, since: since)
            let ours = try await hold(
                wanted,
                on: fixture.ports[0],
                request: request,
                server: fixture.instances[0],
                heldNow: { try await heldNow(fixture.server) },
                channels: &channels
            )
            let (held, connected) = (ours.held, ours.connected)
            closeAll(&channels)

            // as many idle keep-alive connections to bare Hummingbird, without a request: what a
            // connection costs there (its channel, pipeline and task), the floor of a held request
            let file = fixture.folder.appendingPathComponent("empty")
            try Data().write(to: file)
            let (idleServer, idlePort) = try await Bench.startFrameworkReference("framework-idle", serving: file)
            defer { idleServer.forceStop() }
            let idle = try await hold(
                wanted,
                on: idlePort,
                request: ByteBuffer(),
                server: idleServer,
                heldNow: {
                    // why a pause: connects complete in the kernel's backlog before the server accepts them
                    try await Task.sleep(for: wanted > 1000 ? .seconds(3) : .milliseconds(300))
                    return wanted
                },
                channels: &channels
            )
            closeAll(&channels)
            idleServer.forceStop()

            // the same with bare Hummingbird holding a request in a handler that sleeps
            let (framework, port) = try await Bench.startFrameworkReference("framework-reference", serving: file)
            // why kill: its handlers sleep out their 60 s, which a graceful stop would wait for
            defer { framework.forceStop() }
            let bare = try await hold(
                wanted,
                on: port,
                request: ByteBuffer(string: "GET /hold HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
                server: framework,
                heldNow: {
                    let body = try await Bench.request("GET", "http://127.0.0.1:\(port)/held").body
                    return Int(String(decoding: body, as: UTF8.self)) ?? 0
                },
                channels: &channels
            )
            closeAll(&channels)
            await fixture.stop()
            let perRequest = ours.bytesPerHeld
            return [
                ResultRow(
                    benchmark: "6. idle long-polls held by one instance",
                    store: fixture.database.kind,
                    figure:
                        "\(held) of \(wanted) (opened in \(connected.formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1)))))",
                    reference: "aim: 10,000",
                    ratio: format(Double(held) / 10_000)
                ),
                ResultRow(
                    benchmark: "6. server memory per held long-poll (bytes)",
                    store: fixture.database.kind,
                    figure: format(perRequest),
                    reference: "aim: under 10 KiB (10240)",
                    ratio: format(perRequest / 10240)
                ),
                ResultRow(
                    benchmark: "6. memory per held long-poll against an idle connection's",
                    store: fixture.database.kind,
                    figure: format(perRequest),
                    reference:
                        "bare Hummingbird with \(idle.held) idle keep-alive connections: \(format(idle.bytesPerHeld))",
                    ratio: format(perRequest / idle.bytesPerHeld)
                ),
                ResultRow(
                    benchmark: "6. memory per held long-poll against the framework's",
                    store: fixture.database.kind,
                    figure: format(perRequest),
                    reference: "bare Hummingbird holding \(bare.held) requests: \(format(bare.bytesPerHeld))",
                    ratio: format(perRequest / bare.bytesPerHeld)
                ),
            ]
        } catch {
            closeAll(&channels)
            await fixture.stop()
            throw error
        }
    }

    /// Opens `wanted` connections to `port`, writes `request` on each, and waits until the server
    /// says they are held (or 20 s pass); returns how many it held and its resident memory growth per held request.
    func hold(
        _ wanted: Int,
        on port: Int,
        request: ByteBuffer,
        server: Child,
        heldNow: () async throws -> Int,
        channels: inout [any Channel]
    ) async throws -> (held: Int, bytesPerHeld: Double, connected: Duration) {
        let group = MultiThreadedEventLoopGroup.singleton
        try await Task.sleep(for: .milliseconds(500))
        let before = server.residentKiB
        let connecting = ContinuousClock.now
        // in chunks of concurrent connects: every request must be held before its 60 s run out
        for chunk in stride(from: 0, to: wanted, by: 250) {
            let opened = try await withThrowingTaskGroup(of: (any Channel).self) { tasks in
                for _ in chunk..<min(chunk + 250, wanted) {
                    tasks.addTask {
                        let channel = try await ClientBootstrap(group: group)
                            .connect(host: "127.0.0.1", port: port).get()
                        try await channel.writeAndFlush(request).get()
                        return channel
                    }
                }
                var opened: [any Channel] = []
                for try await channel in tasks {
                    opened.append(channel)
                }
                return opened
            }
            channels += opened
        }
        let connected = ContinuousClock.now - connecting
        let started = ContinuousClock.now
        var held = 0
        while held < wanted && ContinuousClock.now - started < .seconds(20) {
            try await Task.sleep(for: .milliseconds(200))
            held = try await heldNow()
        }
        let during = server.residentKiB
        return (held, Double(during - before) * 1024 / Double(max(held, 1)), connected)
    }

    func closeAll(_ channels: inout [any Channel]) {
        for channel in channels {
            channel.close(promise: nil)
        }
        channels = []
    }
    /// A long-poll of 60 s as raw HTTP/1.1, after 20 polls that warm the server up (the first
    /// requests allocate what every later one reuses).
    static func longPollRequest(_ server: String, token: String, since: String) async throws -> ByteBuffer {
        for _ in 0..<20 {
            _ = try await Bench.request("GET", "\(server)/v1/changes?since=\(since)", token: token)
        }
        return ByteBuffer(
            string: "GET /v1/changes?since=\(since)&wait=60 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Authorization: Bearer \(token)\r\n\(WireProtocol.header): \(WireProtocol.version)\r\n\r\n"
        )
    }

    /// The server's `briefsync_longpolls_held` gauge.
    func heldNow(_ server: String) async throws -> Int {
        let metrics = String(decoding: try await Bench.request("GET", "\(server)/metrics").body, as: UTF8.self)
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("briefsync_longpolls_held") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) } ?? 0
    }
}
