import BriefModel
import Foundation
import HTTPTypes
import Hummingbird

/// The items of the Google Reader API: a brief is an item, listed by stream, shown as HTML laid
/// out like `brief-device show`, and marked read or starred (saved) by the user's reader app.
///
/// A mark is a read-state mutation of the session's device (`reader-…`), pushed through the
/// same store path and merged by the same rules as a phone's, so the user's other devices get it
/// on their next sync, and a phone's later edit wins over it as over any older one.
extension ReaderAPIRoutes {
    /// The most item ids one `edit-tag` names, and one `stream/items/contents` (each of which is
    /// a document to read and render; apps ask for a hundred or so at a time).
    static let maxItemsPerRequest = 10_000
    static let maxContentsPerRequest = 1_000

    /// `GET|POST /greader/reader/api/0/stream/items/ids`: the item ids of a stream, as
    /// ``ReaderItemQuery/init(readerForm:stream:)`` reads its parameters, with a `continuation`
    /// when more follow.
    func itemIDs(_ request: Request, context: BriefRequestContext) async throws -> Response {
        try await answering {
            var request = request
            let session = try await reader(request)
            let form = try await Self.form(&request)
            guard let stream = form.first("s") else {
                throw ReaderError(.badRequest, "s is missing")
            }
            var query = try ReaderItemQuery(readerForm: form, stream: stream)
            let count = query.limit
            query.limit += 1  // one more tells whether a continuation is due
            let refs = try await environment.store.readerItems(for: session.userID, matching: query)
            let page = refs.prefix(count)
            return try jsonResponse(
                ReaderItemRefs(
                    itemRefs: page.map {
                        .init(
                            id: ReaderItemID(rawValue: $0.itemID).shortForm,
                            directStreamIds: ["feed/\($0.topic.rawValue)"],
                            timestampUsec: String($0.itemID)
                        )
                    },
                    continuation: refs.count > count ? page.last.map { String($0.itemID) } : nil
                )
            )
        }
    }

    /// `POST|GET /greader/reader/api/0/stream/items/contents` with many `i`: the briefs, in the
    /// order asked, each as HTML. An id of no live brief (retracted since) is left out.
    func itemContents(_ request: Request, context: BriefRequestContext) async throws -> Response {
        try await answering {
            var request = request
            let session = try await reader(request)
            let form = try await Self.form(&request)
            let ids = try Self.itemIDs(form, max: Self.maxContentsPerRequest)
            let items = try await environment.store.readerContents(
                for: session.userID,
                ids: Array(Set(ids.map(\.rawValue)))
            )
            let byID = Dictionary(items.map { ($0.ref.itemID, $0) }, uniquingKeysWith: { first, _ in first })
            let base = FeedRoutes.baseURL(request)
            let decoder = WireCoding.decoder(unknownFields: .ignore)
            var seen = Set<Int64>()
            var shown: [ReaderContentItem] = []
            for id in ids where seen.insert(id.rawValue).inserted {
                guard let item = byID[id.rawValue] else {
                    continue
                }
                let brief = try decoder.decode(Brief.self, from: Data(item.document.utf8))
                shown.append(ReaderContentItem(item, brief: brief, baseURL: base))
            }
            return try jsonResponse(
                ReaderStreamContents(
                    id: "user/-/state/com.google/reading-list",
                    updated: environment.clock.now() / 1000,
                    items: shown
                )
            )
        }
    }

    /// `GET /greader/reader/api/0/unread-count`: per topic followed, how many briefs are
    /// unread, and the total as the reading list.
    func unreadCount(_ request: Request, context: BriefRequestContext) async throws -> Response {
        try await answering {
            let session = try await reader(request)
            let counts = try await environment.store.readerUnreadCounts(for: session.userID)
            var entries = counts.map {
                ReaderUnreadCounts.Entry(
                    id: "feed/\($0.topic.rawValue)",
                    count: $0.count,
                    newestItemTimestampUsec: String($0.newestItemID)
                )
            }
            entries.append(
                .init(
                    id: ReaderStreams.readingList,
                    count: counts.reduce(0) { $0 + $1.count },
                    newestItemTimestampUsec: String(counts.map(\.newestItemID).max() ?? 0)
                )
            )
            return try jsonResponse(ReaderUnreadCounts(max: ReaderItemQuery.maxCount, unreadcounts: entries))
        }
    }

