import BriefToken
import Crypto
import Foundation

/// Device session tokens: 256 random bits, sent as `bs1_<base64url>`. The server stores only
/// their SHA-256, so a leaked database reveals no usable token.
enum SessionTokens {
    static let prefix = "bs1_"

    /// A new token and the hash to store.
    static func make() -> (token: String, hash: [UInt8]) {
        var generator = SystemRandomNumberGenerator()  // why: the OS CSPRNG (getrandom on Linux)
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let token = prefix + Base64URL.encode(bytes)
        return (token, hash(token))
    }

    /// A new session identifier, for listing and revoking: `s-` and 16 hex digits.
    static func makeID() -> String {
        var generator = SystemRandomNumberGenerator()
        return "s-" + String(UInt64.random(in: .min ... .max, using: &generator), radix: 16).leftPadded(to: 16)
    }

    static func hash(_ token: String) -> [UInt8] {
        var hasher = SHA256()
        var token = token
        token.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        return hasher.finalize().withUnsafeBytes { Array($0) }
    }

    /// Compares two SHA-256 hashes of secrets in time that does not depend on where they differ.
    static func constantTimeEquals(_ x: [UInt8], _ y: [UInt8]) -> Bool {
        x.count == y.count && zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        String(repeating: "0", count: max(0, length - count)) + self
    }
}
