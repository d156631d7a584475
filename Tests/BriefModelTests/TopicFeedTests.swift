import BriefModel
import Foundation
import Testing
import Yams

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// A topic's feeds as documents: the JSON Feed matches the schema `Schema/openapi.yaml` gives it
/// and carries the brief whole; the Atom feed is well-formed Atom 1.0 with the same entries in
/// the same order; times are RFC 3339 in UTC.
@Suite struct TopicFeedTests {
    let brief: Brief
    let feed: TopicFeed

    init() throws {
        brief = try Repository.exampleBrief()
        var older = brief
        older.id = BriefID(rawValue: "ai-tech-2026-06-25")!
        older.date = CalendarDate(iso: "2026-06-25")!
        older.title = "Yesterday & <before>"
        feed = TopicFeed(
            topic: brief.topic,
            entries: [
                .init(
                    brief: brief,
                    version: 2,
                    receivedAt: 1_782_468_061_999,
                    digest: String(repeating: "a", count: 64)
                ),
                .init(
                    brief: older,
                    version: 1,
                    receivedAt: 1_782_381_600_000,
                    digest: String(repeating: "b", count: 64)
                ),
            ],
            selfURL: "https://briefs.example.com/v1/topics/ai-tech/feed.json"
        )
    }

    @Test func theJSONFeedMatchesItsSchemaAndCarriesTheBriefWhole() throws {
        let data = try feed.jsonFeed()
        let value = try JSONDecoder().decode(JSONValue.self, from: data)
        let openAPI = try JSONValue(yaml: try #require(try Yams.load(yaml: try Repository.text("Schema/openapi.yaml"))))
        let validator = SchemaValidator(documents: [
            "openapi": openAPI, "./brief.schema.json": try Repository.json("Schema/brief.schema.json"),
        ])
        let problems = validator.validate(
            value,
            against: .object(["$ref": .string("#/components/schemas/JSONFeed")]),
            in: "openapi"
        )
        #expect(problems.isEmpty, "\(problems)")

        #expect(value["version"] == .string("https://jsonfeed.org/version/1.1"))
        #expect(value["items"]?[0]?["id"] == .string(brief.id.rawValue))
        #expect(value["items"]?[1]?["id"] == .string("ai-tech-2026-06-25"))
        #expect(value["items"]?[0]?["date_published"] == .string("2026-06-26T00:00:00Z"))
        #expect(value["items"]?[0]?["date_modified"] == .string("2026-06-26T10:01:01Z"))
        #expect(value["items"]?[0]?["content_html"] == .string(BriefHTMLRenderer().render(brief)))
        struct Carried: Decodable {
            struct Item: Decodable {
                struct Extension: Decodable {
                    var brief: Brief
                    var version: Int
                }
                var _briefsync: Extension
            }
            var items: [Item]
        }
        let carried = try WireCoding.decoder().decode(Carried.self, from: data)
        #expect(carried.items.map(\._briefsync.brief) == feed.entries.map(\.brief))
        #expect(carried.items.map(\._briefsync.version) == [2, 1])
    }

    @Test func theAtomFeedIsWellFormedWithTheSameEntries() throws {
        let document = try XMLDocument(xmlString: feed.atom(), options: [])
        let root = try #require(document.rootElement())
        #expect(root.name == "feed" && root.uri == "http://www.w3.org/2005/Atom")
        #expect(root.elements(forName: "updated").first?.stringValue == "2026-06-26T10:01:01Z")
        let entries = root.elements(forName: "entry")
        #expect(
            entries.compactMap { $0.elements(forName: "id").first?.stringValue } == [
                "urn:briefsync:brief:ai-tech-2026-06-26", "urn:briefsync:brief:ai-tech-2026-06-25",
            ]
        )
        #expect(entries.last?.elements(forName: "title").first?.stringValue == "Yesterday & <before>")
        #expect(entries.first?.elements(forName: "published").first?.stringValue == "2026-06-26T00:00:00Z")
        // the content is the HTML, escaped once as XML text
        #expect(entries.first?.elements(forName: "content").first?.stringValue == BriefHTMLRenderer().render(brief))
        let category = entries.first?.elements(forName: "category").first
        #expect(category?.attributes?.map { "\($0.name ?? "")=\($0.stringValue ?? "")" } == ["term=ai-tech", "label=AI & TECH"])
    }
}
