import BriefClient
import BriefModel
import Foundation
import GRDB
import Testing

@testable import BriefStore

/// A page read from its JSON (`PreparedPage(json:)`) is the page decoding gives, with each
/// document kept as the bytes that came; a page in any other layout is decoded whole; a page
/// that decoding refuses is refused.
@Suite struct PreparedPageTests {
    /// The wire example: pretty-printed, so its documents are not in canonical form.
    let example: Data

    init() throws {
        example = try Data(
            contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent("Schema/examples/wire/changes-page.json")
        )
    }

    private func decoded(_ data: Data) throws -> ChangesPageV1 {
        try WireCoding.decoder(unknownFields: .ignore).decode(ChangesPageV1.self, from: data)
    }

    /// A page as the server writes it: canonical JSON, documents spliced in.
    private func serverPage(_ briefs: [Brief]) throws -> Data {
        let page = ChangesPageV1(
            briefs: briefs.enumerated().map { BriefRecordV1(version: $0.offset + 1, brief: $0.element) },
            retractions: [
                RetractionV1(id: BriefID(rawValue: "gone")!, topic: TopicID(rawValue: "climate")!, version: 3)
            ],
            nextToken: "token-2",
            hasMore: true
        )
        return try WireCoding.encoder().encode(page)
    }

    @Test func aServerPageIsTheDecodedPageWithItsDocumentsAsTheyCame() throws {
        let briefs = [try Briefs.seed(), try Briefs.small("b-1"), try Briefs.small("b-2", topic: "markets")]
        let data = try serverPage(briefs)
        #expect(PageLayout(data) != nil, "the layout a server writes is read without decoding the page whole")

        let prepared = try PreparedPage(json: data)

        #expect(prepared.page == (try decoded(data)))
        #expect(prepared.page.briefs.map(\.version) == [1, 2, 3])
        // canonical JSON came, so the documents are what encoding the briefs gives
        #expect(prepared.documents == (try briefs.map { try DeviceStore.encode($0) }))
        #expect(prepared.documents == (try PreparedPage(prepared.page).documents))
    }

    @Test func spaceAndRecordsInAnotherOrderAreReadTheSameWay() throws {
        #expect(PageLayout(example) != nil)
        let prepared = try PreparedPage(json: example)
        #expect(prepared.page == (try decoded(example)))
        #expect(!prepared.page.briefs.isEmpty)
        for (record, document) in zip(prepared.page.briefs, prepared.documents) {
            // kept as it came, pretty-printed, and it reads back as the same brief
            #expect(document.contains("\n"))
            let stored = try WireCoding.decoder(unknownFields: .ignore).decode(Brief.self, from: Data(document.utf8))
            #expect(stored == record.brief)
        }

        let swapped = try serverPage([try Briefs.small("b-1")])
        let text = String(decoding: swapped, as: UTF8.self)
        let document = try #require(PreparedPage(json: swapped).documents.first)
        let reordered = text.replacingOccurrences(
            of: #"{"brief":\#(document),"version":1}"#,
            with: #" { "version" : 1 , "brief" : \#(document) } "#
        )
        #expect(reordered != text)
        let read = try PreparedPage(json: Data(reordered.utf8))
        #expect(read.page == (try decoded(swapped)))
        #expect(read.documents == [document])
    }

