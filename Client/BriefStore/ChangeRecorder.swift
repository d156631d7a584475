import BriefModel

/// Turns what the reader does on this device into mutations: each gets the next mutation id and
/// a stamp from the device's hybrid logical clock.
///
/// The recorder is a value that the device's store keeps (its clock and last id must survive a
/// restart, or ids would repeat and the server would take new mutations for retries).
public struct ChangeRecorder: Sendable, Hashable, Codable {
    /// The device's clock.
    public private(set) var clock: HybridClock
    /// The id of the last mutation recorded; 0 before any.
    public private(set) var lastMutationID: UInt64

    /// Creates a recorder for a device that has recorded nothing yet.
    public init(device: DeviceID) {
        clock = HybridClock(device: device)
        lastMutationID = 0
    }

    /// The device this recorder stamps for.
    public var device: DeviceID { clock.device }

    /// Records one action on one brief.
    ///
    /// - Parameters:
    ///   - action: What the reader did.
    ///   - briefID: On which brief.
    ///   - now: The device's wall time, in milliseconds since 1970.
    /// - Returns: The mutation to apply locally and queue for the server.
    public mutating func record(_ action: ReadAction, on briefID: BriefID, now: Int64) -> MutationV1 {
        lastMutationID += 1
        return MutationV1(id: lastMutationID, briefID: briefID, action: action, stamp: clock.tick(now: now))
    }

    /// Takes note of a state received from the server, so that later local stamps follow it.
    public mutating func observe(_ state: ReadState) {
        if let stamp = state.latestStamp {
            clock.observe(stamp)
        }
    }
}

extension ReadState {
    /// What the reader sees: the state the server confirmed, with the device's unacknowledged
    /// mutations applied on top. Because merging only ever moves forward, an older server state
    /// can never undo a pending local change.
    public func applying(_ pending: some Sequence<MutationV1>) -> ReadState {
        pending.reduce(self) { state, mutation in
            mutation.briefID == briefID ? state.applying(mutation.action, at: mutation.stamp) : state
        }
    }
}
