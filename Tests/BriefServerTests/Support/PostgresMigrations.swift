import BriefSchema
import BriefTestSupport

@testable import BriefServer

extension TestPostgres {
    /// Leaves the database as a server that knew only the first `count` PostgreSQL migrations did,
    /// for a test that migrates it on from there.
    static func migrate(_ settings: PostgresSettings, through count: Int) async throws {
        try await execute(
            "CREATE TABLE schema_migrations (id TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
            on: settings
        )
        for (id, sql) in SchemaSQL.postgres.prefix(count) {
            for statement in PostgresDeltaStore.statements(of: sql) {
                try await execute(statement, on: settings)
            }
            try await execute("INSERT INTO schema_migrations (id) VALUES ('\(id)')", on: settings)
        }
    }
}
