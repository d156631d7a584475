import BriefModel
import Foundation
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The HTML that feed readers show: well-formed, every element of the seed brief in the
/// reader's order, every text escaped.
@Suite struct BriefHTMLRenderingTests {
    let brief: Brief

    init() throws {
        brief = try Repository.exampleBrief()
    }

    /// The fragment parsed as XML (it is well-formed), as the texts of its elements in order.
    func texts(_ html: String) throws -> [String] {
        let document = try XMLDocument(xmlString: "<div>\(html)</div>", options: [])
        var texts: [String] = []
        func walk(_ node: XMLNode) {
            if node.kind == .element, let element = node as? XMLElement,
                ["p", "li", "h2", "h3", "h4", "cite"].contains(element.name ?? "")
            {
                texts.append(element.stringValue ?? "")
            }
            node.children?.forEach(walk)
        }
        walk(try #require(document.rootElement()))
        return texts
    }

    @Test func everyElementOfTheSeedIsThereInTheReadersOrder() throws {
        let texts = try texts(BriefHTMLRenderer().render(brief))
        var expected = ["\(brief.date.longText) · from 3 podcasts, 4 episodes", "Key takeaways"] + brief.takeaways
        for block in brief.body {
            switch block {
            case .paragraph(let text):
                expected.append(text)
            case .quote(let quote):
                expected += ["\u{201C}\(quote.text)\u{201D}", "\u{2014} \(quote.speaker), \(quote.show)", quote.show]
            }
        }
        expected.append("Source Intelligence")
        if let subtitle = brief.sourcesSubtitle {
            expected.append(subtitle)
        }
        for source in brief.sources {
            expected.append("\(source.title) · \(source.date.shortText)")
            let byline = [source.show, source.host].compactMap { $0 }
            if !byline.isEmpty {
                expected.append(byline.joined(separator: " · "))
            }
            expected += source.highlights
            if !source.alsoFromEpisode.isEmpty {
                expected.append("Also from this episode: (\(source.alsoCount))")
                for category in source.alsoFromEpisode {
                    expected += ["\(category.name) (\(category.items.count))"] + category.items
                }
            }
        }
        #expect(texts == expected)
        #expect(brief.sources.count == 4 && brief.body.contains { if case .quote = $0 { true } else { false } })
    }

    @Test func everyTextIsEscaped() throws {
        var hostile = brief
        hostile.takeaways = ["<script>alert('x')</script> & \"more\""]
        hostile.price = "<b>free</b>"
        let html = BriefHTMLRenderer().render(hostile)
        #expect(!html.contains("<script>") && !html.contains("<b>"))
        let texts = try texts(html)
        #expect(texts.contains("<script>alert('x')</script> & \"more\""))
        #expect(texts.first == "Price: <b>free</b>")
    }
}