    @Test func aPageInAnotherLayoutIsDecodedWhole() throws {
        let data = try serverPage([try Briefs.small("b-1")])
        let text = String(decoding: data, as: UTF8.self)
        let variants = [
            // an unknown field in a record, from a newer server
            text.replacingOccurrences(of: #","version":1}"#, with: #","version":1,"signature":"x"}"#),
            // the key written with an escape
            text.replacingOccurrences(of: #"{"briefs":"#, with: #"{"b\u0072iefs":"#),
            // a version written as a decimal
            text.replacingOccurrences(of: #","version":1}"#, with: #","version":1.0}"#),
        ]
        for variant in variants {
            #expect(variant != text)
            let bytes = Data(variant.utf8)
            #expect(PageLayout(bytes) == nil, "\(variant.prefix(60))")
            let prepared = try PreparedPage(json: bytes)
            #expect(prepared.page == (try decoded(bytes)))
            #expect(prepared.documents == (try PreparedPage(prepared.page).documents))
        }
    }

    @Test func aPageDecodingRefusesIsRefused() throws {
        let data = try serverPage([try Briefs.small("b-1"), try Briefs.small("b-2")])
        let text = String(decoding: data, as: UTF8.self)
        let broken = [
            String(text.dropLast(5)),  // cut short
            text.replacingOccurrences(of: #""hasMore":true"#, with: #""hasMore":tru"#),  // the rest of the page
            text.replacingOccurrences(of: #""title":"A title""#, with: #""title":"A title"]"#),  // inside a document
            // a document that is JSON but not a brief
            text.replacingOccurrences(of: #""title":"A title""#, with: #""title":"""#),
            text.replacingOccurrences(of: #","version":2}"#, with: "}"),  // a record without its version
            // a stray bracket after a record
            text.replacingOccurrences(of: #","version":2}"#, with: #","version":2}}"#),
            text.replacingOccurrences(of: #""version":1},{"brief""#, with: #""version":1}{"brief""#),  // no comma
        ]
        for (index, variant) in broken.enumerated() {
            #expect(variant.count != text.count, "variant \(index) changes the page")
            let bytes = Data(variant.utf8)
            #expect(throws: (any Error).self, "decoding refuses variant \(index)") { try decoded(bytes) }
            #expect(throws: (any Error).self, "so reading must refuse variant \(index)") {
                try PreparedPage(json: bytes)
            }
        }
    }

    @Test func aMutatedPageIsReadAsDecodingReadsItOrRefusedAsDecodingRefusesIt() throws {
        // Given a server's page, changed by one byte at a time, mostly where JSON has its structure
        let bytes = Array(try serverPage([try Briefs.small("b-1"), try Briefs.small("b-2")]))
        let structural = bytes.indices.filter { "{}[],:\"\\".utf8.contains(bytes[$0]) }
        let replacements = Array("{}[],:\"\\ \t\n\u{0C}0-1.ex".utf8)
        var random = SeededRandomGenerator(seed: 7)
        var (read, refused) = (0, 0)
        for _ in 0..<200 {
            var mutated = bytes
            let position =
                Bool.random(using: &random)
                ? try #require(structural.randomElement(using: &random)) : Int.random(in: bytes.indices, using: &random)
            let byte = try #require(replacements.randomElement(using: &random))
            switch Int.random(in: 0..<3, using: &random) {
            case 0: mutated[position] = byte
            case 1: mutated.remove(at: position)
            default: mutated.insert(byte, at: position)
            }
            // When it is read from its bytes, and decoded whole
            let page = Data(mutated)
            let expected = try? decoded(page)
            let prepared = try? PreparedPage(json: page)
            // Then both give the same page, or both refuse it; and the documents kept are the briefs
            #expect(prepared?.page == expected, "a change at byte \(position)")
            for (record, document) in zip(prepared?.page.briefs ?? [], prepared?.documents ?? []) {
                let stored = try? WireCoding.decoder(unknownFields: .ignore).decode(
                    Brief.self,
                    from: Data(document.utf8)
                )
                #expect(stored == record.brief, "a change at byte \(position)")
            }
            if expected == nil {
                refused += 1
            } else {
                read += 1
            }
        }
        // and the changes reached both outcomes
        #expect(read > 40 && refused > 40, "\(read) read, \(refused) refused")
    }

    @Test func aBriefStoredInTheRowOfARemovedOneHasOnlyItsOwnSearchEntry() async throws {
        // Given a device holding two briefs, the last one stored with the highest rowid
        let store = try DeviceStore(DatabaseQueue())
        let first = try Briefs.small("b-1", title: "Alibaba first")
        let last = try Briefs.small("b-2", title: "Zeppelin last")
        _ = try await store.apply(try PreparedPage(json: try serverPage([first, last])), now: 0)
        // When the last is retracted (its row and entry go, so SQLite may give its rowid again)
        // and a new brief is stored
        _ = try await store.apply(
            ChangesPageV1(
                retractions: [RetractionV1(id: last.id, topic: last.topic.id, version: 2)],
                nextToken: "t-2",
                hasMore: false
            ),
            now: 1
        )
        let next = try Briefs.small("b-3", title: "Quokka next")
        _ = try await store.apply(try PreparedPage(json: try serverPage([next])), now: 2)
        // Then each brief is found by its own words only, once
        #expect(try await store.search("Zeppelin").isEmpty)
        #expect(try await store.search("Quokka").map(\.summary.id) == [next.id])
        #expect(try await store.search("Alibaba").map(\.summary.id).contains(first.id))
        let entries = try await store.writer.read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM briefs_search")
        }
        #expect(entries == 2)
        // and a new version of a held brief replaces its entry
        var corrected = next
        corrected.title = "Wombat corrected"
        let page = ChangesPageV1(
            briefs: [BriefRecordV1(version: 2, brief: corrected)],
            nextToken: "t-3",
            hasMore: false
        )
        _ = try await store.apply(try PreparedPage(json: try WireCoding.encoder().encode(page)), now: 3)
        #expect(try await store.search("Quokka").isEmpty)
        #expect(try await store.search("Wombat").map(\.summary.id) == [next.id])
    }

    @Test func aPageWithoutBriefsIsRead() throws {
        let data = try serverPage([])
        #expect(PageLayout(data)?.records.isEmpty == true)
        let prepared = try PreparedPage(json: data)
        #expect(prepared.page == (try decoded(data)))
        #expect(prepared.documents.isEmpty)
    }
}
