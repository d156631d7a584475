import NIOConcurrencyHelpers

/// Counts failed logins per username and per client address in a sliding window, and says how
/// long to wait once either has too many.
///
/// It lives in one process: behind a load balancer with several instances, each instance counts
/// on its own, so the effective limit is the per-instance limit times the instances.
public final class LoginRateLimiter: Sendable {
    /// The limits.
    public struct Limits: Sendable {
        /// Failures per username within the window.
        public var perUsername: Int = 5
        /// Failures per client address within the window.
        public var perAddress: Int = 20
        /// The window, in milliseconds.
        public var window: Int64 = 15 * 60 * 1000

        public init() {}
    }

    private let limits: Limits
    private let failures = NIOLockedValueBox([String: [Int64]]())

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Seconds to wait before another attempt, or `nil` when one may be made now.
    func retryAfter(username: String, address: String?, now: Int64) -> Int? {
        failures.withLockedValue { failures in
            let keys = Self.keys(username: username, address: address)
            var wait: Int64 = 0
            for (key, limit) in zip(keys, [limits.perUsername, limits.perAddress]) {
                let recent = (failures[key] ?? []).filter { $0 > now - limits.window }
                failures[key] = recent.isEmpty ? nil : recent
                if recent.count >= limit, let oldest = recent.first {
                    wait = max(wait, oldest + limits.window - now)
                }
            }
            return wait > 0 ? Int((wait + 999) / 1000) : nil
        }
    }

    /// Records a failed attempt.
    func recordFailure(username: String, address: String?, now: Int64) {
        failures.withLockedValue { failures in
            for key in Self.keys(username: username, address: address) {
                failures[key, default: []].append(now)
            }
        }
    }

    private static func keys(username: String, address: String?) -> [String] {
        ["user:\(username.lowercased())", "addr:\(address ?? "unknown")"]
    }
}
