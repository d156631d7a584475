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
    let limiter: LoginRateLimiter
    let metrics: ServerMetrics
    let applier: PushApplier
}
