import BriefModel
import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore

/// `GET /v1/topics/{id}/feed.json` (JSON Feed 1.1) and `GET /v1/topics/{id}/feed.atom` (Atom
/// 1.0): a topic's newest briefs for feed readers, newest first (``TopicFeed``).
///
/// They follow `--content-access`: anyone may read them in `public` mode; in `session` mode
/// they sit behind the session middleware like the content they show.
///
/// A feed changes only when a brief is published or retracted, so each one is rendered once per
/// change of the content plane and kept (``FeedCache``); readers polling it get the kept bytes,
/// and 304 for an `If-None-Match` naming its ETag.
struct FeedRoutes {
    let environment: ServerEnvironment
    let cache: FeedCache

    /// The newest briefs a feed holds unless `limit` says fewer.
    static let defaultLimit = 50
    static let maxLimit = 200

    enum Format: String, Sendable {
        case json = "feed.json"
        case atom = "feed.atom"

        var contentType: String {
            switch self {
            case .json: "application/feed+json; charset=utf-8"
            case .atom: "application/atom+xml; charset=utf-8"
            }
        }
    }

    func json(_ request: Request, context: BriefRequestContext) async throws -> Response {
        try await feed(.json, request, context: context)
    }

    func atom(_ request: Request, context: BriefRequestContext) async throws -> Response {
        try await feed(.atom, request, context: context)
    }

    private func feed(_ format: Format, _ request: Request, context: BriefRequestContext) async throws -> Response {
        let text = context.parameters.get("id") ?? ""
        guard let topic = TopicID(rawValue: text) else {
            throw APIError.notFound("There is no topic \(text). GET /v1/topics lists them.")
        }
        // the session middleware read a feed key from here, when it came without a bearer token
        if let key = request.uri.queryParameters.get("key"), key.utf8.count > 512 {
            throw APIError.badQuery([ValidationIssue(path: "key", reason: "must be a feed key (512 bytes at most)")])
        }
        var limit = Self.defaultLimit
        if let value = request.uri.queryParameters.get("limit") {
            guard let parsed = Int(value), (1...Self.maxLimit).contains(parsed) else {
                throw APIError.badQuery([
                    ValidationIssue(path: "limit", reason: "must be a whole number from 1 to \(Self.maxLimit)")
                ])
            }
            limit = parsed
        }
        let selfURL = Self.baseURL(request) + "/v1/topics/\(topic.rawValue)/\(format.rawValue)"
        let key = FeedCache.Key(topic: topic, format: format, limit: limit, selfURL: selfURL)
        // why before the read: a publish that commits after it moves the generation, and the
        // rendering kept below is then not used again
        let generation = environment.notifier.contentGeneration
        let rendered: FeedCache.Rendered
        if let kept = cache.rendered(key, at: generation) {
            rendered = kept
        } else {
            guard let editions = try await environment.store.topicEditions(topic, limit: limit) else {
                throw APIError.notFound("There is no topic \(text). GET /v1/topics lists them.")
            }
            rendered = try Self.render(format, topic: Topic(id: topic, name: editions.name), editions, selfURL: selfURL)
            cache.keep(rendered, for: key, at: generation)
        }
        var headers: HTTPFields = [
            .eTag: rendered.etag,
            .cacheControl: "\(environment.configuration.contentAccess == .public ? "public" : "private"), no-cache",
        ]
        if request.headers[.ifNoneMatch].map({ ContentRoutes.names(rendered.etag, in: $0) }) == true {
            return Response(status: .notModified, headers: headers)
        }
        headers[.contentType] = format.contentType
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: rendered.body))
    }

    static func render(_ format: Format, topic: Topic, _ editions: TopicEditions, selfURL: String) throws
        -> FeedCache.Rendered
    {
        let decoder = WireCoding.decoder(unknownFields: .ignore)
        let entries = try editions.editions.map { edition in
            TopicFeed.Entry(
                brief: try decoder.decode(Brief.self, from: Data(edition.document.utf8)),
                version: edition.version,
                receivedAt: edition.publishedAt,
                digest: ContentDigest.hex(edition.digest)
            )
        }
        let feed = TopicFeed(topic: topic, entries: entries, selfURL: selfURL)
        let body: [UInt8]
        switch format {
        case .json: body = Array(try feed.jsonFeed())
        case .atom: body = Array(feed.atom().utf8)
        }
        return FeedCache.Rendered(body: ByteBuffer(bytes: body), etag: ChangesRoutes.etag(of: Data(body)))
    }

    /// `scheme://host` as the client reached this server: the `Host` it sent (through a proxy,
    /// the one the proxy passes on) and the scheme a proxy says in `X-Forwarded-Proto`.
    static func baseURL(_ request: Request) -> String {
        let forwarded = request.headers[EdgeMiddleware.forwardedProtoHeader]
        let scheme = forwarded == "https" ? "https" : "http"
        var host = request.head.authority ?? "localhost"
        // why: a Host that is not a plain host[:port] must not shape links readers follow
        if host.isEmpty || host.utf8.count > 255
            || !host.utf8.allSatisfy({ ASCII.isHostCharacter($0) })
        {
            host = "localhost"
        }
        return "\(scheme)://\(host)"
    }
}

/// Each feed as last rendered, while no brief has been published or retracted since.
final class FeedCache: Sendable {
    struct Key: Hashable, Sendable {
        let topic: TopicID
        let format: FeedRoutes.Format
        let limit: Int
        let selfURL: String
    }

    struct Rendered: Sendable {
        let body: ByteBuffer
        let etag: String
    }

    private let entries = NIOLockedValueBox([Key: (generation: UInt64, rendered: Rendered)]())
    private let capacity: Int

    /// - Parameter capacity: Feeds kept at most; when full, the cache starts over.
    init(capacity: Int = 1_000) {
        self.capacity = capacity
    }

    /// The feed rendered at `generation` of the content plane, if that is still the generation.
    func rendered(_ key: Key, at generation: UInt64?) -> Rendered? {
        guard let generation else {
            return nil
        }
        return entries.withLockedValue { entries in
            entries[key].flatMap { $0.generation == generation ? $0.rendered : nil }
        }
    }

    func keep(_ rendered: Rendered, for key: Key, at generation: UInt64?) {
        guard let generation else {
            return
        }
        entries.withLockedValue { entries in
            if entries.count >= capacity, entries[key] == nil {
                entries.removeAll(keepingCapacity: true)
            }
            entries[key] = (generation, rendered)
        }
    }
}
