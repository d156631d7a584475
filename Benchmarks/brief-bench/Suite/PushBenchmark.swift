import ArgumentParser
import AsyncHTTPClient
import BriefModel
import BriefServer
import Foundation
import NIOCore
import NIOHTTP1

/// Figures 4 and 7: read-state mutations merged per second, pushed by many devices at once in
/// batches of 1 and of 100. On PostgreSQL, next to pgbench doing the durable write a push of one
/// mutation needs, with as many clients, each its own user, on the same cluster.
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
                let reference = try await pgbenchReference(devices: devices)
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
                    let sample = Sample(values: rates)
                    let compared = batch == 1 ? reference : nil
                    rows.append(
                        ResultRow(
                            benchmark: "4. mutations merged/s, batches of \(batch), \(devices) devices",
                            store: store,
                            figure: sample.description,
                            reference: compared.map { "pgbench, one user's head row and state per transaction: \($0)" }
                                ?? "–",
                            ratio: compared.map { format(sample.median / $0.median) } ?? "–"
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

    /// pgbench's transactions per second with `devices` clients, each bumping its own user's head
    /// row and upserting one state of about a read-state's size, then committing: the durable write
    /// a push of one mutation makes (on a scratch database of the same cluster); `nil` on SQLite.
    private func pgbenchReference(devices: Int) async throws -> Sample? {
        guard let admin = options.postgres, instances == 1 else {
            return nil
        }
        let folder = try Bench.folder("pgbench")
        let database = try await BenchDatabase.fresh(postgresAdmin: admin, in: folder)
        do {
            let sample = try await pgbench(on: database, devices: devices, in: folder)
            await database.drop()
            return sample
        } catch {
            await database.drop()
            throw error
        }
    }

    private func pgbench(on database: BenchDatabase, devices: Int, in folder: URL) async throws -> Sample? {
        guard case .postgres(let settings) = database else {
            return nil
        }
        for statement in [
            "CREATE TABLE heads (user_id BIGINT PRIMARY KEY, position BIGINT NOT NULL)",
            """
            CREATE TABLE states (user_id BIGINT, brief_id TEXT, state TEXT NOT NULL, position BIGINT NOT NULL,
                PRIMARY KEY (user_id, brief_id))
            """,
            "INSERT INTO heads SELECT g, 0 FROM generate_series(0, \(devices - 1)) AS g",
        ] {
            try await BenchDatabase.execute(statement, on: settings)
        }
        let script = folder.appendingPathComponent("push.sql")
        try """
        BEGIN;
        UPDATE heads SET position = position + 1 WHERE user_id = :client_id;
        INSERT INTO states VALUES (:client_id, 'b-' || (random() * 200)::int, repeat('x', 400), 1)
            ON CONFLICT (user_id, brief_id) DO UPDATE SET state = excluded.state, position = excluded.position;
        END;
        """.write(to: script, atomically: true, encoding: .utf8)
        var rates: [Double] = []
        for _ in 0..<options.repeats {
            let output = try Bench.run(
                "/usr/bin/env",
                [
                    // why -t, not -T: pgbench times -T with SIGALRM, which a child of this
                    // process does not get, so it would never stop; about 10,000 per second here
                    "PGPASSWORD=\(settings.password ?? "")", "pgbench", "-n", "-M", "prepared", "-c", String(devices),
                    "-j", "2", "-t", String(options.tiny ? 50 : options.seconds * 10_000 / devices), "-f", script.path,
                    "-h", settings.host, "-p", String(settings.port), "-U", settings.username, settings.database,
                ]
            )
            // "tps = 10234.5 (without initial connection time)"
            guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("tps = ") }),
                let tps = Double(line.dropFirst(6).prefix { $0 != " " })
            else {
                throw BenchError("pgbench printed no tps: \(output)")
            }
            rates.append(tps)
        }
        return Sample(values: rates)
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
