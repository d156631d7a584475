import BriefModel
import Foundation
import Testing

@testable import BriefServer

/// The server splices stored briefs into pages instead of parsing and encoding them again; the
/// bytes must be exactly those of encoding the parsed page.
@Suite struct PageEncodingTests {
    @Test func aSplicedPageEqualsTheEncodedPageByteForByte() throws {
        let examples = try ["brief-ai-tech-2026-06-26.json", "brief-climate-2026-06-26.json"].map {
            try WireCoding.decoder().decode(Brief.self, from: try JSONEncoder().encode(try TestServer.example($0)))
        }
        let stored = try examples.enumerated().map { index, brief in
            StoredBrief(
                version: index + 3,
                document: String(decoding: try WireCoding.encoder().encode(brief), as: UTF8.self)
            )
        }
        var page = ChangesPageV1(
            briefs: [],
            retractions: [
                RetractionV1(id: BriefID(rawValue: "gone")!, topic: TopicID(rawValue: "climate")!, version: 2)
            ],
            readStates: [ReadState(briefID: BriefID(rawValue: "b-1")!)],
            unfollowedTopics: [TopicID(rawValue: "markets")!],
            nextToken: "token",
            hasMore: true
        )
        let spliced = try PageEncoding.encode(page, splicing: stored)
        page.briefs = examples.enumerated().map { BriefRecordV1(version: $0.offset + 3, brief: $0.element) }
        let encoded = try WireCoding.encoder().encode(page)
        #expect(spliced == encoded)
        #expect(try WireCoding.decoder(unknownFields: .ignore).decode(ChangesPageV1.self, from: spliced) == page)
    }

    @Test func aPageWithoutBriefsIsEncodedAsItIs() throws {
        let page = ChangesPageV1(
            briefs: [],
            retractions: [],
            readStates: [],
            unfollowedTopics: [],
            nextToken: "t",
            hasMore: false
        )
        #expect(try PageEncoding.encode(page, splicing: []) == WireCoding.encoder().encode(page))
    }
}
