import BriefModel
import Logging

/// Everything a `brief-server` instance can be told. `brief-server serve` maps its flags and
/// `BRIEFSYNC_…` environment variables onto this; tests build it directly.
///
/// | setting | flag / variable | default |
/// | --- | --- | --- |
/// | host | `--host` / `BRIEFSYNC_HOST` | `127.0.0.1` |
/// | port | `--port` / `BRIEFSYNC_PORT` | `8080` (0 picks a free one) |
/// | database | `--database` / `BRIEFSYNC_DATABASE`: `sqlite:PATH` or `postgres://USER@HOST:PORT/DB` | `sqlite:./data/briefsync.sqlite` |
/// | database password | in the URL, or `BRIEFSYNC_DATABASE_PASSWORD` | none |
/// | publisher key | `--publisher-key` / `BRIEFSYNC_PUBLISHER_KEY` | none: publishing is off |
/// | token secret | `--token-secret` / `BRIEFSYNC_TOKEN_SECRET` | generated once, kept in the database |
/// | tombstone retention | `--tombstone-retention` / `BRIEFSYNC_TOMBSTONE_RETENTION` | `30d` |
/// | body limit | `--max-body` / `BRIEFSYNC_MAX_BODY` | `1MiB` |
/// | page sizes | `--page-size`, `--max-page-size`, `--max-page-bytes` | `100`, `1000`, `4MiB` |
/// | trusted proxies | `--trusted-proxies` / `BRIEFSYNC_TRUSTED_PROXIES` | none |
/// | log level | `--log-level` / `BRIEFSYNC_LOG_LEVEL` | `info` |
/// | session cache | `--session-cache` / `BRIEFSYNC_SESSION_CACHE`: how long a looked-up session is believed | `5s` |
public struct ServerConfiguration: Sendable {
    /// Where the data lives.
    public enum Database: Sendable, Hashable {
        /// An SQLite file (WAL mode); created with its folder if missing.
        case sqlite(path: String)
        /// An SQLite database in memory, gone when the process ends: for tests.
        case sqliteInMemory
        /// A PostgreSQL database, shared by every instance that names it.
        case postgres(PostgresSettings)
    }

    public var host = "127.0.0.1"
    public var port = 8080
    public var database = Database.sqlite(path: "./data/briefsync.sqlite")
    /// The key publishers send as `Authorization: Bearer …`; `nil` turns publishing off.
    public var publisherKey: String?
    /// The key that signs change tokens (at least 32 bytes); `nil` uses one kept in the database.
    public var tokenSecret: [UInt8]?
    /// How long tombstones of retracted briefs are kept, in milliseconds.
    public var tombstoneRetention: Int64 = 30 * 24 * 3600 * 1000
    /// How often tombstones past their retention are purged.
    public var purgeInterval: Duration = .seconds(3600)
    /// The largest request body accepted, in bytes.
    public var maxBodyBytes = 1 << 20
    /// Changes per page when the request names no limit.
    public var defaultPageSize = 100
    /// The largest `limit` accepted.
    public var maxPageSize = 1000
    /// A page stops growing once the content it names adds up to about this many bytes: a device
    /// fetches that content and stores it with the page in one transaction.
    public var maxPageBytes = 4 << 20
    /// The longest `wait` accepted, in seconds.
    public var maxWaitSeconds = 60
    /// Peers whose `X-Forwarded-For` is believed.
    public var trustedProxies: [AddressRange] = []
    public var logLevel = Logger.Level.info
    /// The bcrypt cost of password hashes (4...31); each step doubles the work.
    public var bcryptCost: UInt8 = 12
    /// How far ahead of the server's clock a pushed stamp may be.
    public var clockSkew = ClockSkewPolicy()
    /// Failed-login limits.
    public var loginLimits = LoginRateLimiter.Limits()
    /// How long, in milliseconds, an instance believes a session it looked up; a session revoked
    /// through another instance is accepted here that long at most. 0 looks up every request.
    public var sessionCacheLifetime: Int64 = 5_000
    /// The most long-polls one user may have held at once (each device needs one).
    public var maxLongPollsPerUser = 16
    /// Whether polls of clients already up to date are answered, and their long-polls parked, on
    /// the connection's event loop (``UpToDatePollHandler``) rather than by the route; both
    /// answer the same. Off only to measure what it saves (`brief-bench poll-path`).
    public var answersPollsOnEventLoop = true
    /// Who may fetch editions from `GET /v1/content/{digest}`: anyone (so that a CDN or a shared
    /// proxy cache may keep them), or holders of a session (briefs that are paid for).
    public var contentAccess = ContentAccess.session
    /// With `session` access, the secret that signs each manifest page's content pass
    /// (``ContentPass``), which the proxy in front checks itself (nginx's `secure_link`) instead of
    /// asking an instance for every fetch; `nil` (the default) sends no pass.
    public var contentPassSecret: String?
    /// How long a content pass stays good, in milliseconds.
    public var contentPassLifetime: Int64 = 60 * 60 * 1000
    /// How long a connection may take to send a request's head, counted from its opening or
    /// from the end of its previous answer, before it is closed.
    public var requestHeadTimeout = Duration.seconds(30)
    /// How long, in milliseconds, a session lives without being used; each use renews it.
    public var sessionIdleLifetime: Int64 = 90 * 24 * 60 * 60 * 1000

