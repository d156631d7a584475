import ArgumentParser
import BriefModel
import Foundation
import NIOCore
import NIOPosix

/// Figure 6: how many idle long-polls one instance holds, and the memory each costs it.
///
/// The client opens plain TCP connections and writes one `GET /v1/changes?wait=60` on each
/// (SwiftNIO, no HTTP client per connection), so that the client costs little and the server's
/// resident memory is read from /proc before and while they are held.
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
        let group = MultiThreadedEventLoopGroup.singleton
        var channels: [any Channel] = []
        do {
            let token = try await Bench.login(fixture.server)
            let since = try await Bench.upToDateToken(fixture.server, token: token)
            // warm up: the first requests allocate what every later one reuses
            for _ in 0..<20 {
                _ = try await Bench.request("GET", "\(fixture.server)/v1/changes?since=\(since)", token: token)
            }
            try await Task.sleep(for: .milliseconds(500))
            let before = fixture.instances[0].residentKiB
            let request = ByteBuffer(
                string: "GET /v1/changes?since=\(since)&wait=60 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Authorization: Bearer \(token)\r\n\(WireProtocol.header): \(WireProtocol.version)\r\n\r\n"
            )
            let port = fixture.ports[0]
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
                held = try await heldNow(fixture.server)
            }
            let during = fixture.instances[0].residentKiB
            for channel in channels {
                try? await channel.close()
            }
            await fixture.stop()
            let perRequest = Double(during - before) * 1024 / Double(max(held, 1))
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
            ]
        } catch {
            for channel in channels {
                try? await channel.close()
            }
            await fixture.stop()
            throw error
        }
    }

    /// The server's `briefsync_longpolls_held` gauge.
    private func heldNow(_ server: String) async throws -> Int {
        let metrics = String(decoding: try await Bench.request("GET", "\(server)/metrics").body, as: UTF8.self)
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("briefsync_longpolls_held") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) } ?? 0
    }
}
