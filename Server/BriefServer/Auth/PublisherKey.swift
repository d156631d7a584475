import BriefToken

/// The rules a publisher key must meet, and fresh keys that meet them.
///
/// Anyone who guesses the key can publish and retract for every reader, so a key must be long
/// and not made of a few characters or a short pattern repeated (`aaaa…`, `abcabc…`). Wrong keys
/// are also rate-limited per client address (``LoginRateLimiter``).
public enum PublisherKey {
    /// The fewest bytes a key may have.
    public static let minimumLength = 32
    /// The fewest distinct characters a key may have.
    public static let minimumDistinctCharacters = GuessableSecret.minimumDistinctCharacters

    /// Why `key` is refused, or `nil` when it may be used.
    public static func problem(with key: String) -> String? {
        if key.utf8.count < minimumLength {
            return "must be at least \(minimumLength) bytes (brief-server new-key makes one)"
        }
        return GuessableSecret.problem(with: key)
    }

    /// A new key: `bpk1_` and 32 random bytes in base64url (48 characters), drawn again in the
    /// (astronomically rare) case that it breaks a rule above. The prefix tells it from a session
    /// token, and keeps a command line from reading a key that starts with `-` as an option.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        while true {
            let key =
                "bpk1_" + Base64URL.encode((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
            if problem(with: key) == nil {
                return key
            }
        }
    }
}
