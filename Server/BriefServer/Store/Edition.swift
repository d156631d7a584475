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

/// An edition's bytes as the content plane serves them, in one encoding: a store reads only the
/// one a fetch takes (a brief's JSON is about twice its gzip).
public enum StoredContent: Sendable, Hashable {
    /// The canonical JSON, as published.
    case document(String)
    /// The same, gzip-compressed when it was published.
    case gzip([UInt8])
}

/// gzip through CompressNIO (zlib), at its default level.
enum Gzip {
    static func compress(_ bytes: [UInt8]) throws -> [UInt8] {
        var buffer = ByteBuffer(bytes: bytes)
        let compressed = try buffer.compress(with: .gzip())
        return Array(compressed.readableBytesView)
    }
}

/// A topic's newest editions, for its feeds (``DeltaStore/topicEditions(_:limit:)``).
public struct TopicEditions: Sendable, Hashable {
    public struct Edition: Sendable, Hashable {
        public var version: Int
        /// When the server received this edition, in milliseconds since 1970.
        public var publishedAt: Int64
        public var digest: [UInt8]
        /// The canonical JSON, as published.
        public var document: String
    }

    public var name: String
    public var editions: [Edition]
}
