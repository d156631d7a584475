import Foundation
import NIOSSL
import PostgresNIO

/// Where a PostgreSQL store connects: parsed from `postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=…]`.
///
/// TLS follows the URL: `sslmode=disable` (the default) talks plain TCP, as on loopback or a
/// private network; `require`, `verify-ca` and `verify-full` all require TLS *and verify the
/// certificate and host name* (stricter than libpq's `require`, which verifies nothing);
/// `sslrootcert=PATH` names the CA that signed the server's certificate. The password may also
/// come from `BRIEFSYNC_DATABASE_PASSWORD`, so that it need not stand in the URL.
public struct PostgresSettings: Sendable, Hashable, CustomStringConvertible {
    public enum TLSMode: String, Sendable, Hashable {
        case disable, require
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// A PEM file of the CA to trust for the server's certificate; the system's roots otherwise.
    public var rootCertificatePath: String?
    /// The most connections one instance opens.
    public var maximumConnections: Int

    public init(
        host: String,
        port: Int = 5432,
        username: String,
        password: String? = nil,
        database: String,
        tls: TLSMode = .disable,
        rootCertificatePath: String? = nil,
        maximumConnections: Int = 20
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.tls = tls
        self.rootCertificatePath = rootCertificatePath
        self.maximumConnections = maximumConnections
    }

    /// Parses a `postgres://` or `postgresql://` URL; `nil` when it is not one this store can use.
    public init?(url text: String) {
        guard let components = URLComponents(string: text),
            components.scheme == "postgres" || components.scheme == "postgresql",
            let host = components.host, !host.isEmpty,
            let user = components.user, !user.isEmpty
        else {
            return nil
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty, !database.contains("/") else {
            return nil
        }
        self.init(
            host: host,
            port: components.port ?? 5432,
            username: user.removingPercentEncoding ?? user,
            password: components.password.map { $0.removingPercentEncoding ?? $0 },
            database: database
        )
        for item in components.queryItems ?? [] {
            switch (item.name, item.value ?? "") {
            case ("sslmode", "disable"), ("sslmode", "allow"), ("sslmode", "prefer"):
                tls = .disable
            case ("sslmode", "require"), ("sslmode", "verify-ca"), ("sslmode", "verify-full"):
                tls = .require
            case ("sslrootcert", let path) where !path.isEmpty:
                rootCertificatePath = path
            case ("pool_max", let value):
                guard let count = Int(value), count >= 2 else {
                    return nil
                }
                maximumConnections = count
            default:
                return nil  // why strict: a misspelt option must not silently mean "no TLS"
            }
        }
    }

    /// The URL without its password, for logs.
    public var description: String {
        "postgres://\(username)@\(host):\(port)/\(database)" + (tls == .require ? "?sslmode=require" : "")
    }
}

extension PostgresSettings {
    /// TLS as the URL asked: the chain and host name verified, against `rootCertificatePath` if given.
    var tlsConfiguration: TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let path = rootCertificatePath {
            configuration.trustRoots = .file(path)
        }
        return configuration
    }

    /// The configuration of one connection (not the pool): the store's start-up probe, and tools
    /// that run a single statement.
    public func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: host,
            port: port,
            username: username,
            password: password,
            database: database,
            tls: tls == .require ? .require(try NIOSSLContext(configuration: tlsConfiguration)) : .disable
        )
        configuration.options.connectTimeout = .seconds(10)
        return configuration
    }
}
