import BriefClient
import BriefHTTP
import BriefHTTPNIO
import BriefModel
import BriefSchema
import BriefStore
import Foundation
import Logging
import Synchronization

/// One simulated device: a folder with its store (`device.sqlite`) and its session
/// (`session.json`, readable by its owner only).
struct DeviceHome {
    /// What a login leaves behind.
    struct Session: Codable {
        var server: String
        var username: String
        var token: String
        /// The private CA named at login, if any.
        var caFile: String?
        /// Whether login was told to allow plain HTTP to another machine.
        var allowInsecureHTTP: Bool?

        /// The account the session belongs to.
        var account: AccountID { AccountID(server: server, username: username) }
    }

    let folder: URL
    let keepDays: Int?
    /// `--ca-file`, as given to this command.
    let caFile: String?
    /// `--allow-insecure-http`, as given to this command.
    let allowInsecureHTTP: Bool

    init(path: String?, keepDays: Int? = nil, caFile: String? = nil, allowInsecureHTTP: Bool = false) {
        self.allowInsecureHTTP = allowInsecureHTTP
        self.keepDays = keepDays
        self.caFile = caFile.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath).path }
        let chosen =
            path ?? ProcessInfo.processInfo.environment["BRIEFSYNC_HOME"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".briefsync").path
        folder = URL(fileURLWithPath: (chosen as NSString).expandingTildeInPath)
    }

    var storePath: String { folder.appendingPathComponent("device.sqlite").path }
    var sessionURL: URL { folder.appendingPathComponent("session.json") }

    /// The device's library, created with the folder on first use (readable by its owner only:
    /// it holds the reading history and the queued edits).
    ///
    /// When the home has a session, its account is signed in on the store, so that a home made
    /// before accounts gives its queue to the account that was logged in.
    func library() async throws -> BriefLibrary {
        let library: BriefLibrary
        do {
            try FileManager.default.createDirectory(
                at: folder,
                withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700]
            )
            var configuration = BriefLibrary.Configuration()
            configuration.keepDays = keepDays
            configuration.logger.logLevel = .warning  // why: failures are reported once, by the command
            library = try BriefLibrary.open(at: storePath, configuration: configuration)
        } catch {
            throw CLIError("cannot open the device store in \(folder.path): \(error)", code: 2)
        }
        if let session = try? session() {
            try await library.store.signIn(session.account, now: library.now())
        }
        return library
    }

    func session() throws -> Session {
        guard let data = try? Data(contentsOf: sessionURL) else {
            throw CLIError(
                "this device is not logged in: run brief-device --home \(folder.path) login --server URL --user NAME",
                code: 3
            )
        }
        do {
            return try JSONDecoder().decode(Session.self, from: data)
        } catch {
            throw CLIError("\(sessionURL.path) is damaged: log in again", code: 3)
        }
    }

    func save(_ session: Session) throws {
        try FileManager.default.createDirectory(
            at: folder,
            withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700]
        )
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // why private from its creation: the file holds a bearer token
        try PrivateFile.write(try encoder.encode(session), atomicallyTo: sessionURL.path)
    }

    func forgetSession() {
        try? FileManager.default.removeItem(at: sessionURL)
    }

    /// The library, signed in to the account of the saved session and connected to its server.
    func connectedLibrary() async throws -> (BriefLibrary, Session) {
        let session = try session()
        let library = try await library()
        guard let url = URL(string: session.server) else {
            throw CLIError("the saved server address \(session.server) is not a URL: log in again", code: 3)
        }
        try await library.signIn(
            session.account,
            transport: HTTPSyncTransport(
                baseURL: url,
                sessionToken: session.token,
                requester: try requester(for: session),
                allowInsecureHTTP: allowsInsecureHTTP(for: session)
            )
        )
        return (library, session)
    }
}

extension DeviceHome {
    /// Whether plain HTTP to another machine is allowed: `--allow-insecure-http` now or at login.
    func allowsInsecureHTTP(for session: Session?) -> Bool {
        allowInsecureHTTP || session?.allowInsecureHTTP == true
    }

    /// The account calls of the saved session's server.
    func serviceClient(for session: Session) throws -> BriefServiceClient {
        guard let url = URL(string: session.server) else {
            throw CLIError("the saved server address \(session.server) is not a URL: log in again", code: 3)
        }
        return BriefServiceClient(
            baseURL: url,
            requester: try requester(for: session),
            allowInsecureHTTP: allowsInsecureHTTP(for: session)
        )
    }

    /// The CA to trust besides the system's: `--ca-file`, else the one named at login, else `SSL_CERT_FILE`.
    func trustedCAFile(for session: Session?) -> String? {
        caFile ?? session?.caFile ?? HTTPStack.environmentCAFile
    }

    /// The HTTP stack for this device's server (``HTTPStack``).
    func requester(for session: Session?) throws -> any HTTPRequester {
        try HTTPStack.requester(trusting: trustedCAFile(for: session))
    }
}

/// One HTTP stack per process and CA file: on Linux always AsyncHTTPClient (`BriefHTTPNIO`),
/// elsewhere URLSession unless a private CA must be trusted.
///
/// why not URLSession on Linux: it runs on libcurl there and reads no per-process CA setting, and
/// an initial sync of 10,000 briefs took 12.3 s on it against 8.0 s on AsyncHTTPClient, with 1.5×
/// the device's CPU (`brief-bench client-sync --http`, BENCHMARKS.md). An app on Apple's systems
/// keeps URLSession, the library's default.
enum HTTPStack {
    private static let cache = Mutex<[String: NIOHTTPRequester]>([:])

    /// `SSL_CERT_FILE`, the usual variable for a private CA, when set and not empty.
    static var environmentCAFile: String? {
        ProcessInfo.processInfo.environment["SSL_CERT_FILE"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static func requester(trusting caFile: String?) throws -> any HTTPRequester {
        #if !os(Linux)
            guard caFile != nil else {
                return URLSessionRequester()
            }
        #endif
        return try cache.withLock { cache in
            // "" is the system's trust alone
            if let existing = cache[caFile ?? ""] {
                return existing
            }
            // why kept for the process's life: a requester must be shut down before it is released
            let requester = try NIOHTTPRequester(additionalCAFile: caFile)
            cache[caFile ?? ""] = requester
            return requester
        }
    }
}
