import BriefModel
import BriefServer
import HummingbirdBcrypt
import Logging

/// `--demo`: the example briefs and an account, so a newcomer has something to sync at once.
enum Demo {
    static let username = "demo"
    static let password = "briefsync-demo"
    static let publisherKey = "demo-publisher-key-not-for-production"

    static func load(into store: any DeltaStore, configuration: ServerConfiguration, logger: Logger) async throws {
        guard let briefs = try ExampleBriefs.load() else {
            throw SettingError(message: "--demo reads Schema/examples/: run it from the repository's folder")
        }
        let now = SystemWallClock().now()
        for brief in briefs {
            let result = try await store.publish(brief, now: now)
            logger.info("Demo brief", metadata: ["brief.id": "\(result.id)", "brief.version": "\(result.version)"])
        }
        if try await store.user(named: username) == nil {
            let hash = Bcrypt.hash(password, cost: configuration.bcryptCost)
            _ = try await store.createUser(username: username, passwordHash: hash, now: now)
        }
        logger.info("Demo account ready", metadata: ["user.name": "\(username)"])
    }
}
