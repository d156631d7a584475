/// Lays a brief out as plain text in the reader's order: topic, headline, date line with counts,
/// takeaways, body with quotes, then Source Intelligence. The CLI shows briefs with it and the
/// tests compare its output with the reader's page.
///
/// Rendering is pure: the width and the emphasis come in as settings, never from a terminal.
public struct BriefTextRenderer: Sendable {
    /// How headings and attributions are set off.
    public enum Emphasis: Sendable {
        /// Text only.
        case plain
        /// ANSI bold for headings and dim for attributions, for a terminal.
        case ansi
    }

    /// The column at which lines wrap; `nil` keeps each paragraph on one line.
    public var width: Int?
    /// How headings stand out.
    public var emphasis: Emphasis

    /// Creates a renderer.
    public init(width: Int? = nil, emphasis: Emphasis = .plain) {
        self.width = width.map { max($0, 20) }
        self.emphasis = emphasis
    }

    /// The brief as text, ending with a line break.
    public func render(_ brief: Brief) -> String {
        var blocks: [[String]] = []
        if let price = brief.price {
            blocks.append(["Price: \(price)"])
        }
        blocks.append([strong(brief.topic.name)])
        blocks.append(wrap(brief.title).map(strong))
        blocks.append(wrap(brief.dateLine).map(dim) + brief.takeaways.flatMap(bullet))
        for block in brief.body {
            switch block {
            case .paragraph(let text):
                blocks.append(wrap(text))
            case .quote(let quote):
                blocks.append(wrap("\"\(quote.text)\""))
                blocks.append(wrap("- \(quote.speaker), \(quote.show)").map(dim))
            }
        }
        if !brief.sources.isEmpty {
            blocks.append([strong("Source Intelligence")])
            if let subtitle = brief.sourcesSubtitle {
                blocks.append(wrap("- \(subtitle)").map(dim))
            }
            for source in brief.sources {
                blocks += episode(source)
            }
        }
        return blocks.map { $0.joined(separator: "\n") }.joined(separator: "\n\n") + "\n"
    }

    // MARK: Sections

    private func episode(_ source: EpisodeSource) -> [[String]] {
        var blocks: [[String]] = []
        if let show = source.show {
            blocks.append([dim(show)])
        }
        if let host = source.host {
            blocks.append([dim(host)])
        }
        blocks.append(wrap("\(source.title) · \(source.date.shortText)").map(strong))
        if !source.highlights.isEmpty {
            blocks.append(source.highlights.flatMap(bullet))
        }
        if !source.alsoFromEpisode.isEmpty {
            blocks.append([strong("Also from this episode: (\(source.alsoCount))")])
            for category in source.alsoFromEpisode {
                blocks.append(["\(category.name) (\(category.items.count))"])
                blocks.append(category.items.flatMap(bullet))
            }
        }
        return blocks
    }

    private func bullet(_ text: String) -> [String] {
        wrap(text, first: "  • ", rest: "    ")
    }

    // MARK: Text

    /// Breaks `text` into lines of at most `width` characters at spaces; a word longer than the
    /// line stands on a line of its own.
    private func wrap(_ text: String, first: String = "", rest: String = "") -> [String] {
        guard let width else {
            return [first + text]
        }
        var lines: [String] = []
        var line = first
        var lineHasWord = false
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if lineHasWord && line.count + 1 + word.count > width {
                lines.append(line)
                line = rest
                lineHasWord = false
            }
            line += (lineHasWord ? " " : "") + word
            lineHasWord = true
        }
        lines.append(line)
        return lines
    }

    private func strong(_ text: String) -> String {
        emphasis == .ansi ? "\u{1B}[1m\(text)\u{1B}[0m" : text
    }

    private func dim(_ text: String) -> String {
        emphasis == .ansi ? "\u{1B}[2m\(text)\u{1B}[0m" : text
    }
}

extension Brief {
    /// `Friday, June 26, 2026 · from 3 podcasts, 4 episodes`: the reader's line under the headline.
    public var dateLine: String {
        func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
        return "\(date.longText) · from \(count(sourceCounts.podcasts, "podcast")), "
            + count(sourceCounts.episodes, "episode")
    }
}
