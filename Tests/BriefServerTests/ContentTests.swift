import BriefModel
import CompressNIO
import Crypto
import Foundation
import GRDB
import HTTPTypes
import NIOCore
import Testing

@testable import BriefServer

/// The content plane: `GET /v1/content/{digest}` serves each edition's canonical bytes by their
/// SHA-256, immutable and cacheable, gzip as stored, and behind a session unless content is public.
@Suite struct ContentTests {
    static func digest(of answer: TestClient.Answer) throws -> String {
        try #require(try answer.decode(PublishResultV1.self).digest)
    }

    /// `Accept-Encoding` as RFC 9110 12.5.3 reads it: codings by name in any case (or `*`), with
    /// spaces around the separators, refused only at quality zero.
    @Test(arguments: [
        ("gzip", true), ("GZip", true), ("x-gzip", true), ("*", true), ("br, gzip", true),
        ("br;q=1, gzip;q=0.8", true), ("gzip ; q=0.001", true), ("deflate,gzip", true), (" gzip ", true),
        ("gzip;q=0", false), ("gzip; q=0.0", false), ("gzip;Q = 0.000", false), ("gzip;q=0.", false),
        ("br", false), ("gzipped", false), ("", false), ("identity, deflate", false), ("*;q=0", false),
    ])
    func acceptEncodingTakesGzipWhenListedWithAQualityAboveZero(header: String, takes: Bool) {
        #expect(ContentRoutes.acceptsGzip(header) == takes)
    }

    @Test func ifNoneMatchNamesATagInAListWeakOrStrongOrAsAWildcard() {
        let tag = "\"abc\""
        #expect(ContentRoutes.names(tag, in: tag))
        #expect(ContentRoutes.names(tag, in: "\"x\", W/\"abc\""))
        #expect(ContentRoutes.names(tag, in: " \"x\" ,\t\"abc\" "))
        #expect(ContentRoutes.names(tag, in: "*"))
        #expect(!ContentRoutes.names(tag, in: "\"abcd\", \"ab\""))
        #expect(!ContentRoutes.names(tag, in: ""))
    }

    @Test func anEditionIsServedByTheDigestOfItsBytesAndNeverChanges() async throws {
        try await TestServer().test { client in
            let token = try await client.register("anna")
            let brief = try TestServer.example()
            let digest = try Self.digest(of: try await client.publish(brief))

            let answer = try await client.send(.get, "/v1/content/\(digest)", token: token)
            #expect(answer.status == .ok)
            // the bytes are the canonical JSON the digest names, and the brief published
            #expect(ContentDigest.hex(Array(SHA256.hash(data: answer.body))) == digest)
            let served = try WireCoding.decoder().decode(Brief.self, from: answer.body)
            let published = try WireCoding.decoder().decode(Brief.self, from: try JSONEncoder().encode(brief))
            #expect(served == published)
            #expect(answer.headers[.eTag] == "\"\(digest)\"")
            #expect(answer.headers[.cacheControl] == "private, max-age=31536000, immutable")
            #expect(answer.headers[.vary] == "Accept-Encoding")
            #expect(answer.headers[.contentEncoding] == nil)

            // a correction is another edition under another digest; the first stays as it was
            let corrected = try Self.digest(of: try await client.publish(brief.setting("title", .string("New"))))
            #expect(corrected != digest)
            let again = try await client.send(.get, "/v1/content/\(digest)", token: token)
            #expect(again.body == answer.body)
            let correction = try await client.send(.get, "/v1/content/\(corrected)", token: token)
            #expect(try WireCoding.decoder().decode(Brief.self, from: correction.body).title == "New")
        }
    }

    @Test func gzipIsServedAsStoredAndRevalidationIsA304() async throws {
        try await TestServer().test { client in
            let token = try await client.register("anna")
            let digest = try Self.digest(of: try await client.publish(try TestServer.example()))
            let plain = try await client.send(.get, "/v1/content/\(digest)", token: token)

            let gzipped = try await client.send(
                .get,
                "/v1/content/\(digest)",
                token: token,
                headers: [.acceptEncoding: "br;q=1, gzip;q=0.8"]
            )
            #expect(gzipped.headers[.contentEncoding] == "gzip")
            #expect(gzipped.body.count < plain.body.count / 2)
            var buffer = ByteBuffer(bytes: Array(gzipped.body))
            let inflated = try buffer.decompress(with: .gzip())
            #expect(Data(inflated.readableBytesView) == plain.body)
            let refused = try await client.send(
                .get,
                "/v1/content/\(digest)",
                token: token,
                headers: [.acceptEncoding: "gzip;q=0"]
            )
            #expect(refused.headers[.contentEncoding] == nil && refused.body == plain.body)

            let revalidated = try await client.send(
                .get,
                "/v1/content/\(digest)",
                token: token,
                headers: [.ifNoneMatch: "\"\(digest)\""]
            )
            #expect(revalidated.status == .notModified && revalidated.body.isEmpty)
            #expect(revalidated.headers[.eTag] == "\"\(digest)\"")
        }
    }

