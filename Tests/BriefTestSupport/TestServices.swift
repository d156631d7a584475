import Foundation

/// Which of the services that `scripts/test` starts this run has, for tests to declare what they
/// need with `.enabled(if:)`: a test that needs one is reported as skipped without it, except
/// under `CI=true`, where it runs and fails (CI must never skip it).
public enum TestServices {
    /// The throwaway PostgreSQL (`BRIEFSYNC_TEST_POSTGRES`).
    public static var postgres: Bool { present("BRIEFSYNC_TEST_POSTGRES") }
    /// The CA of that PostgreSQL's TLS certificate (`BRIEFSYNC_TEST_POSTGRES_CA`).
    public static var postgresCA: Bool { present("BRIEFSYNC_TEST_POSTGRES_CA") }
    /// nginx (`BRIEFSYNC_TEST_NGINX`).
    public static var nginx: Bool { present("BRIEFSYNC_TEST_NGINX") }
    /// wrk (`BRIEFSYNC_TEST_WRK`).
    public static var wrk: Bool { present("BRIEFSYNC_TEST_WRK") }
    /// A python3 with PyPI's google-reader (`BRIEFSYNC_TEST_READER_CLIENT`).
    public static var readerClient: Bool { present("BRIEFSYNC_TEST_READER_CLIENT") }
    /// A python3 with PyPI's feedparser and jsonfeed-util (`BRIEFSYNC_TEST_FEED_PARSERS`).
    public static var feedParsers: Bool { present("BRIEFSYNC_TEST_FEED_PARSERS") }

    private static func present(_ variable: String) -> Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["CI"] == "true" || !(environment[variable] ?? "").isEmpty
    }
}
