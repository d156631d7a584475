import BriefClient
import BriefModel
import Foundation

/// Briefs shaped like the seed (same sections, bullets, quotes and sizes) with varied text: each
/// text of the seed with its words shuffled by a seeded generator, a unique id, one of five
/// topics, and dates going back one per five briefs.
struct BriefGenerator {
    private var random: SeededRandomGenerator
    private let template: Brief
    private static let topics = ["ai-tech", "climate", "markets", "health", "science"]

    init(seed: UInt64, template: Brief) {
        random = SeededRandomGenerator(seed: seed)
        self.template = template
    }

    static func seedBrief() throws -> Brief {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Schema/examples/brief-ai-tech-2026-06-26.json")
        return try WireCoding.decoder().decode(Brief.self, from: Data(contentsOf: url))
    }

    mutating func brief(_ index: Int) -> Brief {
        var brief = template
        let topic = Self.topics[index % Self.topics.count]
        let date = CalendarDate(daysSinceEpoch: 20_630 - index / 5) ?? template.date
        brief.id = BriefID(rawValue: "\(topic)-\(date.iso)-\(index)")!
        brief.topic = Topic(id: TopicID(rawValue: topic)!, name: topic.uppercased())
        brief.date = date
        brief.title = vary(template.title)
        brief.takeaways = template.takeaways.map { vary($0) }
        brief.body = template.body.map { block in
            switch block {
            case .paragraph(let text): .paragraph(vary(text))
            case .quote(let quote): .quote(Quote(text: vary(quote.text), speaker: quote.speaker, show: quote.show))
            }
        }
        brief.sources = template.sources.map { source in
            var source = source
            source.date = CalendarDate(daysSinceEpoch: date.daysSinceEpoch - 1) ?? source.date
            source.highlights = source.highlights.map { vary($0) }
            source.alsoFromEpisode = source.alsoFromEpisode.map {
                SourceCategory(name: $0.name, items: $0.items.map { vary($0) })
            }
            return source
        }
        return brief
    }

    private mutating func vary(_ text: String) -> String {
        var words = text.split(separator: " ").map(String.init)
        for index in words.indices.reversed() where index > 0 {
            words.swapAt(index, Int.random(in: 0...index, using: &random))
        }
        return words.joined(separator: " ")
    }
}
