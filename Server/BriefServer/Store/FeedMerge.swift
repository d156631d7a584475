import BriefModel
import Foundation

/// One row of a user's feed, from any of the four streams the feed merges.
struct FeedRow: Sendable {
    enum Item: Sendable {
        /// A brief published, corrected or retracted (`document` is nil for a tombstone).
        case brief(id: String, topic: String, version: Int, document: String?)
        /// The user's merged read-state of one brief, as stored JSON.
        case readState(String)
        /// A topic the user unfollowed.
        case unfollow(topic: String)
    }

    var position: Int64
    var item: Item
}

/// A source of feed rows in ascending position order, read one at a time.
protocol FeedStream {
    mutating func next() throws -> FeedRow?
}

/// Rows already fetched, e.g. one bounded query per stream.
struct FetchedFeedStream: FeedStream {
    private var rows: ArraySlice<FeedRow>

    init(_ rows: [FeedRow]) {
        self.rows = rows[...]
    }

    mutating func next() throws -> FeedRow? {
        rows.popFirst()
    }
}

/// Merges a user's feed streams into one page: the same rules for every store.
enum FeedMerge {
    /// The page after `after`: rows in position order, at most `limit`, stopping once about
    /// `maxBytes` of documents are gathered (at least one row). A brief that two streams carry
    /// (published and backfilled) appears once. `head` is the feed's head in the same snapshot:
    /// the next token when the page is the last.
    static func page(
        _ streams: [any FeedStream],
        after: Int64,
        head: Int64,
        limit: Int,
        maxBytes: Int
    ) throws -> ChangeBatch {
        var heads: [(row: FeedRow?, stream: any FeedStream)] = []
        for var stream in streams {
            heads.append((try stream.next(), stream))
        }
        var batch = ChangeBatch(nextPosition: UInt64(max(head, after)), hasMore: false)
        var taken = 0
        var bytes = 0
        var seenBriefs = Set<String>()
        var lastPosition = after
        let decoder = WireCoding.decoder(unknownFields: .ignore)
        while let index = heads.indices.filter({ heads[$0].row != nil })
            .min(by: { heads[$0].row!.position < heads[$1].row!.position })
        {
            if taken >= limit || (taken > 0 && bytes >= maxBytes) {
                batch.hasMore = true
                break
            }
            let row = heads[index].row!
            lastPosition = row.position
            switch row.item {
            case .brief(let id, let topic, let version, let document):
                if seenBriefs.insert(id).inserted, let briefID = BriefID(rawValue: id),
                    let topicID = TopicID(rawValue: topic)
                {
                    if let document {
                        // why not parsed: it was validated when published, and parsing every
                        // brief of every page was three quarters of the server's time in an
                        // initial sync (perf, BENCHMARKS.md)
                        batch.storedBriefs.append(StoredBrief(version: version, document: document))
                        bytes += document.utf8.count
                    } else if after > 0 {
                        // why only then: a device starting from nothing holds nothing to retract
                        batch.retractions.append(RetractionV1(id: briefID, topic: topicID, version: version))
                        bytes += 64
                    }
                }
            case .readState(let json):
                bytes += json.utf8.count
                batch.readStates.append(try decoder.decode(ReadState.self, from: Data(json.utf8)))
            case .unfollow(let topic):
                if let topic = TopicID(rawValue: topic) {
                    batch.unfollowedTopics.append(topic)
                }
            }
            taken += 1
            heads[index].row = try heads[index].stream.next()
        }
        if batch.hasMore {
            batch.nextPosition = UInt64(lastPosition)
        }
        return batch
    }
}
