import BriefModel
import Foundation
import GRDB
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import BriefServer

@Suite struct OperationsTests {
    @Test func healthReadinessAndMetrics() async throws {
        try await TestServer().test { client in
            #expect(try await client.send(.get, "/healthz").decode(HealthV1.self).status == "ok")
            #expect(try await client.send(.get, "/readyz").decode(HealthV1.self).status == "ok")
            try await client.publish(try TestServer.brief("b-1"))
            let token = try await client.register("anna")
            _ = try await client.changes(token)
            _ = try await client.send(.get, "/v1/nothing", token: token)
            let metrics = String(decoding: try await client.send(.get, "/metrics").body, as: UTF8.self)
            #expect(metrics.contains("briefsync_http_requests_total{"))
            #expect(metrics.contains(#"route="/v1/changes""#))
            #expect(metrics.contains("briefsync_changes_served_total 1"))
            #expect(metrics.contains(#"briefsync_errors_total{code="not_found"} 1"#))
            #expect(metrics.contains("briefsync_http_request_duration_seconds"))
        }
    }

    @Test func requestIDsAreHonouredOrMade() async throws {
        try await TestServer().test { client in
            let given = try await client.send(.get, "/healthz", headers: [HTTPField.Name("X-Request-Id")!: "abc-123"])
            #expect(given.headers[HTTPField.Name("X-Request-Id")!] == "abc-123")
            let unsafe = try await client.send(.get, "/healthz", headers: [HTTPField.Name("X-Request-Id")!: "a b\"c"])
            let made = try #require(unsafe.headers[HTTPField.Name("X-Request-Id")!])
            #expect(made != "a b\"c" && !made.isEmpty)
            #expect(given.headers[HTTPField.Name("BriefSync-Protocol")!] == "2")
        }
    }

    @Test func restartKeepsAccountsBriefsStatesAndTokens() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("briefsync-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("data/briefsync.sqlite").path

        // Given a server that stored a user, a brief, a read-state and handed out a token
        let first = try TestServer(store: try openStore(.sqlite(path: path)))
        let (token, nextToken) = try await first.test { client in
            let token = try await client.register("anna")
            try await client.publish(try TestServer.brief("b-1"))
            _ = try await client.push(token, [mutation(1, "b-1", .save, wall: 5)])
            return (token, try await client.changes(token).decode(ChangesPageV2.self).nextToken)
        }

        // When a new process opens the same file
        let second = try TestServer(store: try openStore(.sqlite(path: path)))
        try await second.test { client in
            // Then the session, the token and the data are all still there
            let page = try await client.changes(token, since: nextToken)
            #expect(page.status == .ok)
            #expect(try page.decode(ChangesPageV2.self).published.isEmpty)
            let all = try await client.allPages(token)
            #expect(all.flatMap(\.published).map(\.id.rawValue) == ["b-1"])
            #expect(all.flatMap(\.readStates).map(\.isSaved) == [true])
            #expect(try await client.login("anna", device: "tablet").status == .created)
        }
        let journal = try await DatabaseQueue(path: path).read { db in
            try String.fetchOne(db, sql: "PRAGMA journal_mode")
        }
        #expect(journal == "wal")
    }

    @Test func liveSocket() async throws {
        try await TestServer().test(.live) { client in
            let token = try await client.register("anna")
            try await client.publish(try TestServer.example())
            let page = try await client.changes(token).decode(ChangesPageV2.self)
            #expect(page.published.count == 1)
            #expect(try await client.send(.get, "/healthz").status == .ok)
        }
    }
}

