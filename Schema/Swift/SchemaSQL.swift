/// The SQL migrations in `Schema/`, embedded in the binary at build time so that a server copied
/// alone to a machine still creates and migrates its database.
public enum SchemaSQL {
    /// SQLite migrations in order: (identifier, SQL). Released entries never change.
    public static let sqlite: [(id: String, sql: String)] = [
        ("server_v1", String(decoding: PackageResources.server_v1_sql, as: UTF8.self)),
        ("server_v2", String(decoding: PackageResources.server_v2_sql, as: UTF8.self)),
        ("server_v3", String(decoding: PackageResources.server_v3_sql, as: UTF8.self)),
        ("server_v4", String(decoding: PackageResources.server_v4_sql, as: UTF8.self)),
        ("server_v5", String(decoding: PackageResources.server_v5_sql, as: UTF8.self)),
        ("server_v6", String(decoding: PackageResources.server_v6_sql, as: UTF8.self)),
        ("server_v7", String(decoding: PackageResources.server_v7_sql, as: UTF8.self)),
        ("server_v8", String(decoding: PackageResources.server_v8_sql, as: UTF8.self)),
    ]

    /// PostgreSQL migrations of the server in order. Statements end with `;` at the end of a line.
    public static let postgres: [(id: String, sql: String)] = [
        ("server_v1", String(decoding: PackageResources.pg_server_v1_sql, as: UTF8.self)),
        ("server_v2", String(decoding: PackageResources.pg_server_v2_sql, as: UTF8.self)),
        ("server_v3", String(decoding: PackageResources.pg_server_v3_sql, as: UTF8.self)),
        ("server_v4", String(decoding: PackageResources.pg_server_v4_sql, as: UTF8.self)),
        ("server_v5", String(decoding: PackageResources.pg_server_v5_sql, as: UTF8.self)),
        ("server_v6", String(decoding: PackageResources.pg_server_v6_sql, as: UTF8.self)),
        ("server_v7", String(decoding: PackageResources.pg_server_v7_sql, as: UTF8.self)),
        ("server_v8", String(decoding: PackageResources.pg_server_v8_sql, as: UTF8.self)),
    ]

    /// The device store's SQLite migrations in order.
    public static let device: [(id: String, sql: String)] = [
        ("device_v1", String(decoding: PackageResources.device_v1_sql, as: UTF8.self)),
        ("device_v2", String(decoding: PackageResources.device_v2_sql, as: UTF8.self)),
    ]
}
