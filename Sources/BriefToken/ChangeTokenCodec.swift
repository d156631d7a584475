import BriefModel
import Crypto
import Foundation

/// Turns a ``ChangeToken`` into the opaque string devices hold, and back, refusing any string this
/// server did not issue to this user.
///
/// Format 2, before base64url (no padding), every number big-endian: one format byte (2), the
/// epoch (4 bytes), the content position (8), the state position (8), then one byte saying whether
/// a catch-up follows. A catch-up is its `through` position (8), its window as days since 1970
/// (4, signed; `Int32.min` for none), its mark as days (4) and position (8) (all ones for none),
/// and its topic as a length byte (0 for every topic) and that many UTF-8 bytes. Then
/// HMAC-SHA256 over a domain label, the scope (the user's identifier) and those bytes. The scope
/// is authenticated but not stored, so a token issued to one user is refused for another, and a
/// token reveals nothing but positions. Format 1 (one position) is refused as
/// ``ChangeTokenError/unsupportedFormat(_:)``: the server answers `token_expired` and the device
/// starts over.
public struct ChangeTokenCodec: Sendable {
    /// The shortest secret accepted, in bytes.
    public static let minimumSecretLength = 32
    /// The longest token text accepted, in characters.
    public static let maximumTextLength = 256

    private static let format: UInt8 = 2
    private static let fixedLength = 22
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
        payload.appendBigEndian(token.epoch)
        payload.appendBigEndian(token.cursor.content)
        payload.appendBigEndian(token.cursor.state)
        if let catchUp = token.cursor.catchUp {
            payload.append(1)
            payload.appendBigEndian(catchUp.through)
            payload.appendBigEndian(UInt32(bitPattern: catchUp.window.map { Int32($0.daysSinceEpoch) } ?? .min))
            payload.appendBigEndian(UInt32(bitPattern: catchUp.after.map { Int32($0.date.daysSinceEpoch) } ?? -1))
            payload.appendBigEndian(catchUp.after?.position ?? .max)
            let topic = Array((catchUp.topic?.rawValue ?? "").utf8)
            payload.append(UInt8(topic.count))
            payload += topic
        } else {
            payload.append(0)
        }
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
        guard text.utf8.count <= Self.maximumTextLength, let data = Base64URL.decode(text) else {
            throw .malformed
        }
        let bytes = [UInt8](data)
        guard bytes.count > SHA256.byteCount else {
            throw .malformed
        }
        guard bytes[0] == Self.format else {
            throw .unsupportedFormat(bytes[0])
        }
        let payload = Array(bytes[0..<(bytes.count - SHA256.byteCount)])
        let mac = bytes[(bytes.count - SHA256.byteCount)...]
        // `==` of an authentication code with bytes compares in constant time
        guard code(for: payload, scope: scope) == mac else {
            throw .forged
        }
        // Signed by this server, so well formed unless the format has a bug: refuse it as malformed then.
        var reader = PayloadReader(bytes: payload[1...])
        guard let epoch = reader.uint32(), let content = reader.uint64(), let state = reader.uint64(),
            let hasCatchUp = reader.byte()
        else {
            throw .malformed
        }
        var cursor = FeedCursor(content: content, state: state)
        if hasCatchUp == 1 {
            guard let through = reader.uint64(), let window = reader.uint32(), let markDays = reader.uint32(),
                let markPosition = reader.uint64(), let topicLength = reader.byte(),
                let topicBytes = reader.bytes(Int(topicLength))
            else {
                throw .malformed
            }
            let topic = topicBytes.isEmpty ? nil : TopicID(rawValue: String(decoding: topicBytes, as: UTF8.self))
            var catchUp = CatchUp(
                topic: topic,
                through: through,
                window: Int32(bitPattern: window) == .min
                    ? nil : CalendarDate(daysSinceEpoch: Int(Int32(bitPattern: window)))
            )
            if markPosition != .max, let date = CalendarDate(daysSinceEpoch: Int(Int32(bitPattern: markDays))) {
                catchUp.after = CatchUp.Mark(date: date, position: markPosition)
            }
            guard topicBytes.isEmpty || topic != nil else {
                throw .malformed
            }
            cursor.catchUp = catchUp
        }
        guard reader.isAtEnd else {
            throw .malformed
        }
        return ChangeToken(epoch: epoch, cursor: cursor)
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

extension [UInt8] {
    fileprivate mutating func appendBigEndian(_ value: some FixedWidthInteger) {
        Swift.withUnsafeBytes(of: value.bigEndian) { append(contentsOf: $0) }
    }
}

/// Reads a token's payload front to back; `nil` when it runs out.
private struct PayloadReader {
    var bytes: ArraySlice<UInt8>

    var isAtEnd: Bool { bytes.isEmpty }

    mutating func byte() -> UInt8? { bytes.popFirst() }

    mutating func bytes(_ count: Int) -> ArraySlice<UInt8>? {
        guard bytes.count >= count else {
            return nil
        }
        defer { bytes = bytes.dropFirst(count) }
        return bytes.prefix(count)
    }

    mutating func uint32() -> UInt32? { bytes(4).map { $0.reduce(0) { $0 << 8 | UInt32($1) } } }

    mutating func uint64() -> UInt64? { bytes(8).map { $0.reduce(0) { $0 << 8 | UInt64($1) } } }
}
