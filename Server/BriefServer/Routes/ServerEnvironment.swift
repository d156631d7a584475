import BriefModel
import BriefToken
import Logging

/// What every route needs, built once by ``buildApplication(configuration:store:clock:metrics:logger:)``.
struct ServerEnvironment: Sendable {
    let configuration: ServerConfiguration
    let store: any DeltaStore
    let clock: any WallClock
    let tokens: ChangeTokenCodec
    let notifier: ChangeNotifier
    let sessions: SessionCache
    let upToDate: UpToDateCache
    let limiter: LoginRateLimiter
    let metrics: ServerMetrics
    let applier: PushApplier
    /// SHA-256 of the publisher key, compared with every bearer token's.
    let publisherKeyHash: [UInt8]?
    /// A bcrypt hash of a random password at the configured cost, checked for unknown usernames
    /// so that their answer takes as long as a wrong password's.
    let decoyPasswordHash: String
}
