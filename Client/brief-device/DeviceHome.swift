import BriefClient
import BriefHTTP
import BriefModel
import BriefStore
import Foundation
import Logging

/// One simulated device: a folder with its store (`device.sqlite`) and its session
/// (`session.json`, readable by its owner only).
struct DeviceHome {
    /// What a login leaves behind.
    struct Session: Codable {
        var server: String
        var username: String
        var token: String
    }

    let folder: URL
    let keepDays: Int?

    init(path: String?, keepDays: Int? = nil) {
        self.keepDays = keepDays
        let chosen =
            path ?? ProcessInfo.processInfo.environment["BRIEFSYNC_HOME"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".briefsync").path
        folder = URL(fileURLWithPath: (chosen as NSString).expandingTildeInPath)
    }

    var storePath: String { folder.appendingPathComponent("device.sqlite").path }
    var sessionURL: URL { folder.appendingPathComponent("session.json") }

    /// The device's library, created with the folder on first use.
    func library() throws -> BriefLibrary {
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            var configuration = BriefLibrary.Configuration()
            configuration.keepDays = keepDays
            configuration.logger.logLevel = .warning  // why: failures are reported once, by the command
            return try BriefLibrary.open(at: storePath, configuration: configuration)
        } catch {
            throw CLIError("cannot open the device store in \(folder.path): \(error)", code: 2)
        }
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
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(session).write(to: sessionURL, options: .atomic)
        // why: the file holds a bearer token
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: sessionURL.path)
    }

    func forgetSession() {
        try? FileManager.default.removeItem(at: sessionURL)
    }

    /// The library, connected to the server of the saved session.
    func connectedLibrary() throws -> (BriefLibrary, Session) {
        let session = try session()
        let library = try library()
        guard let url = URL(string: session.server) else {
            throw CLIError("the saved server address \(session.server) is not a URL: log in again", code: 3)
        }
        library.connect(HTTPSyncTransport(baseURL: url, sessionToken: session.token))
        return (library, session)
    }
}