@Suite struct QueryPlanTests {
    /// The feed's queries are range scans on an index, so a page costs what it returns.
    @Test func feedQueriesUseIndexes() throws {
        let database = try DatabaseQueue()
        _ = try SQLiteDeltaStore(database)
        typealias SQL = SQLiteDeltaStore.FeedSQL
        func plan(_ sql: String, _ arguments: StatementArguments) throws -> [String] {
            try database.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql, arguments: arguments).map {
                    $0["detail"] as String
                }
            }
        }
        let range: StatementArguments = [1, 1, 10]
        let catchUp: StatementArguments = [1, "ai-tech", 100, "2026-01-01", "2026-06-01", 50, 10]
        let plans = [
            "content": try plan(SQL.content, range), "readStates": try plan(SQL.readStates, range),
            "follows": try plan(SQL.follows, range), "catchUpWindowAll": try plan(SQL.catchUpWindowAll, catchUp),
            "catchUpWindowTopic": try plan(SQL.catchUpWindowTopic, catchUp),
            "catchUpSaved": try plan(SQL.catchUpSaved, catchUp),
        ]
        let expected = [
            "content": "SEARCH b USING INDEX sqlite_autoindex_briefs_2 (position>?)",
            "readStates": "read_states_by_user_position (user_id=? AND position>?)",
            "follows": "subscriptions_by_user_position (user_id=? AND position>?)",
            "catchUpWindowAll": "SEARCH b USING INDEX briefs_newest (",
            "catchUpWindowTopic": "SEARCH b USING INDEX briefs_newest_by_topic (topic_id=? AND ",
            "catchUpSaved": "SEARCH r USING INDEX read_states_saved (user_id=?)",
        ]
        // the content log's user's state of each edition: one key lookup per row
        #expect(plans["content"]!.contains { $0.contains("SEARCH r USING PRIMARY KEY (user_id=? AND brief_id=?)") })
        for (name, plan) in plans {
            #expect(plan.contains { $0.contains(expected[name]!) }, "\(name): \(plan)")
            #expect(!plan.contains { $0.hasPrefix("SCAN") }, "\(name): \(plan)")
            // the saved briefs of one user are sorted: a handful, never the history
            if name != "catchUpSaved" {
                #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(name): \(plan)")
            }
        }
    }
}

@Suite struct ConfigurationTests {
    @Test func valuesParse() {
        #expect(ConfigurationValue.duration("30d") == Int64(2_592_000_000))
        #expect(ConfigurationValue.duration("90m") == 5_400_000)
        #expect(ConfigurationValue.duration("500ms") == 500)
        #expect(ConfigurationValue.duration("soon") == nil)
        #expect(ConfigurationValue.size("1MiB") == 1 << 20)
        #expect(ConfigurationValue.size("512KiB") == 512 << 10)
        #expect(ConfigurationValue.size("-1") == nil)
        #expect(ConfigurationValue.database("sqlite:./x.sqlite") == .sqlite(path: "./x.sqlite"))
        #expect(ConfigurationValue.database("sqlite::memory:") == .sqliteInMemory)
        #expect(ConfigurationValue.database("mysql://x") == nil)
    }

    @Test func postgresURLs() throws {
        let plain = try #require(PostgresSettings(url: "postgres://brief@db.internal:6432/briefsync"))
        #expect(plain.host == "db.internal" && plain.port == 6432 && plain.database == "briefsync")
        #expect(plain.username == "brief" && plain.password == nil && plain.tls == .disable)

        let secure = try #require(
            PostgresSettings(
                url: "postgresql://brief:p%40ss@db/briefsync?sslmode=verify-full&sslrootcert=/etc/ca.pem&pool_max=8"
            )
        )
        #expect(secure.port == 5432 && secure.password == "p@ss" && secure.tls == .require)
        #expect(secure.rootCertificatePath == "/etc/ca.pem" && secure.maximumConnections == 8)
        // what is logged never holds the password
        #expect(!secure.description.contains("p@ss") && !secure.description.contains("p%40ss"))
        #expect(secure.description == "postgres://brief@db:5432/briefsync?sslmode=require")

        // a misspelt option must not silently mean "no TLS"
        #expect(PostgresSettings(url: "postgres://brief@db/briefsync?ssl_mode=require") == nil)
        #expect(PostgresSettings(url: "postgres://db/briefsync") == nil, "a user is required")
        #expect(PostgresSettings(url: "postgres://brief@db/") == nil, "a database is required")
        #expect(
            ConfigurationValue.database("postgres://brief@db/briefsync")
                == .postgres(PostgresSettings(host: "db", username: "brief", database: "briefsync"))
        )
    }

    @Test func trustedProxyRanges() throws {
        let network = try #require(AddressRange("10.0.0.0/8"))
        #expect(network.contains("10.1.2.3") && !network.contains("11.0.0.1"))
        #expect(try #require(AddressRange("127.0.0.1")).contains("127.0.0.1"))
        #expect(try #require(AddressRange("::1")).contains("::1"))
        #expect(AddressRange("10.0.0.0/33") == nil && AddressRange("example.com") == nil)
    }
}
