import NIOConcurrencyHelpers

/// Counts attempts that cost the server or guess a secret, per key in a sliding window: logins
/// per username and per client address, registrations per address, failed publisher keys per
/// address. It says how long to wait once a key has too many.
///
/// A login is *reserved* before bcrypt runs and *settled* after: a reservation counts as a
/// failure until it succeeds, so guesses sent at once cannot all get past a check made before
/// any of them failed.
///
/// It lives in one process: behind a load balancer with several instances, each instance counts
/// on its own, so the effective limit is the per-instance limit times the instances.
public final class LoginRateLimiter: Sendable {
    /// The limits.
    public struct Limits: Sendable {
        /// Failed (or unsettled) logins per username within the window.
        public var perUsername: Int = 5
        /// Failed (or unsettled) logins per client address within the window.
        public var perAddress: Int = 20
        /// Registrations per client address within the window, whether they succeed or not.
        public var registrationsPerAddress: Int = 10
        /// Wrong publisher keys per client address within the window.
        public var publisherFailuresPerAddress: Int = 10
        /// The window, in milliseconds.
        public var window: Int64 = 15 * 60 * 1000

        public init() {}
    }

    /// A login (or publisher-key check) under way: counted as failed until
    /// ``LoginRateLimiter/settle(_:succeeded:)``.
    struct Attempt: Sendable {
        fileprivate let keys: [String]
        fileprivate let at: Int64
    }

    private let limits: Limits
    private let attempts = NIOLockedValueBox([String: [Int64]]())

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Reserves a login attempt, or says how many seconds to wait.
    func reserveLogin(username: String, address: String?, now: Int64) -> Result<Attempt, Wait> {
        reserve(
            [
                ("user:\(username.lowercased())", limits.perUsername),
                ("login-addr:\(address ?? "unknown")", limits.perAddress),
            ],
            now: now
        )
    }

    /// Ends an attempt: a success no longer counts; a failure stays counted for the window.
    func settle(_ attempt: Attempt, succeeded: Bool) {
        guard succeeded else {
            return
        }
        attempts.withLockedValue { attempts in
            for key in attempt.keys {
                if let index = attempts[key]?.firstIndex(of: attempt.at) {
                    attempts[key]?.remove(at: index)
                }
            }
        }
    }

    /// Counts a registration from `address`, or says how many seconds to wait.
    func reserveRegistration(address: String?, now: Int64) -> Result<Attempt, Wait> {
        reserve([("register-addr:\(address ?? "unknown")", limits.registrationsPerAddress)], now: now)
    }

    /// Reserves a check of a publisher key from `address`, or says how many seconds to wait;
    /// settle it as a login is (a wrong key stays counted).
    func reservePublisherCheck(address: String?, now: Int64) -> Result<Attempt, Wait> {
        reserve([("publisher-addr:\(address ?? "unknown")", limits.publisherFailuresPerAddress)], now: now)
    }

    /// How long to wait, in whole seconds.
    struct Wait: Error, Sendable {
        let seconds: Int
    }

    // MARK: Helpers

    private func reserve(_ keys: [(String, Int)], now: Int64) -> Result<Attempt, Wait> {
        attempts.withLockedValue { attempts in
            if let seconds = wait(for: keys, in: &attempts, now: now) {
                return .failure(Wait(seconds: seconds))
            }
            for (key, _) in keys {
                attempts[key, default: []].append(now)
            }
            return .success(Attempt(keys: keys.map(\.0), at: now))
        }
    }

    /// Drops attempts older than the window and returns the wait when any key is at its limit.
    private func wait(for keys: [(String, Int)], in attempts: inout [String: [Int64]], now: Int64) -> Int? {
        var wait: Int64 = 0
        for (key, limit) in keys {
            let recent = (attempts[key] ?? []).filter { $0 > now - limits.window }
            attempts[key] = recent.isEmpty ? nil : recent
            if recent.count >= limit, let oldest = recent.first {
                wait = max(wait, oldest + limits.window - now)
            }
        }
        return wait > 0 ? Int((wait + 999) / 1000) : nil
    }
}
