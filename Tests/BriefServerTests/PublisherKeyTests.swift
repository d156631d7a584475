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
