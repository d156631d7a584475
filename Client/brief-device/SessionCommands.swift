import ArgumentParser
import BriefClient
import BriefHTTP
import BriefModel
import BriefStore
import Foundation

struct Sessions: DeviceCommand {
    static let configuration = CommandConfiguration(abstract: "List the account's sessions: one per logged-in device.")
    @ParentCommand var device: BriefDevice
    @Flag(help: "Print a JSON array.") var json = false

    func execute(_ home: DeviceHome) async throws {
        let session = try home.session()
        let sessions = try await home.serviceClient(for: session).sessions(token: session.token)
        if json {
            try printJSON(sessions)
            return
        }
        for info in sessions {
            let used = Date(timeIntervalSince1970: Double(info.lastUsedAt) / 1000).description
            let name = info.deviceName.map { " (\($0))" } ?? ""
            print("\(info.id)  \(info.deviceId)\(name)  last used \(used)\(info.current ? "  ← this device" : "")")
        }
    }
}

struct FeedKey: DeviceCommand {
    static let configuration = CommandConfiguration(
        commandName: "feed-key",
        abstract: """
            Make a key for a feed reader that cannot send headers: it reads the topic feeds only \
            (…/v1/topics/ID/feed.atom?key=…), and brief-device revoke ID turns it off.
            """
    )
    @ParentCommand var device: BriefDevice
    @Option(help: "A topic whose feed addresses to print.") var topic: String?
    @Flag(help: "Print JSON: key, id, and the feed addresses.") var json = false

    struct Printed: Encodable {
        var key: String
        var id: String
        var feeds: [String]
    }

    func execute(_ home: DeviceHome) async throws {
        let session = try home.session()
        let made = try await home.serviceClient(for: session).createFeedKey(token: session.token)
        let base = session.server.hasSuffix("/") ? String(session.server.dropLast()) : session.server
        let feeds =
            topic.map { topic in
                ["json", "atom"].map { "\(base)/v1/topics/\(topic)/feed.\($0)?key=\(made.key)" }
            } ?? []
        if json {
            try printJSON(Printed(key: made.key, id: made.id, feeds: feeds))
            return
        }
        print("Feed key \(made.id): \(made.key)")
        feeds.forEach { print($0) }
        print("It reads feeds only. brief-device revoke \(made.id) turns it off.")
    }
}

struct Revoke: DeviceCommand {
    static let configuration = CommandConfiguration(
        abstract: "End one of the account's sessions (an id from brief-device sessions); that device must log in again."
    )
    @ParentCommand var device: BriefDevice
    @Argument(help: "The session's id.") var id: String

    func execute(_ home: DeviceHome) async throws {
        let session = try home.session()
        try await home.serviceClient(for: session).revokeSession(id, token: session.token)
        print("Revoked \(id).")
    }
}

struct Passwd: DeviceCommand {
    static let configuration = CommandConfiguration(
        commandName: "passwd",
        abstract: "Change the account's password; every other device is logged out.",
        discussion: """
            The current password comes from --password, $BRIEFSYNC_PASSWORD or the first line of \
            --password-stdin; the new one from --new-password, $BRIEFSYNC_NEW_PASSWORD or the second line.
            """
    )
    @ParentCommand var device: BriefDevice
    @Option(help: "The current password.") var password: String?
    @Option(help: "The new password (at least 10 characters).") var newPassword: String?
    @Flag(help: "Read the passwords from standard input, one per line.") var passwordStdin = false

    func execute(_ home: DeviceHome) async throws {
        let session = try home.session()
        let lines = passwordStdin ? [readLine(strippingNewline: true), readLine(strippingNewline: true)] : []
        let environment = ProcessInfo.processInfo.environment
        guard let current = password ?? lines.first ?? nil ?? environment["BRIEFSYNC_PASSWORD"],
            let new = newPassword ?? (lines.count > 1 ? lines[1] : nil) ?? environment["BRIEFSYNC_NEW_PASSWORD"]
        else {
            throw CLIError("give the current and the new password (see brief-device passwd --help)")
        }
        try await home.serviceClient(for: session).changePassword(from: current, to: new, token: session.token)
        print("Password changed; every other device of \(session.username) is logged out.")
    }
}

struct DeleteAccount: DeviceCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete-account",
        abstract: "Delete the account on the server, with its reading state, follows and sessions.",
        discussion: """
            Needs the password (--password, $BRIEFSYNC_PASSWORD or --password-stdin) and --yes. The \
            account's changes still queued on this device are discarded: they can never be sent.
            """
    )
    @ParentCommand var device: BriefDevice
    @Option(help: "The account's password.") var password: String?
    @Flag(help: "Read the password from the first line of standard input.") var passwordStdin = false
    @Flag(help: "Confirm: the account cannot be brought back.") var yes = false

    func execute(_ home: DeviceHome) async throws {
        let session = try home.session()
        guard yes else {
            throw CLIError("this deletes \(session.username) on \(session.server) for good: add --yes to confirm")
        }
        let given = password ?? (passwordStdin ? readLine(strippingNewline: true) : nil)
        guard let password = given ?? ProcessInfo.processInfo.environment["BRIEFSYNC_PASSWORD"] else {
            throw CLIError("give the password with --password, $BRIEFSYNC_PASSWORD or --password-stdin")
        }
        try await home.serviceClient(for: session).deleteAccount(password: password, token: session.token)
        let outcome = try await home.library().signOut(discardingPending: true)
        home.forgetSession()
        print(
            "Deleted \(session.username) on \(session.server)."
                + (outcome.discardedMutations > 0 ? " \(outcome.discardedMutations) queued change(s) discarded." : "")
        )
    }
}