    @Test func anEditionStoredWithoutItsGzipIsCompressedOnceAndKept() async throws {
        let database = try DatabaseQueue()
        let store = try SQLiteDeltaStore(database)
        let brief = try StoreConformanceTests.brief("b-1")
        let digest = try #require(try await store.publish(brief, now: 1).digest)
        let bytes = try #require(ContentDigest.parse(Substring(digest)))
        func stored() async throws -> StoredContent? { try await store.content(digest: bytes, gzip: true) }
        try await store.keepCompressed([], digest: bytes)  // kept only where none is: no change
        #expect(try await stored().map(Self.isNonEmptyGzip) == true)
        // as an edition migrated from before gzips were kept: its document, even to a fetch taking gzip
        try await database.write { db in try db.execute(sql: "UPDATE contents SET gzip = NULL") }
        guard case .document(let document)? = try await stored() else {
            Issue.record("an edition without its gzip did not give its document")
            return
        }
        #expect(ContentDigest.hex(Array(SHA256.hash(data: Data(document.utf8)))) == digest)
        try await TestServer(store: store).test { client in
            let token = try await client.register("anna")
            let answer = try await client.send(
                .get,
                "/v1/content/\(digest)",
                token: token,
                headers: [.acceptEncoding: "gzip"]
            )
            #expect(answer.headers[.contentEncoding] == "gzip")
        }
        #expect(try await stored().map(Self.isNonEmptyGzip) == true, "kept after the first request")
    }

    static func isNonEmptyGzip(_ content: StoredContent) -> Bool {
        if case .gzip(let bytes) = content { !bytes.isEmpty } else { false }
    }

    @Test func badAndUnknownDigestsAreRefusedAndSessionModeNeedsASession() async throws {
        try await TestServer().test { client in
            let token = try await client.register("anna")
            let digest = try Self.digest(of: try await client.publish(try TestServer.example()))
            let unknown = String(repeating: "0", count: 64)
            #expect(try await client.send(.get, "/v1/content/\(unknown)", token: token).status == .notFound)
            for bad in ["abc", digest.uppercased(), String(repeating: "g", count: 64), digest + "0"] {
                let answer = try await client.send(.get, "/v1/content/\(bad)", token: token)
                #expect(answer.status == .badRequest, "\(bad)")
                #expect(answer.error?.code == .malformedRequest)
            }
            #expect(try await client.send(.get, "/v1/content/\(digest)").status == .unauthorized)
        }
    }

    @Test func publicContentNeedsNoSessionAndSaysPublic() async throws {
        try await TestServer { $0.contentAccess = .public }.test { client in
            let digest = try Self.digest(of: try await client.publish(try TestServer.example()))
            let answer = try await client.send(.get, "/v1/content/\(digest)")
            #expect(answer.status == .ok)
            #expect(answer.headers[.cacheControl] == "public, max-age=31536000, immutable")
        }
    }

    /// With `--content-pass-secret`, a page naming content carries a pass that nginx's
    /// `secure_link` accepts: the MD5 of "expiry secret" in base64url, the expiry an hour on,
    /// rounded up to the minute. The signature here is Python's `hashlib.md5` of the same text, an
    /// implementation other than the server's; the end-to-end test shows nginx accepting passes.
    @Test func aPageNamingContentCarriesAPassThatNginxChecks() async throws {
        let secret = "test-content-pass-secret-0123456789abcdef"
        try await TestServer { $0.contentPassSecret = secret }.test { client in
            let token = try await client.register("anna")
            _ = try await client.publish(try TestServer.example())
            let page = try await client.changes(token).decode(ChangesPageV2.self)
            #expect(!page.briefs.isEmpty)
            // the clock stands at 2026-06-26T08:00Z: an hour on is 1782464400
            #expect(page.contentPass == "expires=1782464400&pass=40WM1NMH5_F9xutuKuAseg")

            // a page that names no content has none, so that an up-to-date answer stays the same
            let upToDate = try await client.changes(token, since: page.nextToken).decode(ChangesPageV2.self)
            #expect(upToDate.briefs.isEmpty && upToDate.contentPass == nil)
        }
        // without a secret, no page carries one
        try await TestServer().test { client in
            let token = try await client.register("anna")
            _ = try await client.publish(try TestServer.example())
            #expect(try await client.changes(token).decode(ChangesPageV2.self).contentPass == nil)
        }
    }
}