    /// `POST /greader/reader/api/0/edit-tag` with many `i`, `a=` and `r=` states, and the write
    /// token `T`: `read` marks read or unread, `starred` saves or unsaves, `kept-unread` added
    /// marks unread. An id of no live brief is skipped (it was retracted since the app listed it).
    func editTag(_ request: Request, context: BriefRequestContext) async throws -> Response {
        try await answering {
            var request = request
            let session = try await reader(request)
            let form = try await Self.form(&request)
            try Self.checkWriteToken(form, session: session)
            var actions: [ReadAction] = []
            for (name, adding) in [("a", true), ("r", false)] {
                for tag in form.all(name) {
                    switch (ReaderStreams.selection(of: tag), tag.hasSuffix("/com.google/kept-unread"), adding) {
                    case (.state(.read, _), _, _): actions.append(adding ? .markRead : .markUnread)
                    case (.state(.starred, _), _, _): actions.append(adding ? .save : .unsave)
                    case (_, true, true): actions.append(.markUnread)
                    case (.label, _, _): break  // kept-unread removed, tracking-…, labels: nothing to keep
                    default: throw ReaderError(.badRequest, "a and r must be user/-/state/com.google/read or starred")
                    }
                }
            }
            guard form.first("a") != nil || form.first("r") != nil else {
                throw ReaderError(.badRequest, "a or r is missing")
            }
            let ids = Array(Set(try Self.itemIDs(form, max: Self.maxItemsPerRequest).map(\.rawValue)))
            var query = ReaderItemQuery(scope: .all, limit: ids.count)
            query.ids = ids
            let refs = try await environment.store.readerItems(for: session.userID, matching: query)
            try await mark(refs.flatMap { ref in actions.map { (ref.briefID, $0) } }, session: session)
            return Self.text("OK")
        }
    }

    /// `POST /greader/reader/api/0/mark-all-as-read` with `s` (a stream) and, optionally, `ts`
    /// (only briefs received at or before it; microseconds since 1970, as Google Reader sent it,
    /// or seconds or milliseconds, told apart by size), and `T`. 404 for a feed that does not exist.
    func markAllAsRead(_ request: Request, context: BriefRequestContext) async throws -> Response {
        try await answering {
            var request = request
            let session = try await reader(request)
            let form = try await Self.form(&request)
            try Self.checkWriteToken(form, session: session)
            guard let stream = form.first("s") else {
                throw ReaderError(.badRequest, "s is missing")
            }
            var query = try ReaderItemQuery(readerForm: Form(query: ""), stream: stream)
            if case .topic(let topic) = query.scope,
                try await environment.store.topics(for: session.userID).contains(where: { $0.id == topic }) == false
            {
                throw ReaderError(.notFound, "no such feed")
            }
            if let text = form.first("ts"), !text.isEmpty {
                guard let ts = Int64(text), ts >= 0 else {
                    throw ReaderError(.badRequest, "ts must be a time in microseconds since 1970")
                }
                // why by size: seconds are below 10^11 until the year 5138, milliseconds below 10^14
                query.highest = ts < 100_000_000_000 ? ts * 1_000_000 : ts < 100_000_000_000_000 ? ts * 1000 : ts
            }
            guard query.read != true else {
                return Self.text("OK")  // the read stream: every brief in it is read
            }
            query.read = false
            query.limit = PushRequestV1.maxMutations
            // newest first, one push per page; each page starts below the last one marked
            while true {
                let refs = try await environment.store.readerItems(for: session.userID, matching: query)
                guard let last = refs.last else {
                    break
                }
                try await mark(refs.map { ($0.briefID, .markRead) }, session: session)
                guard refs.count == query.limit, last.itemID > .min else {
                    break
                }
                query.highest = last.itemID - 1
            }
            return Self.text("OK")
        }
    }

    // MARK: Marks

    /// Pushes the marks as mutations of the session's device, numbered and stamped by the server
    /// (``PushApplier/numbersMutations``), in pushes of at most ``PushRequestV1/maxMutations``.
    private func mark(_ marks: [(BriefID, ReadAction)], session: SessionRecord) async throws {
        var applier = environment.applier
        applier.numbersMutations = true
        var applied = 0
        for start in stride(from: 0, to: marks.count, by: PushRequestV1.maxMutations) {
            let now = environment.clock.now()
            let push = PushRequestV1(
                deviceID: session.deviceID,
                incarnation: Self.incarnation,
                mutations: marks[start..<min(start + PushRequestV1.maxMutations, marks.count)].map {
                    MutationV1(
                        id: 0,
                        briefID: $0.0,
                        action: $0.1,
                        stamp: HybridTimestamp(wall: now, device: session.deviceID)
                    )
                }
            )
            do {
                applied += try await environment.store.push(push, for: session.userID, applier: applier, now: now)
                    .appliedCount
            } catch StoreError.unknownBriefs {
                // why: the briefs were read just before; only a purge in between removes one
                throw ReaderError(.badRequest, "an item no longer exists: list the stream again")
            }
        }
        if applied > 0 {
            environment.notifier.notify(user: session.userID)
        }
        environment.metrics.mutationsMerged(applied)
    }

    /// The incarnation under which a Reader API session's device pushes: the server numbers its
    /// mutations, so there is never a copy of its store.
    static let incarnation = "greader"

    /// The item ids `i` of a request: at least one, at most `max`, each in a form
    /// ``ReaderItemID`` reads.
    static func itemIDs(_ form: Form, max: Int) throws(ReaderError) -> [ReaderItemID] {
        let texts = form.all("i")
        guard !texts.isEmpty else {
            throw ReaderError(.badRequest, "i is missing")
        }
        guard texts.count <= max else {
            throw ReaderError(.badRequest, "i: at most \(max) at once")
        }
        var ids: [ReaderItemID] = []
        for text in texts {
            guard let id = ReaderItemID(text) else {
                throw ReaderError(
                    .badRequest,
                    "i must be an item id (tag:google.com,2005:reader/item/<hex> or decimal)"
                )
            }
            ids.append(id)
        }
        return ids
    }
}
