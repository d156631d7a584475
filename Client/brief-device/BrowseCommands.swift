import ArgumentParser
import BriefClient
import BriefModel
import BriefStore
import Foundation

struct List: DeviceCommand {
    static let configuration = CommandConfiguration(abstract: "List the briefs on this device, newest first.")
    @ParentCommand var device: BriefDevice
    @Flag(help: "Only unread briefs.") var unread = false
    @Flag(help: "Only saved briefs.") var saved = false
    @Option(help: "Only this topic (its id, such as ai-tech).") var topic: String?
    @Flag(help: "Print a JSON array.") var json = false

    func validate() throws {
        if unread && saved {
            throw ValidationError("--unread and --saved cannot be combined")
        }
    }

    func execute(_ home: DeviceHome) async throws {
        var query = BriefQuery(isRead: unread ? false : nil, savedOnly: saved)
        if let topic {
            guard let id = TopicID(rawValue: topic) else {
                throw CLIError("\"\(topic)\" is not a topic id")
            }
            query.topic = id
        }
        let lines = try await home.library().briefs(query).map { BriefLine($0) }
        if json {
            try printJSON(lines)
        } else if lines.isEmpty {
            print("No briefs on this device\(unread || saved || topic != nil ? " match" : ""). Sync to receive some.")
        } else {
            lines.forEach { print($0.text) }
        }
    }
}

struct Show: DeviceCommand {
    static let configuration = CommandConfiguration(abstract: "Show a brief as the reader lays it out.")
    @ParentCommand var device: BriefDevice
    @Argument(help: "The brief's id.") var id: String
    @Flag(help: "Print the brief document with its read-state as JSON.") var json = false

    struct Output: Encodable {
        var brief: Brief
        var version: Int
        var isRetracted: Bool
        var readState: ReadState
    }

    func execute(_ home: DeviceHome) async throws {
        let id = try briefID(id)
        guard let stored = try await home.library().brief(id) else {
            throw CLIError("unknown brief \(id): did you sync? (brief-device sync)")
        }
        if json {
            try printJSON(
                Output(
                    brief: stored.brief,
                    version: stored.version,
                    isRetracted: stored.isRetracted,
                    readState: stored.readState
                )
            )
            return
        }
        let state = stored.readState
        var header = "\(state.isRead ? "read" : "unread")\(state.isSaved ? " · saved" : "")"
        if state.progressValue > 0 {
            header += String(format: " · %.0f%% read", state.progressValue * 100)
        }
        if stored.isRetracted {
            header += " · RETRACTED by the publisher"
        }
        print("[\(header)]\n")
        print(
            BriefTextRenderer(width: Terminal.width, emphasis: Terminal.emphasis).render(stored.brief),
            terminator: ""
        )
    }
}

struct Search: DeviceCommand {
    static let configuration = CommandConfiguration(
        abstract: "Search every part of the briefs on this device; words match by prefix."
    )
    @ParentCommand var device: BriefDevice
    @Argument(help: "Words to look for.") var query: [String]
    @Flag(help: "Print a JSON array.") var json = false

    func execute(_ home: DeviceHome) async throws {
        let hits = try await home.library().search(query.joined(separator: " "))
        let lines = hits.map { BriefLine($0.summary, snippet: $0.snippet) }
        if json {
            try printJSON(lines)
        } else if lines.isEmpty {
            print("Nothing found.")
        } else {
            for line in lines {
                print(line.text)
                print("      \(line.snippet ?? "")")
            }
        }
    }
}

struct Status: DeviceCommand {
    static let configuration = CommandConfiguration(abstract: "Where this device's sync stands.")
    @ParentCommand var device: BriefDevice
    @Flag(help: "Print a JSON object.") var json = false

    struct Output: Encodable {
        var deviceId: String
        var incarnation: String
        var server: String?
        var username: String?
        /// The logged-in account's queued changes.
        var pendingMutations: Int
        var lastSyncAt: Int64?
        var lastError: String?
        var briefCount: Int
        var fullResyncInProgress: Bool
        /// Every account with changes queued on this device (logged out ones: sealed).
        var accounts: [Queue]
        /// Changes dropped because their brief is gone from the server, newest first.
        var droppedMutations: [DroppedMutation]
    }

    struct Queue: Encodable {
        var account: String
        var server: String
        var username: String
        var loggedIn: Bool
        var pendingMutations: Int
        var oldestQueuedAt: Int64?
        var oldestQueuedAgeSeconds: Int64?
    }

    func execute(_ home: DeviceHome) async throws {
        let library = try await home.library()
        let status = try await library.status()
        let now = library.now()
        let session = try? home.session()
        let output = Output(
            deviceId: status.deviceID.rawValue,
            incarnation: status.incarnation,
            server: session?.server,
            username: session?.username,
            pendingMutations: status.pendingMutations,
            lastSyncAt: status.lastSyncAt,
            lastError: status.lastError,
            briefCount: status.briefCount,
            fullResyncInProgress: status.fullResyncInProgress,
            accounts: status.accounts.map {
                Queue(
                    account: $0.account,
                    server: $0.server,
                    username: $0.username,
                    loggedIn: $0.isSignedIn,
                    pendingMutations: $0.pendingMutations,
                    oldestQueuedAt: $0.oldestQueuedAt,
                    oldestQueuedAgeSeconds: $0.oldestQueuedAt.map { max(0, now - $0) / 1000 }
                )
            },
            droppedMutations: status.droppedMutations
        )
        if json {
            try printJSON(output)
            return
        }
        print("Device      \(output.deviceId)")
        print("Account     \(session.map { "\($0.username) on \($0.server)" } ?? "not logged in")")
        print("Briefs      \(output.briefCount)")
        print("Pending     \(output.pendingMutations) change(s) waiting to sync")
        for queue in output.accounts where !queue.loggedIn {
            let age = queue.oldestQueuedAgeSeconds.map { ", oldest \(Self.age($0)) old" } ?? ""
            print("Sealed      \(queue.pendingMutations) change(s) of \(queue.username) on \(queue.server)\(age)")
        }
        let last = output.lastSyncAt.map { Date(timeIntervalSince1970: Double($0) / 1000).description } ?? "never"
        print("Last sync   \(last)")
        if let error = output.lastError {
            print("Last error  \(error)")
        }
        if !output.droppedMutations.isEmpty {
            print(
                "Dropped     \(output.droppedMutations.count) change(s) whose brief is gone (status --json lists them)"
            )
        }
        if output.fullResyncInProgress {
            print("A resync from the beginning is under way.")
        }
    }

    static func age(_ seconds: Int64) -> String {
        switch seconds {
        case ..<120: "\(seconds) s"
        case ..<7_200: "\(seconds / 60) min"
        case ..<172_800: "\(seconds / 3_600) h"
        default: "\(seconds / 86_400) days"
        }
    }
}
