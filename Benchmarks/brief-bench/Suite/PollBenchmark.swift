import ArgumentParser
import BriefModel
import BriefServer
import Foundation

/// Figures 1, 5 and 7: clients already up to date polling `GET /v1/changes` under wrk, next to
/// nginx serving a static file of the same bytes; and the bytes a poll and a 10-change delta put
/// on the wire, next to the gzip size of just the changed records.
struct PollBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "poll",
        abstract: "Up-to-date polls per second against nginx's static file; bytes on the wire."
    )
    @OptionGroup var options: SuiteOptions
    @Option(help: "brief-server instances; 2 or more go behind an nginx proxy (PostgreSQL only).")
    var instances = 1

    func run() async throws {
        let rows = try await measure()
        ResultRow.printTable(rows)
    }

    func measure() async throws -> [ResultRow] {
        guard instances == 1 || options.postgres != nil else {
            throw ValidationError("several instances need --postgres")
        }
        let fixture = try await Fixture.start(
            "poll",
            postgres: options.postgres,
            briefs: options.scaled(50, tiny: 3),
            instances: instances
        )
        var proxy: Nginx?
        var framework: Child?
        defer {
            proxy?.stop()
            framework?.stop()
        }
        do {
            let token = try await Bench.login(fixture.server)
            let since = try await Bench.upToDateToken(fixture.server, token: token)
            let pollPath = "/v1/changes?since=\(since)"
            let poll = try await Bench.request("GET", fixture.server + pollPath, token: token)
            guard poll.status == 200 else {
                throw BenchError("poll answered \(poll.status)")
            }

            // nginx: the same bytes as a static file, and (with several instances) the proxy
            let staticPort = try Bench.freePort()
            var target = fixture.server
            var extra = ""
            // with several instances, the proxy's own ceiling: the same proxy in front of the static file
            var proxiedStatic: String?
            if instances > 1 {
                let proxyPort = try Bench.freePort()
                let ceilingPort = try Bench.freePort()
                extra =
                    Nginx.proxy(to: fixture.ports, listening: proxyPort)
                    + Nginx.proxy(to: [staticPort], listening: ceilingPort, upstream: "staticfile")
                target = "http://127.0.0.1:\(proxyPort)"
                proxiedStatic = "http://127.0.0.1:\(ceilingPort)/poll.json"
            }
            proxy = try Nginx.start(port: staticPort, files: ["poll.json": poll.body], extra: extra)
            // the framework's ceiling: bare Hummingbird answering the same bytes (one instance only)
            var frameworkPort = 0
            if instances == 1 {
                let file = fixture.folder.appendingPathComponent("poll.json")
                try poll.body.write(to: file)
                let started = try await Bench.startFrameworkReference("framework-reference", serving: file)
                (framework, frameworkPort) = (started.0, started.port)
            }

            let headers = ["Authorization: Bearer \(token)", "\(WireProtocol.header): \(WireProtocol.version)"]
            var ours: [Wrk.Result] = []
            var theirs: [Wrk.Result] = []
            var bare: [Wrk.Result] = []
            var proxied: [Wrk.Result] = []
            for _ in 0..<options.repeats {
                if let proxiedStatic {
                    proxied.append(
                        try Wrk.run(proxiedStatic, connections: options.connections, seconds: options.seconds)
                    )
                }
                if framework != nil {
                    bare.append(
                        try Wrk.run(
                            "http://127.0.0.1:\(frameworkPort)/poll.json",
                            connections: options.connections,
                            seconds: options.seconds
                        )
                    )
                }
                ours.append(
                    try Wrk.run(
                        target + pollPath,
                        connections: options.connections,
                        seconds: options.seconds,
                        headers: headers
                    )
                )
                theirs.append(
                    try Wrk.run(
                        "http://127.0.0.1:\(staticPort)/poll.json",
                        connections: options.connections,
                        seconds: options.seconds
                    )
                )
            }
            if let failed = ours.first(where: { $0.errors > 0 }) {
                throw BenchError("\(failed.errors) polls failed")
            }
            let store = fixture.database.kind + (instances > 1 ? ", \(instances) instances behind nginx" : "")
            let rate = Sample(values: ours.map(\.requestsPerSecond))
            let staticRate = Sample(values: theirs.map(\.requestsPerSecond))
            var rows = [
                ResultRow(
                    benchmark: "1. up-to-date poll, requests/s (\(options.connections) connections)",
                    store: store,
                    figure: rate.description,
                    reference: "nginx static file: \(staticRate)",
                    ratio: format(rate.median / staticRate.median)
                ),
                ResultRow(
                    benchmark: "1. up-to-date poll, p50 / p99 latency (ms)",
                    store: store,
                    figure: "\(Sample(values: ours.map(\.p50))) / \(Sample(values: ours.map(\.p99)))",
                    reference: "\(Sample(values: theirs.map(\.p50))) / \(Sample(values: theirs.map(\.p99)))",
                    ratio: format(Sample(values: ours.map(\.p50)).median / Sample(values: theirs.map(\.p50)).median)
                ),
            ]
            // the polls against a ceiling measured beside them, when there is one
            func against(_ benchmark: String, _ reference: String, _ runs: [Wrk.Result]) {
                guard !runs.isEmpty else {
                    return
                }
                let ceiling = Sample(values: runs.map(\.requestsPerSecond))
                rows.append(
                    ResultRow(
                        benchmark: benchmark,
                        store: store,
                        figure: rate.description,
                        reference: "\(reference): \(ceiling)",
                        ratio: format(rate.median / ceiling.median)
                    )
                )
            }
            against(
                "1. up-to-date poll against the framework's ceiling, requests/s",
                "bare Hummingbird, same bytes from memory",
                bare
            )
            against(
                "7. up-to-date poll against the proxy's ceiling, requests/s",
                "the same nginx proxy in front of its static file",
                proxied
            )
            if instances == 1 {
                rows += try await wireBytes(fixture, token: token, since: since, poll: poll)
            }
            await fixture.stop()
            return rows
        } catch {
            await fixture.stop()
            throw error
        }
    }

    /// Figure 5: an up-to-date poll, and a delta of 10 corrections, as bytes on the wire.
    private func wireBytes(
        _ fixture: Fixture,
        token: String,
        since: String,
        poll: (status: Int, headers: [String: String], body: Data)
    ) async throws -> [ResultRow] {
        func wire(_ path: String) throws -> (headers: Int, body: Int) {
            let output = try Bench.run(
                "/usr/bin/curl",
                [
                    "-s", "-o", "/dev/null", "-w", "%{size_header} %{size_download}", "-H",
                    "Authorization: Bearer \(token)", "-H", "\(WireProtocol.header): \(WireProtocol.version)",
                    fixture.server + path,
                ]
            )
            let parts = output.split(separator: " ").compactMap { Int($0) }
            return (parts.first ?? 0, parts.last ?? 0)
        }
        let upToDate = try wire("/v1/changes?since=\(since)")
        // 10 corrections, then the delta a device at `since` receives
        var generator = BriefGenerator(seed: 1, template: try BriefGenerator.seedBrief())
        var changed: [Brief] = []
        for index in 0..<10 {
            var brief = generator.brief(index)
            brief.title += " (corrected)"
            let answer = try await Bench.request(
                "PUT",
                "\(fixture.server)/v1/briefs/\(brief.id.rawValue)",
                token: Bench.publisherKey,
                body: try WireCoding.encoder().encode(brief)
            )
            guard answer.status == 200 || answer.status == 201 else {
                throw BenchError("publishing a correction answered \(answer.status)")
            }
            changed.append(brief)
        }
        let delta = try wire("/v1/changes?since=\(since)")
        let deltaBody = try await Bench.request("GET", "\(fixture.server)/v1/changes?since=\(since)", token: token).body
        let records = try gzipSize(try WireCoding.encoder().encode(changed))
        let store = fixture.database.kind
        return [
            ResultRow(
                benchmark: "5. bytes of an up-to-date poll (headers + body)",
                store: store,
                figure: "\(upToDate.headers) + \(upToDate.body)",
                reference: "–",
                ratio: "–"
            ),
            ResultRow(
                benchmark: "5. bytes of a 10-change delta: plain / gzip",
                store: store,
                figure: "\(delta.headers + delta.body) / \(try gzipSize(deltaBody) + delta.headers)",
                reference: "gzip of the 10 records alone: \(records)",
                ratio: format(Double(try gzipSize(deltaBody) + delta.headers) / Double(records))
            ),
        ]
    }
}

/// Options every benchmark of the suite takes.
struct SuiteOptions: ParsableArguments {
    @Option(help: "An admin URL of a PostgreSQL server to measure on (a new database each run); SQLite without.")
    var postgres: String?
    @Option(help: "Seconds per wrk run.") var seconds = 5
    @Option(help: "Concurrent connections or devices.") var connections = 64
    @Option(help: "Repeated runs; medians and spreads are reported.") var repeats = 3
    @Flag(help: "Tiny sizes, for the smoke test: checks that the benchmark runs, not its figures.") var tiny = false

    func scaled(_ full: Int, tiny small: Int) -> Int {
        tiny ? small : full
    }
}
