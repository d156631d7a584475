import BriefModel

// The Reader API's JSON, with the names its clients read.

struct ReaderUserInfo: Encodable {
    var userId: String
    var userName: String
    var userProfileId: String
    var userEmail: String
}

struct ReaderSubscriptionList: Encodable {
    struct Subscription: Encodable {
        var id: String
        var title: String
        var categories: [ReaderTagList.Tag]
        var url: String
        var htmlUrl: String
        var iconUrl: String
    }
    var subscriptions: [Subscription]
}

struct ReaderTagList: Encodable {
    struct Tag: Encodable {
        var id: String
        var type: String?
    }
    var tags: [Tag]
}

struct ReaderItemRefs: Encodable {
    struct Ref: Encodable {
        var id: String
        var directStreamIds: [String]
        var timestampUsec: String
    }
    var itemRefs: [Ref]
    var continuation: String?
}

struct ReaderUnreadCounts: Encodable {
    struct Entry: Encodable {
        var id: String
        var count: Int
        var newestItemTimestampUsec: String
    }
    var max: Int
    var unreadcounts: [Entry]
}

struct ReaderStreamContents: Encodable {
    var direction = "ltr"
    var id: String
    var title = "BriefSync"
    var updated: Int64
    var items: [ReaderContentItem]
}

/// A brief as `stream/items/contents` shows it: the item's id in the long form, the brief's
/// date as `published`, its current edition's time as `updated`, the time the server first
/// received it as `timestampUsec` (the item id), its topic as `origin`, and its HTML
/// (``BriefHTMLRenderer``) as both `summary` and `content`.
struct ReaderContentItem: Encodable {
    struct Text: Encodable {
        var direction = "ltr"
        var content: String
    }
    struct Link: Encodable {
        var href: String
        var type: String
    }
    struct Origin: Encodable {
        var streamId: String
        var title: String
        var htmlUrl: String
    }

    var id: String
    var crawlTimeMsec: String
    var timestampUsec: String
    var published: Int64
    var updated: Int64
    var title: String
    var author: String
    var categories: [String]
    var origin: Origin
    var canonical: [Link]
    var alternate: [Link]
    var summary: Text
    var content: Text

    init(_ item: ReaderItem, brief: Brief, baseURL: String) {
        let html = BriefHTMLRenderer().render(brief)
        let itemID = ReaderItemID(rawValue: item.ref.itemID)
        let topic = item.ref.topic.rawValue
        id = itemID.longForm
        crawlTimeMsec = String(item.ref.itemID / 1000)
        timestampUsec = String(item.ref.itemID)
        published = Int64(brief.date.daysSinceEpoch) * 86_400
        updated = item.publishedAt / 1000
        title = brief.title
        author = brief.topic.name
        categories =
            [ReaderStreams.readingList, "feed/\(topic)"] + (item.ref.read ? [ReaderStreams.read] : [])
            + (item.ref.saved ? [ReaderStreams.starred] : [])
        origin = Origin(
            streamId: "feed/\(topic)",
            title: item.topicName,
            htmlUrl: "\(baseURL)/v1/topics/\(topic)/feed.atom"
        )
        // why no link: a brief has no web page of its own, and apps open the link they are given
        canonical = []
        alternate = []
        summary = Text(content: html)
        content = Text(content: html)
    }
}
