import BriefModel
import Crypto
import Foundation

/// Turns a ``ChangeToken`` into the opaque string devices hold, and back, refusing any string this
/// server did not issue to this user.
///
/// Format 1, before base64url (no padding): one format byte (1), the epoch (4 bytes, big-endian),
/// the position (8 bytes, big-endian), then HMAC-SHA256 over a domain label, the scope (the user's
/// identifier) and those 13 bytes. The scope is authenticated but not stored, so a token issued to
/// one user is refused for another, and a token reveals nothing but a position.
public struct ChangeTokenCodec: Sendable {
    /// The shortest secret accepted, in bytes.
    public static let minimumSecretLength = 32

    private static let format: UInt8 = 1
    private static let payloadLength = 13
    private static let domain = Array("briefsync.change-token".utf8)

    /// The HMAC with the key already absorbed; each use copies it (a value) and goes on from there.
    // why: keying an HMAC hashes the padded key twice, a third of a token check (perf, BENCHMARKS.md)
    private let keyed: HMAC<SHA256>

    /// Creates a codec with the server's token secret.
    ///
    /// - Throws: ``ChangeTokenError/weakSecret`` when the secret is shorter than 32 bytes.
    public init(secret: [UInt8]) throws(ChangeTokenError) {
        guard secret.count >= Self.minimumSecretLength else {
            throw .weakSecret
        }
        keyed = HMAC<SHA256>(key: SymmetricKey(data: secret))
    }

    /// The string to hand to the user `scope` for `token`.
    public func encode(_ token: ChangeToken, for scope: String) -> String {
        var payload: [UInt8] = [Self.format]
        payload += withUnsafeBytes(of: token.epoch.bigEndian, Array.init)
        payload += withUnsafeBytes(of: token.position.bigEndian, Array.init)
        let mac = code(for: payload, scope: scope)
        return Base64URL.encode(payload + Array(mac))
    }

    /// The token a string stands for, if this server issued it to `scope`.
    ///
    /// - Throws: ``ChangeTokenError/malformed`` for text that is not a token at all,
    ///   ``ChangeTokenError/unsupportedFormat`` for a format this code does not know, and
    ///   ``ChangeTokenError/forged`` when the authentication code does not match: altered bytes,
    ///   another key, or another user's token.
    public func decode(_ text: String, for scope: String) throws(ChangeTokenError) -> ChangeToken {
        guard text.utf8.count <= 128, let data = Base64URL.decode(text) else {
            throw .malformed
        }
        let bytes = [UInt8](data)
        guard bytes.count == Self.payloadLength + SHA256.byteCount else {
            throw .malformed
        }
        guard bytes[0] == Self.format else {
            throw .unsupportedFormat(bytes[0])
        }
        let payload = Array(bytes[0..<Self.payloadLength])
        let mac = bytes[Self.payloadLength...]
        // `==` of an authentication code with bytes compares in constant time
        guard code(for: payload, scope: scope) == mac else {
            throw .forged
        }
        let epoch = payload[1..<5].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let position = payload[5..<13].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return ChangeToken(epoch: epoch, position: position)
    }

    // MARK: Encoding

    private func code(for payload: [UInt8], scope: String) -> HashedAuthenticationCode<SHA256> {
        var mac = keyed
        mac.update(data: signed(payload, scope: scope))
        return mac.finalize()
    }

    /// Label, scope length, scope, payload: the length keeps "ab"+"c…" apart from "a"+"bc…".
    private func signed(_ payload: [UInt8], scope: String) -> [UInt8] {
        let scopeBytes = Array(scope.utf8)
        return Self.domain + withUnsafeBytes(of: UInt32(scopeBytes.count).bigEndian, Array.init) + scopeBytes + payload
    }
}

/// Why a change token was refused. The server answers all but ``weakSecret`` with `invalid_token`.
public enum ChangeTokenError: Error, Sendable, Hashable {
    /// Not a token: wrong alphabet, wrong length, not base64url.
    case malformed
    /// A token format this server does not know.
    case unsupportedFormat(UInt8)
    /// The authentication code does not match: altered, signed with another key, or another user's.
    case forged
    /// The configured secret is too short to sign tokens.
    case weakSecret
}
