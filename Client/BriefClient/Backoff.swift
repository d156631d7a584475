/// Exponential backoff with full jitter: the n-th consecutive failure waits a random time up to
/// `base · 2ⁿ`, capped, and never less than what the server asked for with `Retry-After`.
public struct Backoff: Sendable {
    public var base: Duration
    public var cap: Duration

    public init(base: Duration = .seconds(1), cap: Duration = .seconds(300)) {
        self.base = base
        self.cap = cap
    }

    /// The wait before attempt `failures + 1`.
    public func delay(
        afterFailures failures: Int,
        retryAfter: Duration?,
        using generator: inout some RandomNumberGenerator
    )
        -> Duration
    {
        let ceiling = min(cap, base * Int(1 << min(failures, 20)))
        let jittered = ceiling * Double.random(in: 0...1, using: &generator)
        return max(jittered, retryAfter ?? .zero)
    }
}
