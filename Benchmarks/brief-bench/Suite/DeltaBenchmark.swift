import ArgumentParser
import BriefModel
import BriefServer
import Foundation
import GRDB

/// Figure 2: the latency of a 10-change delta when the feed's history holds 10^4 and 10^6
/// changes. The history is other users' read-state changes, inserted in bulk with SQL (through
/// the store it would take minutes and measure nothing more); the delta is 10 corrections
/// published through the API.
struct DeltaBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delta",
        abstract: "Latency of a 10-change delta against the size of the history behind it."
    )
    @OptionGroup var options: SuiteOptions

    func run() async throws {
        ResultRow.printTable(try await measure())
    }

    func measure() async throws -> [ResultRow] {
        let sizes = options.tiny ? [100, 1000] : [10_000, 1_000_000]
        var medians: [Double] = []
        var samples: [Sample] = []
        var kind = ""
        for size in sizes {
            let sample = try await latency(history: size, kind: &kind)
            samples.append(sample)
            medians.append(sample.median)
        }
        return [
            ResultRow(
                benchmark: "2. 10-change delta latency (ms), history \(sizes[0]) → \(sizes[1])",
                store: kind,
                figure: "\(samples[1])",
                reference: "history \(sizes[0]): \(samples[0])",
                ratio: format(medians[1] / medians[0])
            )
        ]
    }

    private func latency(history: Int, kind: inout String) async throws -> Sample {
        let started = ContinuousClock.now
        let fixture = try await Fixture.start("delta", postgres: options.postgres, briefs: 20) { _, database in
            try await Self.insertHistory(history, into: database)
        }
        kind = fixture.database.kind
        do {
            let token = try await Bench.login(fixture.server)
            let since = try await Bench.upToDateToken(fixture.server, token: token)
            var generator = BriefGenerator(seed: 1, template: try BriefGenerator.seedBrief())
            for index in 0..<10 {
                var brief = generator.brief(index)
                brief.title += " (corrected)"
                _ = try await Bench.request(
                    "PUT",
                    "\(fixture.server)/v1/briefs/\(brief.id.rawValue)",
                    token: Bench.publisherKey,
                    body: try WireCoding.encoder().encode(brief)
                )
            }
            var times: [Double] = []
            let (rounds, warmUp) = options.tiny ? (6, 2) : (40, 5)
            for round in 0..<rounds {
                let clock = ContinuousClock.now
                let answer = try await Bench.request("GET", "\(fixture.server)/v1/changes?since=\(since)", token: token)
                let elapsed = ContinuousClock.now - clock
                let page = try WireCoding.decoder(unknownFields: .ignore).decode(ChangesPageV2.self, from: answer.body)
                guard page.briefs.count == 10 else {
                    throw BenchError("the delta holds \(page.briefs.count) briefs, not 10")
                }
                if round >= warmUp {  // the first rounds warm caches
                    times.append(
                        Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000
                    )
                }
            }
            FileHandle.standardError.write(
                Data(
                    "delta: history \(history) on \(fixture.database.kind) set up and measured in \(ContinuousClock.now - started)\n"
                        .utf8
                )
            )
            await fixture.stop()
            return Sample(values: times.isEmpty ? [.nan] : times)
        } catch {
            await fixture.stop()
            throw error
        }
    }

    /// `count` read-state changes of 1,000 other users, numbered after the current head.
    static func insertHistory(_ count: Int, into database: BenchDatabase) async throws {
        var state = ReadState(briefID: BriefID(rawValue: "h-0")!)
        state = state.applying(.markRead, at: HybridTimestamp(wall: 1, device: DeviceID(rawValue: "history")!))
        let template = String(decoding: try WireCoding.encoder().encode(state), as: UTF8.self)
        switch database {
        case .sqlite(let path):
            let queue = try DatabaseQueue(path: path)
            try await queue.write { db in
                try db.execute(
                    sql: """
                        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
                        INSERT INTO users (username, password_hash, created_at) SELECT 'history-' || i, 'x', 0 FROM n
                        """
                )
                let firstUser = try Int64.fetchOne(
                    db,
                    sql: "SELECT MIN(id) FROM users WHERE username LIKE 'history-%'"
                )!
                // each state on its user's own sequence: user i % 1000, position i / 1000 + 1
                try db.execute(
                    sql: """
                        WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
                        INSERT INTO read_states (user_id, brief_id, state, position)
                        SELECT ? + (i % 1000), 'h-' || i, replace(?, '"h-0"', '"h-' || i || '"'), i / 1000 + 1 FROM n
                        """,
                    arguments: [count, firstUser, template]
                )
                try db.execute(
                    sql: """
                        INSERT OR REPLACE INTO user_heads (user_id, position)
                        SELECT id, ? / 1000 + 1 FROM users WHERE username LIKE 'history-%'
                        """,
                    arguments: [count]
                )
            }
            try queue.close()
        case .postgres(let settings):
            let literal = "'" + template.replacingOccurrences(of: "'", with: "''") + "'"
            try await BenchDatabase.execute(
                """
                INSERT INTO users (username, password_hash, created_at)
                SELECT 'history-' || i, 'x', 0 FROM generate_series(1, 1000) i
                """,
                on: settings
            )
            try await BenchDatabase.execute(
                """
                INSERT INTO read_states (user_id, brief_id, state, position)
                SELECT (SELECT MIN(id) FROM users WHERE username LIKE 'history-%') + (i % 1000), 'h-' || i,
                       replace(\(literal), '"h-0"', '"h-' || i || '"'), i / 1000 + 1
                FROM generate_series(1, \(count)) i
                """,
                on: settings
            )
            try await BenchDatabase.execute(
                """
                INSERT INTO user_heads (user_id, position)
                SELECT id, \(count) / 1000 + 1 FROM users WHERE username LIKE 'history-%'
                ON CONFLICT (user_id) DO UPDATE SET position = excluded.position
                """,
                on: settings
            )
            try await BenchDatabase.execute("ANALYZE", on: settings)
        }
    }
}
