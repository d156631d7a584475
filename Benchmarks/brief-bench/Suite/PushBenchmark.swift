import ArgumentParser
import AsyncHTTPClient
import BriefModel
import Foundation
import NIOCore
import NIOHTTP1

/// Figures 4 and 7: read-state mutations merged per second, pushed by many devices at once in
/// batches of 1 and of 100.
struct PushBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Read-state mutations merged per second from concurrent devices."
    )
    @OptionGroup var options: SuiteOptions
    @Option(help: "brief-server instances; 2 or more go behind an nginx proxy (PostgreSQL only).")
    var instances = 1

    func run() async throws {
        ResultRow.printTable(try await measure())
    }

    func measure() async throws -> [ResultRow] {
        guard instances == 1 || options.postgres != nil else {
            throw ValidationError("several instances need --postgres")
        }
        let devices = options.scaled(options.connections, tiny: 4)
        let briefCount = options.scaled(200, tiny: 5)
        let fixture = try await Fixture.start(
            "push",
            postgres: options.postgres,
            briefs: briefCount,
            users: devices,
            instances: instances
        )
        var proxy: Nginx?
        defer { proxy?.stop() }
        do {
            var target = fixture.server
            if instances > 1 {
                let port = try Bench.freePort()
                proxy = try Nginx.start(
                    port: try Bench.freePort(),
                    files: [:],
                    extra: Nginx.proxy(to: fixture.ports, listening: port)
                )
                target = "http://127.0.0.1:\(port)"
            }
            var tokens: [String] = []
            for index in 0..<devices {
                tokens.append(try await Bench.login(fixture.server, user: "bench-\(index)", device: "device-\(index)"))
            }
            var generator = BriefGenerator(seed: 1, template: try BriefGenerator.seedBrief())
            let briefs = (0..<briefCount).map { generator.brief($0).id }
            var configuration = HTTPClient.Configuration()
            configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = devices
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            var rows: [ResultRow] = []
            do {
                var nextID = [UInt64](repeating: 1, count: devices)
                for batch in [1, 100] {
                    var rates: [Double] = []
                    for _ in 0..<options.repeats {
                        let (merged, elapsed) = try await push(
                            batch: batch,
                            tokens: tokens,
                            briefs: briefs,
                            nextID: &nextID,
                            target: target,
                            client: client
                        )
                        rates.append(Double(merged) / elapsed)
                    }
                    let store = fixture.database.kind + (instances > 1 ? ", \(instances) instances behind nginx" : "")
                    rows.append(
                        ResultRow(
                            benchmark: "4. mutations merged/s, batches of \(batch), \(devices) devices",
                            store: store,
                            figure: Sample(values: rates).description,
                            reference: "–",
                            ratio: "–"
                        )
                    )
                }
            } catch {
                try? await client.shutdown()
                throw error
            }
            try await client.shutdown()
            await fixture.stop()
            return rows
        } catch {
            await fixture.stop()
            throw error
        }
    }

    /// Every device pushes batches for the configured time; returns mutations acknowledged and seconds.
    private func push(
        batch: Int,
        tokens: [String],
        briefs: [BriefID],
        nextID: inout [UInt64],
        target: String,
        client: HTTPClient
    ) async throws -> (Int, Double) {
        let seconds = Double(options.tiny ? 1 : options.seconds)
        let started = ContinuousClock.now
        let deadline = started + .milliseconds(Int64(seconds * 1000))
        let firstIDs = nextID
        let results = try await withThrowingTaskGroup(of: (Int, UInt64).self) { group in
            for (index, token) in tokens.enumerated() {
                let device = DeviceID(rawValue: "device-\(index)")!
                var id = firstIDs[index]
                group.addTask {
                    var merged = 0
                    var wall: Int64 = 1_000_000 + Int64(id)
                    while ContinuousClock.now < deadline {
                        let mutations = (0..<batch).map { offset -> MutationV1 in
                            let n = Int(id) + offset
                            let action: ReadAction =
                                switch n % 4 {
                                case 0: .markRead
                                case 1: .save
                                case 2: .progress(Double(n % 10) / 10)
                                default: .markUnread
                                }
                            return MutationV1(
                                id: id + UInt64(offset),
                                briefID: briefs[(n * 7 + index) % briefs.count],
                                action: action,
                                stamp: HybridTimestamp(wall: wall + Int64(offset), device: device)
                            )
                        }
                        var request = HTTPClientRequest(url: "\(target)/v1/read-states")
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer \(token)")
                        request.headers.add(name: WireProtocol.header, value: String(WireProtocol.version))
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.body = .bytes(
                            ByteBuffer(
                                bytes: try WireCoding.encoder().encode(
                                    PushRequestV1(deviceID: device, mutations: mutations)
                                )
                            )
                        )
                        let response = try await client.execute(request, timeout: .seconds(60))
                        _ = try await response.body.collect(upTo: 1 << 24)
                        guard response.status == .ok else {
                            throw BenchError("a push answered \(response.status)")
                        }
                        merged += batch
                        id += UInt64(batch)
                        wall += Int64(batch)
                    }
                    return (merged, id)
                }
            }
            var all: [(Int, UInt64)] = []
            for try await result in group {
                all.append(result)
            }
            return all
        }
        let elapsed =
            Double((ContinuousClock.now - started).components.seconds)
            + Double((ContinuousClock.now - started).components.attoseconds) / 1e18
        // why: the group returns in completion order; ids only need to grow per device, so the
        // largest reached overall is a safe start for everyone next time
        let highest = results.map(\.1).max() ?? 1
        nextID = nextID.map { _ in highest }
        return (results.map(\.0).reduce(0, +), elapsed)
    }
}