    /// The defaults above.
    public init() {}
}

/// An IPv4 network (`10.0.0.0/8`, or one address) or one IPv6 address, for trusted proxies.
public struct AddressRange: Sendable, Hashable, CustomStringConvertible {
    private enum Kind: Hashable {
        case ipv4(network: UInt32, prefix: Int)
        case ipv6(String)
    }

    private let kind: Kind
    public let description: String

    /// Parses `a.b.c.d`, `a.b.c.d/n` or an IPv6 address; `nil` for anything else.
    public init?(_ text: String) {
        description = text
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        if let address = Self.ipv4(String(parts[0])) {
            let prefix = parts.count == 2 ? Int(parts[1]) : 32
            guard parts.count <= 2, let prefix, (0...32).contains(prefix) else {
                return nil
            }
            let mask: UInt32 = prefix == 0 ? 0 : ~0 << (32 - prefix)
            kind = .ipv4(network: address & mask, prefix: prefix)
        } else if parts.count == 1, text.contains(":"), text.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) {
            kind = .ipv6(text.lowercased())
        } else {
            return nil
        }
    }

    /// Whether `address` (as the socket reports it) is in the range.
    public func contains(_ address: String) -> Bool {
        switch kind {
        case .ipv4(let network, let prefix):
            guard let value = Self.ipv4(address) else {
                return false
            }
            let mask: UInt32 = prefix == 0 ? 0 : ~0 << (32 - prefix)
            return value & mask == network
        case .ipv6(let exact):
            return address.lowercased() == exact
        }
    }

    private static func ipv4(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else {
            return nil
        }
        var value: UInt32 = 0
        for octet in octets {
            guard octet.count <= 3, let byte = UInt8(octet) else {
                return nil
            }
            value = value << 8 | UInt32(byte)
        }
        return value
    }
}

/// Parses the human forms of configuration values; each returns `nil` for text it cannot read.
public enum ConfigurationValue {
    /// `30d`, `12h`, `90m`, `45s`, `500ms` → milliseconds.
    public static func duration(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            if let value = Int64(number), value >= 0, value <= Int64.max / factor {
                return value * factor
            }
        }
        return nil
    }

    /// `1MiB`, `512KiB`, `1048576` → bytes.
    public static func size(_ text: String) -> Int? {
        let units: [(String, Int)] = [("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("B", 1), ("", 1)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            if let value = Int(text.dropLast(suffix.count)), value > 0, value <= Int.max / factor {
                return value * factor
            }
        }
        return nil
    }

    /// `sqlite:PATH`, `sqlite::memory:`, or `postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=require]`
    /// (see ``PostgresSettings``).
    public static func database(_ text: String) -> ServerConfiguration.Database? {
        if text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") {
            return PostgresSettings(url: text).map { .postgres($0) }
        }
        guard text.hasPrefix("sqlite:") else {
            return nil
        }
        let path = String(text.dropFirst("sqlite:".count))
        if path == ":memory:" {
            return .sqliteInMemory
        }
        return path.isEmpty ? nil : .sqlite(path: path)
    }
}

/// Who may fetch editions from the content plane.
public enum ContentAccess: String, Sendable, Hashable, CaseIterable {
    /// Anyone: answers say `Cache-Control: public`, so shared caches keep them.
    case `public`
    /// Only requests with a session: answers say `private`; the shipped nginx still caches them,
    /// after checking each request's session (`deploy/nginx`).
    case session
}
