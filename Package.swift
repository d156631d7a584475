// swift-tools-version:6.0
import PackageDescription

// Upcoming features, each with its proposal:
// - ExistentialAny: SE-0335, `any P` spelled out
// - MemberImportVisibility: SE-0444, members visible only from modules actually imported
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "BriefSync",
    platforms: [.macOS(.v14), .iOS(.v17)],
    products: [
        .library(name: "BriefModel", targets: ["BriefModel"]),
        .library(name: "BriefClient", targets: ["BriefClient", "BriefHTTP"]),
        .library(name: "BriefHTTPNIO", targets: ["BriefHTTPNIO"]),
        .executable(name: "brief-device", targets: ["brief-device"]),
        .executable(name: "brief-server", targets: ["brief-server"]),
    ],
    dependencies: [
        // HMAC-SHA256 of change tokens (server side only)
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        // Command lines of brief-device and brief-server
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        // HTTP server, its test client, and bcrypt for passwords
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.0.0"),
        // Event loops and locks under Hummingbird, used directly for ByteBuffer and locked state
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        // HTTP parts as swift-http-types, the way Hummingbird's channel passes them: the handler
        // that answers up-to-date polls on the event loop sits in that channel
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.20.0"),
        // SQLite stores of the server and of devices
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.0.0"),
        // The PostgreSQL store, for several instances behind a proxy
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.21.0"),
        // TLS with a private CA: PostgreSQL connections, and brief-device on Linux (URLSession
        // there trusts only the system's store)
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.27.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.21.0"),
        // gzip of each brief edition, once, when it is published (served as stored)
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        // Structured logging, metrics and their Prometheus exposition, graceful shutdown
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        // Tests-only: property-based tests of the merge laws
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.0"),
        // Tests-only: reading Schema/openapi.yaml to check it against the wire fixtures
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
    ],
    targets: [
        // The shared model: value types, validation, merge, wire protocol. No dependencies, no I/O.
        .target(name: "BriefModel", path: "Sources/BriefModel", swiftSettings: swiftSettings),
        // Authenticated encoding of change tokens; only the server holds the key.
        .target(
            name: "BriefToken",
            dependencies: ["BriefModel", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/BriefToken",
            swiftSettings: swiftSettings
        ),
        // The device's store: briefs, read-state, outbox and sync state in one SQLite file.
        .target(
            name: "BriefStore",
            dependencies: [
                "BriefModel", "BriefSchema", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Client/BriefStore",
            swiftSettings: swiftSettings
        ),
        // The library an app embeds: offline reading and editing, and the sync engine.
        .target(
            name: "BriefClient",
            dependencies: [
                "BriefModel", "BriefStore", .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            path: "Client/BriefClient",
            swiftSettings: swiftSettings
        ),
        // HTTP for the library, on URLSession (FoundationNetworking on Linux), kept apart so the
        // library itself links no networking stack.
        .target(
            name: "BriefHTTP",
            dependencies: ["BriefModel", "BriefClient", "BriefStore", "BriefToken"],
            path: "Client/BriefHTTP",
            swiftSettings: swiftSettings
        ),
        // The same HTTP calls over AsyncHTTPClient, for Linux programs that trust a private CA.
        .target(
            name: "BriefHTTPNIO",
            dependencies: [
                "BriefClient", "BriefHTTP",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPCompression", package: "swift-nio-extras"),
            ],
            path: "Client/BriefHTTPNIO",
            swiftSettings: swiftSettings
        ),
        // The simulator's engine (brief-device simulate): devices, faults and the verdict, against
        // a server over HTTP or in this process; a library so that tests drive it in process.
        .target(
            name: "BriefSimulation",
            dependencies: [
                "BriefClient", "BriefModel", "BriefStore", "BriefHTTP", "BriefServer",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Client/BriefSimulation",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "brief-device",
            dependencies: [
                "BriefClient", "BriefModel", "BriefStore", "BriefHTTP", "BriefHTTPNIO", "BriefSchema", "BriefServer",
                "BriefSimulation",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Client/brief-device",
            swiftSettings: swiftSettings
        ),
        // The SQL migrations, embedded in code so a copied binary carries them, and the private
        // creation of the files both stores and brief-device's session keep.
        .target(
            name: "BriefSchema",
            path: "Schema",
            exclude: ["openapi.yaml", "brief.schema.json", "examples", "schemathesis.toml"],
            sources: ["Swift"],
            resources: [
                .embedInCode("sqlite/server_v1.sql"), .embedInCode("sqlite/server_v2.sql"),
                .embedInCode("sqlite/server_v3.sql"), .embedInCode("sqlite/server_v4.sql"),
                .embedInCode("sqlite/device_v1.sql"), .embedInCode("sqlite/device_v2.sql"),
                .embedInCode("postgres/pg_server_v1.sql"), .embedInCode("postgres/pg_server_v2.sql"),
                .embedInCode("postgres/pg_server_v3.sql"), .embedInCode("postgres/pg_server_v4.sql"),
                .embedInCode("sqlite/server_v5.sql"), .embedInCode("postgres/pg_server_v5.sql"),
                .embedInCode("sqlite/server_v6.sql"), .embedInCode("postgres/pg_server_v6.sql"),
                .embedInCode("sqlite/server_v7.sql"), .embedInCode("postgres/pg_server_v7.sql"),
                .embedInCode("sqlite/server_v8.sql"), .embedInCode("postgres/pg_server_v8.sql"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BriefServer",
            dependencies: [
                "BriefModel", "BriefToken", "BriefSchema",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            ],
            path: "Server/BriefServer",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "brief-server",
            dependencies: [
                "BriefServer", "BriefModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Server/brief-server",
            swiftSettings: swiftSettings
        ),
        // Benchmarks: printed figures, run by scripts/bench-sync against a release build.
        .executableTarget(
            name: "brief-bench",
            dependencies: [
                "BriefClient", "BriefHTTP", "BriefHTTPNIO", "BriefModel", "BriefServer", "BriefStore",
                "BriefTestSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/brief-bench",
            swiftSettings: swiftSettings
        ),
        // Tests-only: the throwaway PostgreSQL and nginx that scripts/test provides.
        .target(
            name: "BriefTestSupport",
            dependencies: [
                "BriefServer",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/BriefTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BriefModelTests",
            dependencies: [
                "BriefModel", "BriefToken",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "Yams", package: "Yams"),
            ],
            path: "Tests/BriefModelTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BriefClientTests",
            dependencies: [
                "BriefClient", "BriefModel", "BriefStore", "BriefHTTP", "BriefHTTPNIO", "BriefServer",
                "BriefSchema", "BriefSimulation", "BriefTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Tests/BriefClientTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BriefServerTests",
            dependencies: [
                "BriefServer", "BriefModel", "BriefToken", "BriefSchema", "BriefTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ],
            path: "Tests/BriefServerTests",
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
