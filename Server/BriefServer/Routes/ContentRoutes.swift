import BriefModel
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /v1/content/{digest}`: the content plane. One brief edition, named by the SHA-256 of its
/// canonical JSON, as the bytes published: immutable, so any cache may keep it for good.
///
/// - `ETag` is the digest; an `If-None-Match` naming it gets 304 without reading the store (bytes
///   that hash to the digest cannot be stale).
/// - A client that accepts gzip gets the gzip made once at publish, as stored (`Vary: Accept-Encoding`).
/// - `Cache-Control` says `public` or `private` by `--content-access` (``ContentAccess``); with
///   `session`, the route sits behind the session middleware like every other private route.
struct ContentRoutes {
    let environment: ServerEnvironment

    /// A year: what RFC 9111 calls "never expires" in practice; `immutable` tells browsers not
    /// to revalidate on reload either.
    static let maxAge = 31_536_000

    func get(_ request: Request, context: BriefRequestContext) async throws -> Response {
        let text = context.parameters.get("digest") ?? ""
        guard let digest = ContentDigest.parse(Substring(text)) else {
            throw APIError(
                .badRequest,
                .malformedRequest,
                "A content digest is the SHA-256 of a brief edition in 64 lowercase hex digits."
            )
        }
        let etag = "\"\(text)\""
        var headers: HTTPFields = [
            .eTag: etag,
            .cacheControl: "\(environment.configuration.contentAccess == .public ? "public" : "private"), "
                + "max-age=\(Self.maxAge), immutable",
            .vary: "Accept-Encoding",
        ]
        if request.headers[.ifNoneMatch].map({ Self.names(etag, in: $0) }) == true {
            return Response(status: .notModified, headers: headers)
        }
        guard let content = try await environment.store.content(digest: digest) else {
            throw APIError.notFound("No brief edition has the digest \(text).")
        }
        headers[.contentType] = "application/json; charset=utf-8"
        guard Self.acceptsGzip(request.headers[.acceptEncoding]) else {
            return Response(
                status: .ok,
                headers: headers,
                body: .init(byteBuffer: ByteBuffer(string: content.document))
            )
        }
        var gzip = content.gzip
        if gzip == nil {
            // published before gzips were kept: compressed this once, and kept
            let made = try Gzip.compress(Array(content.document.utf8))
            try await environment.store.keepCompressed(made, digest: digest)
            gzip = made
        }
        headers[.contentEncoding] = "gzip"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: gzip ?? [])))
    }

    /// Whether an `If-None-Match` list names the tag (or is `*`).
    static func names(_ etag: String, in header: String) -> Bool {
        header.split(separator: ",").contains { candidate in
            let trimmed = candidate.trimmingCharacters(in: .whitespaces)
            return trimmed == "*" || trimmed == etag || trimmed == "W/" + etag
        }
    }

    /// Whether an `Accept-Encoding` takes gzip: listed, and not with `q=0`.
    static func acceptsGzip(_ header: String?) -> Bool {
        guard let header else {
            return false
        }
        return header.lowercased().split(separator: ",").contains { coding in
            let parts = coding.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.first == "gzip" || parts.first == "x-gzip" || parts.first == "*" else {
                return false
            }
            return !parts.dropFirst().contains { $0.replacingOccurrences(of: " ", with: "") == "q=0" || $0 == "q=0.0" }
        }
    }
}
