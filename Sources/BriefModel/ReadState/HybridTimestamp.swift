/// A hybrid logical clock stamp: wall time in milliseconds, a counter for events within one
/// millisecond (or while the wall clock stands behind the last stamp seen), and the device that
/// made it.
///
/// Stamps are totally ordered by (wall time, counter, device), so two different events never
/// compare equal and every replica picks the same winner. Stamps travel as
/// `{"wall": 1782460800000, "counter": 0, "device": "ipad-1"}`.
public struct HybridTimestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Milliseconds since 1970-01-01 UTC, as the making device's clock read them (or later).
    public var wall: Int64
    /// Orders events that share a wall time.
    public var counter: UInt32
    /// The device that made the stamp: the final tie-break.
    public var device: DeviceID

    /// Creates a stamp.
    public init(wall: Int64, counter: UInt32 = 0, device: DeviceID) {
        self.wall = wall
        self.counter = counter
        self.device = device
    }

    public static func < (lhs: HybridTimestamp, rhs: HybridTimestamp) -> Bool {
        (lhs.wall, lhs.counter, lhs.device) < (rhs.wall, rhs.counter, rhs.device)
    }

    public var description: String { "\(wall).\(counter)@\(device)" }
}

/// The state of one device's hybrid logical clock. It is a value: callers keep it (in their store)
/// and pass the current wall time in, so the model never reads a clock.
public struct HybridClock: Sendable, Hashable, Codable {
    /// The device whose clock this is.
    public let device: DeviceID
    /// The latest stamp made or observed.
    public private(set) var latest: HybridTimestamp?

    /// Creates a clock that has made and seen nothing yet.
    public init(device: DeviceID, latest: HybridTimestamp? = nil) {
        self.device = device
        self.latest = latest
    }

    /// Makes a stamp for a local event, later than every stamp made or observed before.
    ///
    /// - Parameter now: The device's wall time in milliseconds since 1970.
    /// - Returns: `now` with counter 0 when the wall clock has moved past the latest stamp;
    ///   otherwise the latest stamp's wall time with the next counter.
    public mutating func tick(now: Int64) -> HybridTimestamp {
        let stamp: HybridTimestamp
        if let latest, latest.wall >= now {
            // The wall clock stands still or went back: keep the latest time and count up.
            if latest.counter == UInt32.max {
                stamp = HybridTimestamp(wall: latest.wall + 1, counter: 0, device: device)
            } else {
                stamp = HybridTimestamp(wall: latest.wall, counter: latest.counter + 1, device: device)
            }
        } else {
            stamp = HybridTimestamp(wall: now, counter: 0, device: device)
        }
        latest = stamp
        return stamp
    }

    /// Takes note of a stamp received from elsewhere, so that the next local stamp is later than it.
    public mutating func observe(_ remote: HybridTimestamp) {
        if latest.map({ remote > $0 }) ?? true {
            latest = HybridTimestamp(wall: remote.wall, counter: remote.counter, device: device)
        }
    }
}
