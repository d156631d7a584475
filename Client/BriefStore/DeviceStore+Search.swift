import BriefModel
import GRDB

extension DeviceStore {
    /// Full-text search over every part of the briefs held: headline, takeaways, body, quotes,
    /// episode titles, shows and hosts, highlights, and categories with their items.
    ///
    /// Each word of `text` matches words that start with it ("alib" finds "Alibaba"); all words
    /// must match. Results are ranked by SQLite's bm25, the headline weighing most.
    public func search(_ text: String, limit: Int = 20) async throws -> [SearchHit] {
        let words = text.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
        guard !words.isEmpty else {
            return []
        }
        // why quote each word: user text must never be read as FTS5 syntax (AND, NEAR, columns)
        let match = words.map { "\"\($0)\"*" }.joined(separator: " ")
        return try await writer.read { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT brief_id, snippet(briefs_search, -1, '[', ']', '…', 12) AS snippet,
                               bm25(briefs_search, 0, 10, 4, 1, 2, 3, 2, 1) AS rank
                        FROM briefs_search WHERE briefs_search MATCH ? ORDER BY rank LIMIT ?
                        """
                ),
                arguments: [match, limit]
            )
            return try rows.compactMap { row -> SearchHit? in
                let id: String = row["brief_id"]
                guard
                    let summaryRow = try Row.fetchOne(db, sql: Self.summarySelect + " WHERE b.id = ?", arguments: [id]),
                    let summary = Self.summary(summaryRow)
                else {
                    return nil
                }
                return SearchHit(summary: summary, snippet: row["snippet"], rank: row["rank"])
            }
        }
    }

    /// Adds the search entry of the brief `id`, whose row is stored and has no entry.
    static func index(_ id: BriefID, searchColumns: [String], _ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO briefs_search (rowid, brief_id, title, takeaways, body, quotes, episodes, highlights, categories)
                VALUES ((SELECT rowid FROM briefs WHERE id = ?), ?, ?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(
            arguments: StatementArguments([id.rawValue, id.rawValue] + searchColumns)
        )
    }

    /// The text of a brief's search entry, column by column: title, takeaways, body, quotes,
    /// episodes, highlights, categories (the benchmarks' raw-insert reference uses it too).
    @_spi(Benchmarks)
    public static func searchColumns(of brief: Brief) -> [String] {
        var paragraphs: [String] = []
        var quotes: [String] = []
        for block in brief.body {
            switch block {
            case .paragraph(let text): paragraphs.append(text)
            case .quote(let quote): quotes.append("\(quote.text) — \(quote.speaker), \(quote.show)")
            }
        }
        let episodes = brief.sources.map { [$0.title, $0.show, $0.host].compactMap { $0 }.joined(separator: " · ") }
        let categories = brief.sources.flatMap(\.alsoFromEpisode).map {
            "\($0.name): " + $0.items.joined(separator: " ")
        }
        return [
            brief.title, brief.takeaways.joined(separator: "\n"), paragraphs.joined(separator: "\n"),
            quotes.joined(separator: "\n"), episodes.joined(separator: "\n"),
            brief.sources.flatMap(\.highlights).joined(separator: "\n"), categories.joined(separator: "\n"),
        ]
    }

    /// Removes a brief's search entry; call it before deleting the brief's row.
    ///
    /// why by rowid: an entry shares its brief's rowid, and FTS5 finds a rowid at once, while a
    /// match on the unindexed brief_id column reads every entry (quadratic over a large sync).
    static func removeFromSearch(_ id: String, _ db: Database) throws {
        try db.cachedStatement(sql: "DELETE FROM briefs_search WHERE rowid = (SELECT rowid FROM briefs WHERE id = ?)")
            .execute(arguments: [id])
    }
}
