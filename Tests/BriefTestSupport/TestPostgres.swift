import BriefServer
import Foundation
import Logging
import PostgresNIO

#if canImport(Glibc)
    import Glibc
#endif

/// The throwaway PostgreSQL that `scripts/test` starts (`BRIEFSYNC_TEST_POSTGRES`, an admin URL).
///
/// Each test gets a database of its own, so tests run in parallel. A test that needs PostgreSQL
/// says so with `.enabled(if: TestServices.postgres)`: skipped, and reported so, on a machine
/// without it; run, and failing, under `CI=true`, where it must never be skipped.
public enum TestPostgres {
    public struct Unavailable: Error, CustomStringConvertible {
        public let description: String
    }

    /// The admin settings. - Throws: ``Unavailable`` when this machine has no test PostgreSQL.
    public static func adminSettings(for test: String = #function) throws -> PostgresSettings {
        let url = try required("PostgreSQL", variable: "BRIEFSYNC_TEST_POSTGRES", test: test)
        guard let settings = PostgresSettings(url: url) else {
            throw Unavailable(description: "BRIEFSYNC_TEST_POSTGRES is not a postgres:// URL: \(url)")
        }
        return settings
    }

    /// Runs `body` with the settings of a new, empty database, dropped afterwards.
    /// - Throws: ``Unavailable`` when there is no test PostgreSQL: a test that needs it declares
    ///   so with `.enabled(if: TestServices.postgres)`, and is reported as skipped instead.
    public static func withDatabase(
        test: String = #function,
        _ body: (PostgresSettings) async throws -> Void
    ) async throws {
        let admin = try adminSettings(for: test)
        let name = "briefsync_test_\(UInt64.random(in: 0...UInt64.max))"
        try await execute("CREATE DATABASE \(name)", on: admin)
        var settings = admin
        settings.database = name
        settings.maximumConnections = 8
        do {
            try await body(settings)
        } catch {
            try? await execute("DROP DATABASE \(name) WITH (FORCE)", on: admin)
            throw error
        }
        try await execute("DROP DATABASE \(name) WITH (FORCE)", on: admin)
    }

    /// A value from the environment that a test needs.
    /// - Throws: ``Unavailable`` when it is not set: never a silent pass. Tests say what they need
    ///   with `.enabled(if:)` and ``TestServices``, which skips them visibly outside CI.
    public static func required(_ what: String, variable: String, test: String) throws -> String {
        if let value = ProcessInfo.processInfo.environment[variable], !value.isEmpty {
            return value
        }
        throw Unavailable(
            description: "\(test) needs \(what) (\(variable)); scripts/test provides it"
                + (ProcessInfo.processInfo.environment["CI"] == "true" ? ", and CI=true never skips it" : "")
        )
    }

    /// Runs one statement on its own connection (`CREATE DATABASE`, bulk inserts).
    public static func execute(_ sql: String, on settings: PostgresSettings) async throws {
        let connection = try await PostgresConnection.connect(
            configuration: try settings.connectionConfiguration(),
            id: 1,
            logger: Logger(label: "test-postgres")
        )
        do {
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: Logger(label: "test-postgres"))
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }
}

/// A port on 127.0.0.1 that nothing listens on right now (the kernel's pick for port 0).
public enum LoopbackPort {
    public static func free() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
            }
        }
        guard bound else {
            throw TestPostgres.Unavailable(description: "no free port on 127.0.0.1")
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
