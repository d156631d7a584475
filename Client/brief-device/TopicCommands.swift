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
        let topics = try await client(session).topics(token: session.token)
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
        let session = try home.session()
        let status = try await client(session).setFollowing(try topicID(topic), true, token: session.token)
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
        let session = try home.session()
        let status = try await client(session).setFollowing(try topicID(topic), false, token: session.token)
        print("No longer following \(status.id) (\(status.name)).")
    }
}

private func client(_ session: DeviceHome.Session) throws -> BriefServiceClient {
    guard let url = URL(string: session.server) else {
        throw CLIError("the saved server address is not a URL: log in again", code: 3)
    }
    return BriefServiceClient(baseURL: url)
}

private func topicID(_ text: String) throws -> TopicID {
    guard let id = TopicID(rawValue: text) else {
        throw CLIError("\"\(text)\" is not a topic id")
    }
    return id
}
