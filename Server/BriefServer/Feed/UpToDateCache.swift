import BriefModel
import HTTPTypes
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// The answer each user's last up-to-date poll got, so that the next one is answered from memory.
///
/// Most polls find nothing new. When a poll's page is empty, its answer (the body and ETag, whose
/// token names the feed's head `next`) is kept with the user's ``ChangeNotifier/Generation`` read
/// *before* the page was queried. A later poll with a token between the one that was answered
/// (`since`) and `next` gets the same answer while the generation has not moved: nothing that
/// concerns the user has committed since, so the page would again be empty and end at `next`.
///
/// A cached answer never skips a change: its `next` came from a real snapshot of the feed, and
/// the client's token never moves past it. At worst it is late by the time between a commit and
/// its notification (on one instance, microseconds; across instances, the NOTIFY delay), as a
/// poll that ran a moment earlier would be. Entries are used only while
/// ``ChangeNotifier/answersCanBeCached``.
final class UpToDateCache: Sendable {
    /// What an up-to-date poll answers.
    struct Answer: Sendable {
        let body: ByteBuffer
        let etag: String
        /// The page's `nextToken`: the token the client sends next.
        let nextToken: String
        /// The headers of the answer with the page, and of a 304, made (and checked) once.
        fileprivate let pageFields: [HTTPField]
        fileprivate let notModifiedFields: [HTTPField]
        /// The same, as they go on the wire, for ``UpToDatePollHandler``.
        fileprivate let pageHeaders: HTTPHeaders
        fileprivate let notModifiedHeaders: HTTPHeaders

        init(body: ByteBuffer, etag: String, nextToken: String) {
            self.body = body
            self.etag = etag
            self.nextToken = nextToken
            let tag = HTTPField(name: .eTag, value: etag)
            pageFields = [
                tag, HTTPField(name: .contentType, value: "application/json; charset=utf-8"),
                HTTPField(name: .contentLength, value: String(body.readableBytes)),
            ]
            notModifiedFields = [tag, HTTPField(name: .contentLength, value: "0")]
            pageHeaders = HTTPHeaders(pageFields.map { ($0.name.rawName, $0.value) })
            notModifiedHeaders = HTTPHeaders(notModifiedFields.map { ($0.name.rawName, $0.value) })
        }
    }

    private struct Entry {
        let epoch: UInt32
        let since: FeedCursor?
        let next: FeedCursor
        let generation: ChangeNotifier.Generation
        let answer: Answer
    }

    private let entries = NIOLockedValueBox([UserID: Entry]())
    private let capacity: Int

    /// - Parameter capacity: Users kept at most; when full, the cache starts over.
    init(capacity: Int = 100_000) {
        self.capacity = capacity
    }

    /// The kept answer for a poll whose token is, byte for byte, the kept answer's `nextToken`:
    /// a token this server already checked for this user, so its signature need not be checked
    /// again. This is the poll of a client that is up to date.
    func answer(for user: UserID, tokenText: String, generation: ChangeNotifier.Generation) -> Answer? {
        guard let entry = entries.withLockedValue({ $0[user] }), entry.generation == generation,
            entry.answer.nextToken == tokenText
        else {
            return nil
        }
        return entry.answer
    }

    /// The kept answer for a poll with `token`, if it still holds at `generation`.
    func answer(for user: UserID, token: ChangeToken, generation: ChangeNotifier.Generation) -> Answer? {
        guard let entry = entries.withLockedValue({ $0[user] }), entry.generation == generation,
            entry.epoch == token.epoch, Self.lies(token.cursor, from: entry.since, to: entry.next)
        else {
            return nil
        }
        return entry.answer
    }

    /// Whether a cursor lies between an empty page's start and its end on both planes, with no
    /// catch-up under way: its page would be as empty.
    private static func lies(_ cursor: FeedCursor, from since: FeedCursor?, to next: FeedCursor) -> Bool {
        guard let since, since.catchUp == nil, cursor.catchUp == nil, next.catchUp == nil else {
            return false
        }
        return (since.content...next.content).contains(cursor.content)
            && (since.state...next.state).contains(cursor.state)
    }

    /// Keeps the answer of an empty page: the feed after `since` held nothing for the user up to
    /// `next`, as of `generation` (read before the page was queried).
    func remember(
        _ answer: Answer,
        for user: UserID,
        epoch: UInt32,
        since: FeedCursor?,
        next: FeedCursor,
        generation: ChangeNotifier.Generation
    ) {
        entries.withLockedValue { entries in
            if entries.count >= capacity, entries[user] == nil {
                entries.removeAll(keepingCapacity: true)
            }
            entries[user] = Entry(epoch: epoch, since: since, next: next, generation: generation, answer: answer)
        }
    }
}

extension UpToDateCache.Answer {
    /// How the answer is sent: 200 with the page, or 304 without a body when the request's
    /// `If-None-Match` names it; with its `Content-Length`. The routes and
    /// ``UpToDatePollHandler`` both send it this way.
    func response(ifNoneMatch: String?) -> (status: HTTPResponse.Status, headers: [HTTPField], body: ByteBuffer?) {
        if ifNoneMatch == etag {
            return (.notModified, notModifiedFields, nil)
        }
        return (.ok, pageFields, body)
    }

    /// ``response(ifNoneMatch:)`` as HTTP/1 parts, for ``UpToDatePollHandler``.
    func http1Response(ifNoneMatch: String?) -> (status: HTTPResponseStatus, headers: HTTPHeaders, body: ByteBuffer?) {
        if ifNoneMatch == etag {
            return (.notModified, notModifiedHeaders, nil)
        }
        return (.ok, pageHeaders, body)
    }
}
