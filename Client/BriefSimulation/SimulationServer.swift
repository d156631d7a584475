import BriefClient
import BriefModel
import Foundation

/// The server a simulation runs against: in this process (``InProcessSimulationServer``) or a
/// real one over HTTP (``HTTPSimulationServer``). Faults are injected between the devices and
/// it, in ``FaultyTransport``, so they work against either.
public protocol SimulationServer: Sendable {
    /// A session for `device` of `user`: registers the user when `register`, logs in otherwise.
    func session(user: String, password: String, device: DeviceID, register: Bool) async throws -> SessionV1
    /// How a device with this session reaches the server.
    func transport(token: String) -> any SyncTransport
    /// Every topic, with whether the session's user follows it.
    func topics(token: String) async throws -> [TopicStatusV1]
    /// Follows or unfollows a topic for the session's user.
    func setFollowing(_ topic: TopicID, _ follow: Bool, token: String) async throws
    /// Publishes a brief, new or corrected; whether that changed it (`false` too when this
    /// server takes no publishing from the simulation).
    func publish(_ brief: Brief) async throws -> Bool
    /// Retracts a brief; whether that changed it: `false` for one already retracted or gone.
    func retract(_ id: BriefID) async throws -> Bool

    /// The server's clock, in milliseconds since 1970: stamps further ahead of it than
    /// ``skew`` allows are pulled back when pushed.
    func now() -> Int64
    /// Moves the server's clock on, when the simulation owns it (in process); a real server's
    /// clock moves by itself.
    func advance(by milliseconds: Int64)
    /// The bound the server puts on stamps ahead of its clock.
    var skew: ClockSkewPolicy { get }
    /// Whether ``now()`` is the very time the server takes requests at (a clock this process
    /// moves, in process); otherwise the verdict reads that time from the server's answers.
    var ownsClock: Bool { get }

    /// Purges tombstones retracted more than `age` milliseconds ago (the `expiry` fault); how
    /// many, or `nil` when this server purges on its own schedule.
    func purgeTombstones(olderThan age: Int64) async throws -> Int?
    /// Restarts the server (the `restart` fault); `false` when this one cannot be restarted from here.
    func restart() async throws -> Bool
}
