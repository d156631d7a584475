import BriefModel
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
        let takesGzip = Self.acceptsGzip(request.headers[.acceptEncoding])
        guard let content = try await environment.store.content(digest: digest, gzip: takesGzip) else {
            throw APIError.notFound("No brief edition has the digest \(text).")
        }
        headers[.contentType] = "application/json; charset=utf-8"
        let gzip: [UInt8]
        switch content {
        case .gzip(let stored):
            gzip = stored
        case .document(let document) where takesGzip:
            // published before gzips were kept: compressed this once, and kept
            gzip = try Gzip.compress(Array(document.utf8))
            try await environment.store.keepCompressed(gzip, digest: digest)
        case .document(let document):
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: document)))
        }
        headers[.contentEncoding] = "gzip"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: gzip)))
    }

    /// Whether an `If-None-Match` list names the tag (or is `*`).
    static func names(_ etag: String, in header: String) -> Bool {
        header.utf8.split(separator: UInt8(ascii: ",")).contains { element in
            let candidate = ASCII.trimmingBlanks(element)
            return candidate.elementsEqual("*".utf8) || candidate.elementsEqual(etag.utf8)
                || (candidate.starts(with: "W/".utf8) && candidate.dropFirst(2).elementsEqual(etag.utf8))
        }
    }

    /// Whether an `Accept-Encoding` takes gzip: listed (or `*`), and not with `q=0`.
    ///
    /// why on the header's bytes: every content fetch asks, and splitting and trimming `String`s
    /// with Foundation's character sets was 5% of the server's CPU in an initial sync (perf).
    static func acceptsGzip(_ header: String?) -> Bool {
        guard let header else {
            return false
        }
        return header.utf8.split(separator: UInt8(ascii: ",")).contains { element in
            var parameters = element.split(separator: UInt8(ascii: ";"), omittingEmptySubsequences: false)[...]
            guard let coding = parameters.popFirst().map(ASCII.trimmingBlanks),
                ASCII.equalsIgnoringCase(coding, "gzip".utf8) || ASCII.equalsIgnoringCase(coding, "x-gzip".utf8)
                    || coding.elementsEqual("*".utf8)
            else {
                return false
            }
            return !parameters.contains { Self.isZeroQuality(ASCII.trimmingBlanks($0)) }
        }
    }

    /// Whether a parameter is `q=0`, `q=0.`, `q=0.0`… (RFC 9110 12.4.2: "not acceptable"),
    /// spaces around `=` allowed.
    private static func isZeroQuality(_ parameter: Substring.UTF8View.SubSequence) -> Bool {
        let parts = parameter.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, ASCII.equalsIgnoringCase(ASCII.trimmingBlanks(parts[0]), "q".utf8) else {
            return false
        }
        let value = ASCII.trimmingBlanks(parts[1])
        guard value.first == UInt8(ascii: "0") else {
            return false
        }
        let fraction = value.dropFirst()
        return fraction.isEmpty
            || (fraction.first == UInt8(ascii: ".") && fraction.dropFirst().allSatisfy { $0 == UInt8(ascii: "0") })
    }
}
