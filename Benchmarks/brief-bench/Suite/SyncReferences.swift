import ArgumentParser
import BriefModel
@_spi(Benchmarks) import BriefStore
import Crypto
import Foundation
import GRDB

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Figure 3's references: the same briefs inserted raw into SQLite in one transaction, the same
/// with their full-text search entries (what the device's offline search needs), and the same
/// bytes downloaded from nginx. `client-sync` measures BriefSync's own initial sync.
///
/// Beside them, not a reference but a floor: the same documents checked one after another as a
/// device checks each edition it fetches (``FetchedEdition``: digest, parse, validation, search
/// text), work that no initial sync can skip and that the insert does not include.
struct SyncReferences: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync-references",
        abstract: "Raw SQLite insert and nginx download of the briefs an initial sync brings."
    )
    @Option(help: "How many briefs.") var briefs = 10_000
    @Option(help: "Repeated runs.") var repeats = 3

    func run() async throws {
        var generator = BriefGenerator(seed: 1, template: try BriefGenerator.seedBrief())
        let encoder = WireCoding.encoder()
        var rows: [(id: String, topic: String, date: String, title: String, document: Data)] = []
        var searchRows: [[String]] = []
        var all = Data("[".utf8)
        for index in 0..<briefs {
            let brief = generator.brief(index)
            let document = try encoder.encode(brief)
            rows.append((brief.id.rawValue, brief.topic.id.rawValue, brief.date.iso, brief.title, document))
            searchRows.append([brief.id.rawValue] + DeviceStore.searchColumns(of: brief))
            all.append(contentsOf: (index == 0 ? "" : ",").utf8)
            all.append(document)
        }
        all.append(contentsOf: "]".utf8)

        let documents = rows.map { ($0.id, $0.topic, $0.date, $0.title, String(decoding: $0.document, as: UTF8.self)) }
        let editions = try rows.map { row in
            guard let id = BriefID(rawValue: row.id), let topic = TopicID(rawValue: row.topic),
                let date = CalendarDate(iso: row.date)
            else {
                throw BenchError("the generator made brief \(row.id), which its own types refuse")
            }
            let digest = ContentDigest.hex(Array(SHA256.hash(data: row.document)))
            let ref = BriefRefV2(id: id, version: 1, topic: topic, date: date, digest: digest, size: row.document.count)
            return (ref: ref, bytes: row.document)
        }
        var checks: [Double] = []
        for _ in 0..<repeats {
            let started = ContinuousClock.now
            for edition in editions {
                _ = try FetchedEdition(edition.ref, bytes: edition.bytes)
            }
            checks.append(seconds(ContinuousClock.now - started))
        }
        let searchEntries = searchRows
        var inserts: [Double] = []
        var indexed: [Double] = []
        for _ in 0..<repeats {
            for withSearch in [false, true] {
                let folder = try Bench.folder("raw-insert")
                defer { try? FileManager.default.removeItem(at: folder) }
                // the device's page size, so that the reference stores the rows as the device does
                var configuration = Configuration()
                configuration.prepareDatabase(DeviceStore.choosePageSize)
                let queue = try DatabaseQueue(
                    path: folder.appendingPathComponent("raw.sqlite").path,
                    configuration: configuration
                )
                let started = ContinuousClock.now
                try await queue.write { db in
                    try db.execute(
                        sql:
                            "CREATE TABLE briefs (id TEXT PRIMARY KEY, topic TEXT, date TEXT, title TEXT, document TEXT)"
                    )
                    let statement = try db.makeStatement(sql: "INSERT INTO briefs VALUES (?, ?, ?, ?, ?)")
                    for (id, topic, date, title, document) in documents {
                        try statement.execute(arguments: [id, topic, date, title, document])
                    }
                    guard withSearch else {
                        return
                    }
                    // the device's search table: same columns, same tokenizer
                    try db.execute(
                        sql: """
                            CREATE VIRTUAL TABLE briefs_search USING fts5 (
                                brief_id UNINDEXED, title, takeaways, body, quotes, episodes, highlights, categories,
                                tokenize = 'unicode61 remove_diacritics 2')
                            """
                    )
                    let insert = try db.makeStatement(sql: "INSERT INTO briefs_search VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
                    for row in searchEntries {
                        try insert.execute(arguments: StatementArguments(row))
                    }
                }
                if withSearch {
                    indexed.append(seconds(ContinuousClock.now - started))
                } else {
                    inserts.append(seconds(ContinuousClock.now - started))
                }
                try queue.close()
            }
        }

        let port = try Bench.freePort()
        let nginx = try Nginx.start(port: port, files: ["briefs.json": all])
        defer { nginx.stop() }
        var downloads: [Double] = []
        for _ in 0..<repeats {
            let started = ContinuousClock.now
            let (data, _) = try await URLSession.shared.data(from: URL(string: "http://127.0.0.1:\(port)/briefs.json")!)
            downloads.append(seconds(ContinuousClock.now - started))
            guard data.count == all.count else {
                throw BenchError("nginx sent \(data.count) bytes of \(all.count)")
            }
        }
        print("raw SQLite insert of \(briefs) briefs in one transaction: \(Sample(values: inserts)) s")
        print("nginx download of the same \(all.count / 1_048_576) MiB: \(Sample(values: downloads)) s")
        print("the same with their search entries (FTS5): \(Sample(values: indexed)) s")
        print(
            "checking the same documents as a device checks each edition (digest, parse, validation, "
                + "search text), one after another: \(Sample(values: checks)) s"
        )
        print(
            "REFERENCE insert=\(Sample(values: inserts).median) indexed=\(Sample(values: indexed).median) "
                + "download=\(Sample(values: downloads).median) checked=\(Sample(values: checks).median)"
        )
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
