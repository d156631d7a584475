import BriefModel
import CompressNIO
import Crypto
import Foundation
import NIOCore

/// A brief edition as publishing stores it, prepared before the store's transaction so that
/// neither the encoding nor the compression runs under a lock: the canonical JSON, its SHA-256
/// (by which the content plane serves it) and its gzip, made once here and served as stored.
struct Edition: Sendable {
    let document: String
    let digest: [UInt8]
    let gzip: [UInt8]

    init(_ brief: Brief) throws {
        document = String(decoding: try WireCoding.encoder().encode(brief), as: UTF8.self)
        digest = Array(SHA256.hash(data: Data(document.utf8)))
        gzip = try Gzip.compress(Array(document.utf8))
    }

    /// The digest as `GET /v1/content/{digest}` names it.
    var hexDigest: String { ContentDigest.hex(digest) }
}

/// An edition's bytes as the content plane keeps them.
public struct StoredContent: Sendable, Hashable {
    /// The canonical JSON, as published.
    public var document: String
    /// The same, gzip-compressed when it was published; `nil` for an edition published before
    /// the server kept them (the route compresses it once and has the store keep it).
    public var gzip: [UInt8]?

    public init(document: String, gzip: [UInt8]?) {
        self.document = document
        self.gzip = gzip
    }
}

/// The names of editions on the content plane: the SHA-256 of the canonical JSON, in lowercase hex.
public enum ContentDigest {
    private static let digits = Array("0123456789abcdef".utf8)

    /// The 64 lowercase hex digits of a digest.
    public static func hex(_ digest: [UInt8]) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(digest.count * 2)
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// The digest 64 lowercase hex digits stand for; `nil` for anything else.
    public static func parse(_ text: Substring) -> [UInt8]? {
        let bytes = Array(text.utf8)
        guard bytes.count == 64 else {
            return nil
        }
        var digest: [UInt8] = []
        digest.reserveCapacity(32)
        for index in stride(from: 0, to: 64, by: 2) {
            guard let high = nibble(bytes[index]), let low = nibble(bytes[index + 1]) else {
                return nil
            }
            digest.append(high << 4 | low)
        }
        return digest
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

/// gzip through CompressNIO (zlib), at its default level.
enum Gzip {
    static func compress(_ bytes: [UInt8]) throws -> [UInt8] {
        var buffer = ByteBuffer(bytes: bytes)
        let compressed = try buffer.compress(with: .gzip())
        return Array(compressed.readableBytesView)
    }
}
