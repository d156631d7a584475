import BriefServer
import Testing

@Suite struct PublisherKeyTests {
    @Test(arguments: [
        ("aaaaaaaaaaaaaaaa", "at least 32 bytes"),
        (String(repeating: "a", count: 40), "fewer than 12 different characters"),
        (String(repeating: "abcdefghijklm", count: 3), "repeats a pattern of 13 characters"),
        ("0123456789ab0123456789ab0123456789ab", "repeats a pattern of 12 characters"),
        ("ab" + String(repeating: "c", count: 40), "fewer than 12 different characters"),
    ])
    func guessableKeysAreRefused(_ key: String, _ reason: String) {
        #expect(PublisherKey.problem(with: key)?.contains(reason) == true, "\(key)")
    }

    /// A content pass secret forges passes that open every edition: it is held to the same
    /// rules, after its own (length, and an alphabet nginx's site takes unquoted).
    @Test(arguments: [
        (String(repeating: "a", count: 40), "fewer than 12 different characters"),
        (String(repeating: "abcdefghijklm", count: 3), "repeats a pattern of 13 characters"),
        ("0123456789ab0123456789ab0123456789ab", "repeats a pattern of 12 characters"),
        ("short-but-varied-0123", "32 to 256 characters"),
        ("a secret with spaces 0123456789abcdef", "may contain only"),
    ])
    func guessableContentPassSecretsAreRefused(_ secret: String, _ reason: String) {
        #expect(ContentPass.problem(withSecret: secret)?.contains(reason) == true, "\(secret)")
    }

    @Test func longVariedContentPassSecretsAreAccepted() {
        #expect(ContentPass.problem(withSecret: "end-to-end-content-pass-secret-0123456789") == nil)
        #expect(ContentPass.problem(withSecret: "bench-content-pass-secret-0123456789abcdef") == nil)
    }

    @Test func longVariedKeysAreAccepted() {
        #expect(PublisherKey.problem(with: "end-to-end-publisher-key-0123456789") == nil)
        #expect(PublisherKey.problem(with: "0123456789abcdefghijklmnopqrstuv") == nil)
    }

    @Test func newKeysAreUsableAndDifferent() {
        let keys = (0..<50).map { _ in PublisherKey.generate() }
        #expect(Set(keys).count == 50)
        for key in keys {
            #expect(key.utf8.count == 48 && key.hasPrefix("bpk1_") && PublisherKey.problem(with: key) == nil)
        }
    }
}
