import BriefModel
import Foundation
import Testing

@Suite struct BriefDocumentTests {
    let document: JSONValue

    init() throws {
        document = try Repository.json(Repository.exampleBriefPath)
    }

    @Test func exampleHoldsEveryElementOfTheSeed() throws {
        let brief = try Brief.validate(document)

        #expect(brief.id.rawValue == "ai-tech-2026-06-26")
        #expect(brief.topic.name == "AI & TECH")
        #expect(brief.date.iso == "2026-06-26")
        #expect(brief.price == nil)
        #expect(brief.sourceCounts == SourceCounts(podcasts: 3, episodes: 4))
        #expect(brief.takeaways.count == 3)
        #expect(brief.body.count == 9)
        let quotes = brief.body.compactMap { if case .quote(let quote) = $0 { quote } else { nil } }
        #expect(quotes.map(\.speaker) == ["Nathaniel Whittemore", "Benedict Evans"])
        #expect(quotes.map(\.show) == ["The AI Daily Brief", "The a16z Show"])
        #expect(
            brief.sources.map(\.title) == [
                "CEO-Led AI Gets 3X the ROI",
                "Why AI Users Are Raving About GLM 5.2",
                "What’s Next for Consumer AI? | Josh Elman Joins a16z",
                "‘Hard Fork’ Live, Part 3: Differing Visions of an A.I. Future",
            ]
        )
        #expect(brief.sources.map(\.date.shortText) == ["Jun 25", "Jun 22", "Jun 23", "Jun 19"])
        #expect(brief.sources.map(\.highlights.count) == [4, 6, 0, 16])
        #expect(brief.sources.map(\.alsoCount) == [11, 5, 15, 0])
        #expect(
            brief.sources[0].alsoFromEpisode.map(\.name) == [
                "Chips", "AI Infrastructure", "Models", "Regulation", "Big Tech",
            ]
        )
        #expect(brief.sources[3].show == "Hard Fork")
        #expect(brief.sources[3].host == "Casey Newton")
    }

    @Test func everyKindOfJSONValueDecodesAsItself() throws {
        let text = #"""
            {"n":null,"t":true,"f":false,"i":3,"neg":-7,"big":9007199254740993,"d":3.5,"whole":3.0,"e":1e3,
             "s":"x","digits":"12","word":"true","a":[1,"y",null,[],{}],"o":{"k":{"k":[false]}}}
            """#
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        let expected: JSONValue = [
            "n": nil, "t": true, "f": false, "i": 3, "neg": -7, "big": .integer(9_007_199_254_740_993), "d": 3.5,
            "whole": 3, "e": 1000, "s": "x", "digits": "12", "word": "true",
            "a": [1, "y", nil, [], [:]], "o": ["k": ["k": [false]]],
        ]
        #expect(value == expected)  // a whole number is an integer however it is written, as JSON means it
    }

    @Test func exampleRoundTripsToEqualJSON() throws {
        // Given the example as the publisher sends it
        let brief = try Brief.validate(document)

        // When it is encoded again and read back as plain JSON
        let encoded = try WireCoding.encoder().encode(brief)
        let reread = try JSONDecoder().decode(JSONValue.self, from: encoded)

        // Then nothing was lost, added or changed
        #expect(reread == document)
        #expect(try WireCoding.decoder().decode(Brief.self, from: encoded) == brief)
    }

    @Test func invalidDocumentReportsEveryIssueByPath() throws {
        let broken =
            document
            .replacing(["sources", 1, "highlights", 0], with: .string("   "))
            .replacing(["date"], with: .string("2026-02-30"))
            .replacing(["title"], with: nil)
            .replacing(["topic", "id"], with: .string("../etc"))
            .replacing(["body", 2, "speaker"], with: .integer(7))
            .replacing(["sources", 0, "alsoFromEpisode", 1, "items"], with: .array([]))
            .replacing(["takeaways", 0], with: .string("tab\u{0007}bell"))
            .replacing(["colour"], with: .string("blue"))

        let error = try #require(throws: DocumentValidationError.self) { try Brief.validate(broken) }

        #expect(
            Set(error.issues.map(\.description)) == [
                "colour: unknown field",
                "topic.id: may contain only letters, digits, '.', '_' and '-'",
                "date: expected a date as YYYY-MM-DD",
                "title: missing",
                "takeaways[0]: contains control characters",
                "body[2].speaker: expected string, found number",
                "sources[0].alsoFromEpisode[1].items: empty",
                "sources[1].highlights[0]: empty",
            ]
        )
    }

    @Test func decodingThroughCodableValidatesToo() throws {
        let broken = try JSONEncoder().encode(document.replacing(["sources", 1, "highlights", 0], with: .string("")))
        let error = try #require(throws: DocumentValidationError.self) {
            try WireCoding.decoder().decode(Brief.self, from: broken)
        }
        #expect(error.issues.map(\.description) == ["sources[1].highlights[0]: empty"])
    }

    @Test func unknownFieldsAreSkippedWhenTheReaderSaysSo() throws {
        let newer = document.replacing(["audioURL"], with: .string("https://example.com/a.mp3"))
        #expect(throws: DocumentValidationError.self) { try Brief.validate(newer) }
        let brief = try Brief.validate(newer, unknownFields: .ignore)
        #expect(brief == (try Brief.validate(document)))
    }

    @Test func limitsOnCountsAndSizesAreEnforced() throws {
        var limits = BriefLimits.standard
        limits.takeawayCount = 2
        limits.paragraphLength = 100
        let error = try #require(throws: DocumentValidationError.self) {
            try Brief.validate(document, limits: limits)
        }
        #expect(error.issues.contains(ValidationIssue(path: "takeaways", reason: "more than 2 elements")))
        #expect(error.issues.contains(ValidationIssue(path: "body[0].text", reason: "longer than 100 characters")))
    }

    @Test func countsMustAgreeWithSources() throws {
        let broken =
            document
            .replacing(["sourceCounts", "episodes"], with: .integer(2))
            .replacing(["sources", 2, "date"], with: .string("2026-06-27"))
        let error = try #require(throws: DocumentValidationError.self) { try Brief.validate(broken) }
        #expect(
            error.issues.map(\.description).sorted() == [
                "sourceCounts.episodes: fewer than the 4 entries of sources",
                "sourceCounts.podcasts: more podcasts than episodes",
                "sources[2].date: after the brief's date",
            ]
        )
    }

    @Test(arguments: [
        "", "a/b", "..", "a..b", "-lead", "quote\"d", "sp ace", "ctl\u{1}", String(repeating: "x", count: 101),
    ])
    func badIdentifiersAreRefused(id: String) throws {
        let error = try #require(throws: DocumentValidationError.self) {
            try Brief.validate(document.replacing(["id"], with: .string(id)))
        }
        #expect(error.issues.map(\.path) == ["id"])
    }

    @Test func wrongTypesAtTheTopAreReportedNotCrashed() throws {
        for value: JSONValue in [.null, .array([]), .string("brief"), .integer(3)] {
            let error = try #require(throws: DocumentValidationError.self) { try Brief.validate(value) }
            #expect(error.issues.map(\.path) == ["$"])
        }
    }
}
