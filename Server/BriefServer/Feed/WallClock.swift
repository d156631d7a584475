import Foundation
import NIOConcurrencyHelpers

/// The server's wall time in milliseconds since 1970. Injected so that tests move time by hand
/// (tombstone retention, rate limits, clock skew) instead of waiting for it.
public protocol WallClock: Sendable {
    /// The current time, in milliseconds since 1970.
    func now() -> Int64
}

/// The system clock.
public struct SystemWallClock: WallClock {
    public init() {}

    public func now() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}

/// A clock that stands still until told to move.
public final class ManualWallClock: WallClock {
    private let time: NIOLockedValueBox<Int64>

    /// Creates a clock at `start` milliseconds since 1970.
    public init(_ start: Int64 = 1_782_460_800_000) {
        time = NIOLockedValueBox(start)
    }

    public func now() -> Int64 {
        time.withLockedValue { $0 }
    }

    /// Moves the clock forward.
    public func advance(by milliseconds: Int64) {
        time.withLockedValue { $0 += milliseconds }
    }
}
