import BriefModel
import Testing

/// The example JSON, rendered, must read like the reader's page in `Schema/examples/*.txt` (a
/// copy of the seed), section by section. The page has two scraping artefacts that the model
/// deliberately does not reproduce, and the test states them instead of hiding them:
/// an episode title runs into its date ("…ROIJun 25"; rendered "…ROI · Jun 25"), and a show name
/// stands twice where a logo's alt text preceded it ("Hard Fork" / "Hard Fork").
@Suite struct BriefRenderingTests {
    let brief: Brief
    let seed: [String]

    init() throws {
        brief = try Repository.exampleBrief()
        seed = try Repository.text(Repository.seedTextPath).split(separator: "\n", omittingEmptySubsequences: false)
            .map { String($0) }
    }

    @Test func rendersLikeTheSeedSectionBySection() throws {
        let rendered = BriefTextRenderer().render(brief)
        let expected = try normalisedSeed()
        let actual = rendered.split(separator: "\n").map { String($0) }

        let expectedSections = sections(of: expected)
        let actualSections = sections(of: actual)
        #expect(actualSections.map(\.name) == expectedSections.map(\.name))
        for (want, got) in zip(expectedSections, actualSections) {
            #expect(got.lines == want.lines, "section \(want.name)")
        }
    }

    @Test func emptyPriceLineIsAnAbsentPrice() throws {
        #expect(seed.first == "Price:")
        #expect(brief.price == nil)
        var priced = brief
        priced.price = "$4.99"
        #expect(BriefTextRenderer().render(priced).hasPrefix("Price: $4.99\n\nAI & TECH\n"))
    }

    @Test func wrapsToTheWidthAndKeepsEveryWord() {
        let renderer = BriefTextRenderer(width: 48)
        let rendered = renderer.render(brief)
        let lines = rendered.split(separator: "\n")
        #expect(lines.allSatisfy { $0.count <= 48 || !$0.contains(" ") })
        let words = { (text: String) in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) }
        let (wrapped, unwrapped) = (words(rendered), words(BriefTextRenderer().render(brief)))
        #expect(wrapped.count == unwrapped.count)
        if let index = wrapped.indices.first(where: { unwrapped.indices.contains($0) && wrapped[$0] != unwrapped[$0] })
        {
            Issue.record("word \(index): \(wrapped[index]) vs \(unwrapped[index])")
        }
        #expect(rendered.contains("\n  • Micron's Q1 earnings exceeded expectations\n    with 445%"))
    }

    @Test func ansiEmphasisOnlyAddsEscapes() {
        let plain = BriefTextRenderer().render(brief)
        let ansi = BriefTextRenderer(emphasis: .ansi).render(brief)
        #expect(ansi.contains("\u{1B}[1mSource Intelligence\u{1B}[0m"))
        #expect(ansi.replacingEscapes() == plain)
    }

    // MARK: Helpers

    /// The seed's lines without blank lines, with its two artefacts resolved as described above.
    private func normalisedSeed() throws -> [String] {
        var lines = seed.map { $0.trimmingTrailingSpaces() }.filter { !$0.isEmpty }
        lines.removeFirst()  // "Price:", empty: checked in emptyPriceLineIsAnAbsentPrice
        for source in brief.sources {
            let runTogether = source.title + source.date.shortText
            let index = try #require(lines.firstIndex(of: runTogether), "seed has \(runTogether)")
            lines[index] = "\(source.title) · \(source.date.shortText)"
            if let show = source.show, let first = lines.firstIndex(of: show), lines[first + 1] == show {
                lines.remove(at: first)
            }
        }
        return lines
    }

    private struct Section {
        var name: String
        var lines: [String]
    }

    /// Splits lines at the page's landmarks: headline, date line, body, Source Intelligence and
    /// each episode (starting at its show, host or title).
    private func sections(of lines: [String]) -> [Section] {
        var starts: [(String, String)] = [
            ("topic", brief.topic.name), ("headline", brief.title),
            ("date line and takeaways", lines.first { $0.hasPrefix(brief.date.longText) } ?? "?"),
        ]
        if case .paragraph(let first) = brief.body.first {
            starts.append(("body", first))
        }
        starts.append(("Source Intelligence", "Source Intelligence"))
        for (index, source) in brief.sources.enumerated() {
            starts.append(
                ("sources[\(index)]", source.show ?? source.host ?? "\(source.title) · \(source.date.shortText)")
            )
        }
        var result: [Section] = []
        var cursor = 0
        for (offset, (name, line)) in starts.enumerated() {
            guard let start = lines[cursor...].firstIndex(of: line) else {
                result.append(Section(name: "\(name) (not found)", lines: []))
                continue
            }
            let nextLine = offset + 1 < starts.count ? starts[offset + 1].1 : nil
            let end = nextLine.flatMap { lines[(start + 1)...].firstIndex(of: $0) } ?? lines.endIndex
            result.append(Section(name: name, lines: Array(lines[start..<end])))
            cursor = end
        }
        return result
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " || text.last == "\t" {
            text.removeLast()
        }
        return text
    }

    fileprivate func replacingEscapes() -> String {
        replacing(/\u{1B}\[[0-9]+m/, with: "")
    }
}
