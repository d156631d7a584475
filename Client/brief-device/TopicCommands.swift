import ArgumentParser
import BriefClient
import BriefHTTP
import BriefModel
import BriefStore
import Foundation

struct Topics: DeviceCommand {
    static let configuration = CommandConfiguration(abstract: "The server's topics, and which this account follows.")
    @ParentCommand var device: BriefDevice
    @Flag(help: "Print a JSON array.") var json = false

    func execute(_ home: DeviceHome) async throws {
        let session = try home.session()
        let topics = try await client(session, home).topics(token: session.token)
        if json {
            try printJSON(topics)
        } else {
            for topic in topics {
                print("\(topic.followed ? "✓" : " ") \(topic.id)  \(topic.name) (\(topic.briefCount) briefs)")
            }
        }
    }
}

struct Subscribe: DeviceCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow a topic; its briefs arrive with the next sync."
    )
    @ParentCommand var device: BriefDevice
    @Argument(help: "The topic's id.") var topic: String

    func execute(_ home: DeviceHome) async throws {
        let status = try await setFollowing(topic, true, home)
        print("Following \(status.id) (\(status.name)); sync to receive its briefs.")
    }
}

struct Unsubscribe: DeviceCommand {
    static let configuration = CommandConfiguration(
        abstract: "Unfollow a topic; the next sync drops its briefs, except saved ones."
    )
    @ParentCommand var device: BriefDevice
    @Argument(help: "The topic's id.") var topic: String

    func execute(_ home: DeviceHome) async throws {
        let status = try await setFollowing(topic, false, home)
        print("No longer following \(status.id) (\(status.name)).")
    }
}

private func client(_ session: DeviceHome.Session, _ home: DeviceHome) throws -> BriefServiceClient {
    try home.serviceClient(for: session)
}

private func setFollowing(_ topic: String, _ follow: Bool, _ home: DeviceHome) async throws -> TopicStatusV1 {
    guard let id = TopicID(rawValue: topic) else {
        throw CLIError("\"\(topic)\" is not a topic id")
    }
    let session = try home.session()
    return try await client(session, home).setFollowing(id, follow, token: session.token)
}
