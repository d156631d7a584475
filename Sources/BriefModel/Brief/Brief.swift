/// A daily digest of one topic, written from podcast episodes: everything the reader shows,
/// with its structure.
///
/// A brief is what a publisher sends (`PUT /v1/briefs/{id}`) and what a device stores. Its
/// identity is ``id``, chosen by the publisher; its version is assigned by the server and travels
/// beside it in ``BriefRefV2``. Decoding validates the whole document and throws a
/// ``DocumentValidationError`` naming every problem by path (see `Brief+Validation.swift`).
public struct Brief: Sendable, Hashable {
    /// The publisher's stable identifier.
    public var id: BriefID
    /// The topic the brief digests, such as "AI & TECH".
    public var topic: Topic
    /// The day the brief covers.
    public var date: CalendarDate
    /// The headline.
    public var title: String
    /// The "Price:" line the page opens with; `nil` where the page shows it empty.
    public var price: String?
    /// How many podcasts and episodes the brief was written from, as the date line shows.
    public var sourceCounts: SourceCounts
    /// The key takeaways, one bullet each.
    public var takeaways: [String]
    /// The body: paragraphs, with pull quotes in their place between them.
    public var body: [BodyBlock]
    /// The line under the "Source Intelligence" heading.
    public var sourcesSubtitle: String?
    /// Source Intelligence: one entry per episode.
    public var sources: [EpisodeSource]

    /// Creates a brief. Values are not validated here; ``validate(_:limits:)`` and decoding do that.
    public init(
        id: BriefID,
        topic: Topic,
        date: CalendarDate,
        title: String,
        price: String? = nil,
        sourceCounts: SourceCounts,
        takeaways: [String],
        body: [BodyBlock],
        sourcesSubtitle: String? = nil,
        sources: [EpisodeSource]
    ) {
        self.id = id
        self.topic = topic
        self.date = date
        self.title = title
        self.price = price
        self.sourceCounts = sourceCounts
        self.takeaways = takeaways
        self.body = body
        self.sourcesSubtitle = sourcesSubtitle
        self.sources = sources
    }
}

/// A topic briefs are written about; users follow topics.
public struct Topic: Sendable, Hashable, Codable {
    /// The stable identifier, such as `ai-tech`.
    public var id: TopicID
    /// The name the reader shows, such as "AI & TECH".
    public var name: String

    /// Creates a topic.
    public init(id: TopicID, name: String) {
        self.id = id
        self.name = name
    }
}

/// The counts of the date line: "from 3 podcasts, 4 episodes".
public struct SourceCounts: Sendable, Hashable, Codable {
    /// Distinct podcasts (shows) the brief was written from.
    public var podcasts: Int
    /// Episodes the brief was written from.
    public var episodes: Int

    /// Creates the counts.
    public init(podcasts: Int, episodes: Int) {
        self.podcasts = podcasts
        self.episodes = episodes
    }
}

/// One block of a brief's body.
public enum BodyBlock: Sendable, Hashable {
    /// A paragraph of prose.
    case paragraph(String)
    /// A pull quote, shown between paragraphs.
    case quote(Quote)
}

/// A pull quote: what was said, by whom, on which show.
public struct Quote: Sendable, Hashable, Codable {
    /// The words, without surrounding quotation marks.
    public var text: String
    /// Who said them.
    public var speaker: String
    /// The show they were said on.
    public var show: String

    /// Creates a quote.
    public init(text: String, speaker: String, show: String) {
        self.text = text
        self.speaker = speaker
        self.show = show
    }
}

/// One episode of Source Intelligence.
public struct EpisodeSource: Sendable, Hashable, Codable {
    /// The episode's title, without its date.
    public var title: String
    /// The show, where the page names it.
    public var show: String?
    /// The host, where the page names one.
    public var host: String?
    /// The day the episode was published.
    public var date: CalendarDate
    /// What the brief drew from the episode, one bullet each; may be empty.
    public var highlights: [String]
    /// "Also from this episode", grouped by category.
    public var alsoFromEpisode: [SourceCategory]

    /// Creates an episode entry.
    public init(
        title: String,
        show: String? = nil,
        host: String? = nil,
        date: CalendarDate,
        highlights: [String],
        alsoFromEpisode: [SourceCategory]
    ) {
        self.title = title
        self.show = show
        self.host = host
        self.date = date
        self.highlights = highlights
        self.alsoFromEpisode = alsoFromEpisode
    }

    /// The count shown as "Also from this episode: (11)", derived from the items.
    public var alsoCount: Int { alsoFromEpisode.reduce(0) { $0 + $1.items.count } }
}

/// A category of "Also from this episode", such as "Chips (2)"; the count is `items.count`.
public struct SourceCategory: Sendable, Hashable, Codable {
    /// The category's name, such as "Chips".
    public var name: String
    /// The points in that category, one bullet each.
    public var items: [String]

    /// Creates a category.
    public init(name: String, items: [String]) {
        self.name = name
        self.items = items
    }
}
