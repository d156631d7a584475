/// Lays a brief out as an HTML fragment in the reader's order, as ``BriefTextRenderer`` lays it
/// out as text: the date line with counts, the takeaways, the body with its pull quotes (speaker
/// and show), then Source Intelligence, one section per episode with its highlights and its
/// "Also from this episode" list by category, with counts. The headline and the topic are left
/// to the container (a feed item's title and origin).
///
/// Feed readers (JSON Feed's `content_html`, Atom's `content`, the Reader API's items) show it.
/// Only plain, widely supported elements are used, and every text is escaped.
public struct BriefHTMLRenderer: Sendable {
    public init() {}

    /// The brief as an HTML fragment.
    public func render(_ brief: Brief) -> String {
        var html = ""
        if let price = brief.price {
            html += "<p><strong>Price: \(escape(price))</strong></p>\n"
        }
        html += "<p><em>\(escape(brief.dateLine))</em></p>\n"
        if !brief.takeaways.isEmpty {
            html += "<h2>Key takeaways</h2>\n" + list(brief.takeaways)
        }
        for block in brief.body {
            switch block {
            case .paragraph(let text):
                html += "<p>\(escape(text))</p>\n"
            case .quote(let quote):
                html +=
                    "<blockquote><p>\u{201C}\(escape(quote.text))\u{201D}</p>"
                    + "<p>\u{2014} \(escape(quote.speaker)), <cite>\(escape(quote.show))</cite></p></blockquote>\n"
            }
        }
        if !brief.sources.isEmpty {
            html += "<h2>Source Intelligence</h2>\n"
            if let subtitle = brief.sourcesSubtitle {
                html += "<p><em>\(escape(subtitle))</em></p>\n"
            }
            for source in brief.sources {
                html += episode(source)
            }
        }
        return html
    }

    private func episode(_ source: EpisodeSource) -> String {
        var html = "<h3>\(escape(source.title)) · \(escape(source.date.shortText))</h3>\n"
        let byline = [source.show, source.host].compactMap { $0 }
        if !byline.isEmpty {
            html += "<p><em>\(byline.map(escape).joined(separator: " · "))</em></p>\n"
        }
        if !source.highlights.isEmpty {
            html += list(source.highlights)
        }
        if !source.alsoFromEpisode.isEmpty {
            html += "<h4>Also from this episode: (\(source.alsoCount))</h4>\n"
            for category in source.alsoFromEpisode {
                html +=
                    "<p><strong>\(escape(category.name)) (\(category.items.count))</strong></p>\n"
                    + list(category.items)
            }
        }
        return html
    }

    private func list(_ items: [String]) -> String {
        "<ul>" + items.map { "<li>\(escape($0))</li>" }.joined() + "</ul>\n"
    }

    /// `text` with the five characters that HTML and XML give a meaning escaped.
    public func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
