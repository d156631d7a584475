/// The limits on sizes and counts a brief must keep, checked by validation.
///
/// The defaults leave the seed brief (the largest real one we have) far inside every bound while
/// keeping one document under about 1 MiB, the server's default body limit.
public struct BriefLimits: Sendable, Hashable {
    /// Characters of the headline.
    public var titleLength = 300
    /// Characters of a topic name.
    public var topicNameLength = 80
    /// Characters of the price line.
    public var priceLength = 40
    /// Key takeaways in a brief.
    public var takeawayCount = 20
    /// Blocks (paragraphs and quotes) in the body.
    public var bodyBlockCount = 200
    /// Characters of one paragraph.
    public var paragraphLength = 10_000
    /// Characters of one quote, takeaway, highlight or category item.
    public var bulletLength = 2_000
    /// Characters of a speaker, show, host, episode title, category name or subtitle.
    public var nameLength = 300
    /// Episodes in Source Intelligence.
    public var sourceCount = 50
    /// Highlights of one episode.
    public var highlightCount = 50
    /// Categories of one episode's "Also from this episode".
    public var categoryCount = 40
    /// Items in one category.
    public var categoryItemCount = 100
    /// The largest podcast or episode count of the date line.
    public var sourceCountValue = 1_000

    /// The limits the server and devices apply unless configured otherwise.
    public static let standard = BriefLimits()

    /// Creates the standard limits; change fields to tighten or loosen them.
    public init() {}
}
