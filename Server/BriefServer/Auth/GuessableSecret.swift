/// The rule every secret the server is given shares, whatever else its own rules say: not made
/// of a few characters, nor of a short pattern repeated (`aaaa…`, `abcabc…`). Length is each
/// secret's own rule (``PublisherKey``, ``ContentPass``), checked before this one.
enum GuessableSecret {
    /// The fewest distinct characters a secret may have.
    static let minimumDistinctCharacters = 12

    /// Why `secret` is too easy to guess, or `nil` when it is not.
    static func problem(with secret: String) -> String? {
        if Set(secret).count < minimumDistinctCharacters {
            return
                "has fewer than \(minimumDistinctCharacters) different characters: too easy to guess (brief-server new-key prints one)"
        }
        let characters = Array(secret)
        for period in 1...max(1, characters.count / 2)
        where characters.indices.allSatisfy({ characters[$0] == characters[$0 % period] }) {
            return "repeats a pattern of \(period) characters: too easy to guess (brief-server new-key prints one)"
        }
        return nil
    }
}
