import Foundation

/// A topic's newest briefs as the feeds that feed readers subscribe to: JSON Feed 1.1
/// (`feed.json`) and Atom 1.0 (`feed.atom`). Pure: the server gives it the briefs, the time each
/// edition was received and the feed's own address.
///
/// Every item carries the brief's HTML as ``BriefHTMLRenderer`` lays it out. The JSON Feed item
/// also carries the structured brief, its version and its content digest in a `_briefsync`
/// extension object (readers that do not know it ignore it), so nothing of a brief is lost.
///
/// An item's id is the brief's id, stable across corrections: a corrected brief is the same item
/// with a later modification time, and readers update it in place.
public struct TopicFeed: Sendable {
    public struct Entry: Sendable {
        public var brief: Brief
        public var version: Int
        /// When the server received this edition, in milliseconds since 1970.
        public var receivedAt: Int64
        /// The edition's content digest, as `GET /v1/content/{digest}` names it.
        public var digest: String

        public init(brief: Brief, version: Int, receivedAt: Int64, digest: String) {
            self.brief = brief
            self.version = version
            self.receivedAt = receivedAt
            self.digest = digest
        }
    }

    public var topic: Topic
    /// Newest first.
    public var entries: [Entry]
    /// The absolute address of this feed, as readers fetch it (`…/feed.json` or `…/feed.atom`).
    public var selfURL: String

    public init(topic: Topic, entries: [Entry], selfURL: String) {
        self.topic = topic
        self.entries = entries
        self.selfURL = selfURL
    }

    static let html = BriefHTMLRenderer()

    // MARK: JSON Feed 1.1

    /// The JSON Feed 1.1 document (`application/feed+json`).
    public func jsonFeed() throws -> Data {
        let document = JSONFeedDocument(
            version: "https://jsonfeed.org/version/1.1",
            title: topic.name,
            description: "Daily briefs on \(topic.name), written from podcast episodes.",
            feedURL: selfURL,
            authors: [.init(name: "BriefSync")],
            items: entries.map { entry in
                JSONFeedDocument.Item(
                    id: entry.brief.id.rawValue,
                    title: entry.brief.title,
                    contentHTML: Self.html.render(entry.brief),
                    summary: entry.brief.takeaways.first,
                    datePublished: Self.rfc3339(entry.brief.date),
                    dateModified: Self.rfc3339(milliseconds: entry.receivedAt),
                    tags: [entry.brief.topic.name],
                    briefsync: .init(brief: entry.brief, version: entry.version, digest: entry.digest)
                )
            }
        )
        return try WireCoding.encoder().encode(document)
    }

    // MARK: Atom 1.0

    /// The Atom 1.0 document (`application/atom+xml`).
    public func atom() -> String {
        let escape = Self.html.escape
        // a feed with no entries has changed at no time: the epoch
        let updated = Self.rfc3339(milliseconds: entries.map(\.receivedAt).max() ?? 0)
        var xml = """
            <?xml version="1.0" encoding="utf-8"?>
            <feed xmlns="http://www.w3.org/2005/Atom">
              <id>\(escape(Self.urn("topic", topic.id.rawValue)))</id>
              <title>\(escape(topic.name))</title>
              <subtitle>\(escape("Daily briefs on \(topic.name), written from podcast episodes."))</subtitle>
              <updated>\(updated)</updated>
              <link rel="self" type="application/atom+xml" href="\(escape(selfURL))"/>
              <author><name>BriefSync</name></author>
              <generator>BriefSync</generator>

            """
        for entry in entries {
            let brief = entry.brief
            xml += """
                  <entry>
                    <id>\(escape(Self.urn("brief", brief.id.rawValue)))</id>
                    <title>\(escape(brief.title))</title>
                    <published>\(Self.rfc3339(brief.date))</published>
                    <updated>\(Self.rfc3339(milliseconds: entry.receivedAt))</updated>
                    <category term="\(escape(brief.topic.id.rawValue))" label="\(escape(brief.topic.name))"/>
                    <content type="html">\(escape(Self.html.render(brief)))</content>
                  </entry>

                """
        }
        return xml + "</feed>\n"
    }

    // MARK: Dates and ids

    /// `tag:`-like ids would need a domain and a date; a URN needs neither and never changes.
    static func urn(_ kind: String, _ id: String) -> String { "urn:briefsync:\(kind):\(id)" }

    /// Midnight UTC of a brief's date, as RFC 3339.
    static func rfc3339(_ date: CalendarDate) -> String { "\(date.iso)T00:00:00Z" }

    /// A time in milliseconds since 1970, as RFC 3339 in UTC to the second.
    static func rfc3339(milliseconds: Int64) -> String {
        let seconds = milliseconds.dividedRoundingDown(by: 1000)
        let day = CalendarDate(daysSinceEpoch: Int(seconds.dividedRoundingDown(by: 86_400)))
        let time = Int(seconds - seconds.dividedRoundingDown(by: 86_400) * 86_400)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(day?.iso ?? "1970-01-01")T\(two(time / 3600)):\(two(time / 60 % 60)):\(two(time % 60))Z"
    }
}

/// JSON Feed 1.1's document, as https://jsonfeed.org/version/1.1 names its fields.
struct JSONFeedDocument: Encodable {
    struct Author: Encodable {
        var name: String
    }

    struct Item: Encodable {
        var id: String
        var title: String
        var contentHTML: String
        var summary: String?
        var datePublished: String
        var dateModified: String
        var tags: [String]
        var briefsync: Extension

        enum CodingKeys: String, CodingKey {
            case id, title, summary, tags
            case contentHTML = "content_html"
            case datePublished = "date_published"
            case dateModified = "date_modified"
            case briefsync = "_briefsync"
        }
    }

    /// The structured brief, for readers that know BriefSync.
    struct Extension: Encodable {
        var brief: Brief
        var version: Int
        var digest: String
    }

    var version: String
    var title: String
    var description: String
    var feedURL: String
    var authors: [Author]
    var items: [Item]

    enum CodingKeys: String, CodingKey {
        case version, title, description, authors, items
        case feedURL = "feed_url"
    }
}
