extension Brief {
    /// Builds a brief from a JSON document, checking every field against the format and `limits`.
    ///
    /// - Parameters:
    ///   - document: The decoded JSON tree.
    ///   - limits: Bounds on sizes and counts.
    ///   - unknownFields: Whether unknown keys are issues (publishers) or skipped (devices).
    /// - Returns: The brief, when the document has no issue.
    /// - Throws: ``DocumentValidationError`` with every issue found, each naming its field path
    ///   (`sources[1].highlights[0]: empty`), in document order.
    public static func validate(
        _ document: JSONValue,
        limits: BriefLimits = .standard,
        unknownFields: UnknownFieldPolicy = .reject
    ) throws(DocumentValidationError) -> Brief {
        var reader = FieldReader(unknownKeys: unknownFields)
        let brief = BriefParser(limits: limits).brief(document, reader: &reader)
        guard let brief, reader.issues.isEmpty else {
            throw DocumentValidationError(issues: reader.issues)
        }
        return brief
    }
}

extension Brief: Codable {
    enum CodingKeys: String, CodingKey, CaseIterable {
        case id, topic, date, title, price, sourceCounts, takeaways, body, sourcesSubtitle, sources
    }

    /// Decodes and validates a brief with the standard limits. Unknown keys are rejected unless the
    /// decoder's `userInfo[.unknownFieldPolicy]` says `.ignore`.
    ///
    /// - Throws: ``DocumentValidationError`` listing every issue.
    public init(from decoder: any Decoder) throws {
        let document = try JSONValue(from: decoder)
        let policy = decoder.userInfo[.unknownFieldPolicy] as? UnknownFieldPolicy ?? .reject
        self = try Brief.validate(document, unknownFields: policy)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(topic, forKey: .topic)
        try container.encode(date, forKey: .date)
        try container.encode(title, forKey: .title)
        try container.encodeIfPresent(price, forKey: .price)
        try container.encode(sourceCounts, forKey: .sourceCounts)
        try container.encode(takeaways, forKey: .takeaways)
        try container.encode(body, forKey: .body)
        try container.encodeIfPresent(sourcesSubtitle, forKey: .sourcesSubtitle)
        try container.encode(sources, forKey: .sources)
    }
}

extension CodingUserInfoKey {
    /// Set to an ``UnknownFieldPolicy`` to choose how decoding treats unknown keys.
    public static let unknownFieldPolicy = CodingUserInfoKey(rawValue: "briefsync.unknownFieldPolicy")!
}

/// Walks a brief document with a ``FieldReader``; every accessor records its issues and goes on.
private struct BriefParser {
    let limits: BriefLimits

    func brief(_ value: JSONValue, reader: inout FieldReader) -> Brief? {
        let root = FieldPath.root
        let keys = Set(Brief.CodingKeys.allCases.map(\.rawValue))
        guard let object = reader.object(value, at: root, allowed: keys) else {
            return nil
        }
        let id = identifier(object["id"], at: root.appending("id"), maxLength: BriefID.maxLength, reader: &reader)
            .flatMap(BriefID.init(rawValue:))
        let topic = topic(object["topic"], at: root.appending("topic"), reader: &reader)
        let date = date(object["date"], at: root.appending("date"), reader: &reader)
        let title = reader.string(object["title"], at: root.appending("title"), maxLength: limits.titleLength)
        let price = reader.optionalString(object["price"], at: root.appending("price"), maxLength: limits.priceLength)
        let counts = sourceCounts(object["sourceCounts"], at: root.appending("sourceCounts"), reader: &reader)
        let takeaways = bullets(
            object["takeaways"],
            at: root.appending("takeaways"),
            maxCount: limits.takeawayCount,
            reader: &reader
        )
        let body = body(object["body"], at: root.appending("body"), reader: &reader)
        let subtitle = reader.optionalString(
            object["sourcesSubtitle"],
            at: root.appending("sourcesSubtitle"),
            maxLength: limits.nameLength
        )
        let sources = sources(object["sources"], at: root.appending("sources"), reader: &reader)

        if let counts, let sources {
            checkConsistency(counts: counts, sources: sources, briefDate: date, reader: &reader)
        }
        guard let id, let topic, let date, let title, let price, let counts, let takeaways, let body, let subtitle,
            let sources
        else {
            return nil
        }
        return Brief(
            id: id,
            topic: topic,
            date: date,
            title: title,
            price: price,
            sourceCounts: counts,
            takeaways: takeaways,
            body: body,
            sourcesSubtitle: subtitle,
            sources: sources
        )
    }

    // MARK: Parts

    private func topic(_ value: JSONValue?, at path: FieldPath, reader: inout FieldReader) -> Topic? {
        guard let object = reader.object(value, at: path, allowed: ["id", "name"]) else {
            return nil
        }
        let id = identifier(object["id"], at: path.appending("id"), maxLength: TopicID.maxLength, reader: &reader)
            .flatMap(TopicID.init(rawValue:))
        let name = reader.string(object["name"], at: path.appending("name"), maxLength: limits.topicNameLength)
        guard let id, let name else {
            return nil
        }
        return Topic(id: id, name: name)
    }

    private func sourceCounts(_ value: JSONValue?, at path: FieldPath, reader: inout FieldReader) -> SourceCounts? {
        guard let object = reader.object(value, at: path, allowed: ["podcasts", "episodes"]) else {
            return nil
        }
        let range = Int64(1)...Int64(limits.sourceCountValue)
        let podcasts = reader.integer(object["podcasts"], at: path.appending("podcasts"), in: range)
        let episodes = reader.integer(object["episodes"], at: path.appending("episodes"), in: range)
        guard let podcasts, let episodes else {
            return nil
        }
        if podcasts > episodes {
            reader.report(path.appending("podcasts"), "more podcasts than episodes")
        }
        return SourceCounts(podcasts: Int(podcasts), episodes: Int(episodes))
    }

    private func body(_ value: JSONValue?, at path: FieldPath, reader: inout FieldReader) -> [BodyBlock]? {
        guard let elements = reader.array(value, at: path, minCount: 1, maxCount: limits.bodyBlockCount) else {
            return nil
        }
        let blocks = elements.enumerated().map { index, element in
            block(element, at: path.appending(index), reader: &reader)
        }
        if !blocks.contains(where: { if case .paragraph = $0 { true } else { false } }) {
            reader.report(path, "has no paragraph")
        }
        return blocks.count == elements.count && blocks.allSatisfy({ $0 != nil }) ? blocks.compactMap { $0 } : nil
    }

    private func block(_ value: JSONValue, at path: FieldPath, reader: inout FieldReader) -> BodyBlock? {
        guard let object = reader.object(value, at: path, allowed: ["type", "text", "speaker", "show"]) else {
            return nil
        }
        switch object["type"] {
        case .string("paragraph")?:
            for key in ["speaker", "show"] where object[key] != nil && reader.unknownKeys == .reject {
                reader.report(path.appending(key), "not allowed in a paragraph")
            }
            return reader.string(object["text"], at: path.appending("text"), maxLength: limits.paragraphLength)
                .map(BodyBlock.paragraph)
        case .string("quote")?:
            let text = reader.string(object["text"], at: path.appending("text"), maxLength: limits.bulletLength)
            let speaker = reader.string(object["speaker"], at: path.appending("speaker"), maxLength: limits.nameLength)
            let show = reader.string(object["show"], at: path.appending("show"), maxLength: limits.nameLength)
            guard let text, let speaker, let show else {
                return nil
            }
            return .quote(Quote(text: text, speaker: speaker, show: show))
        case nil, .null?:
            reader.report(path.appending("type"), "missing")
            return nil
        default:
            reader.report(path.appending("type"), "expected \"paragraph\" or \"quote\"")
            return nil
        }
    }

    private func sources(_ value: JSONValue?, at path: FieldPath, reader: inout FieldReader) -> [EpisodeSource]? {
        guard let elements = reader.array(value, at: path, maxCount: limits.sourceCount) else {
            return nil
        }
        let sources = elements.enumerated().map { index, element in
            source(element, at: path.appending(index), reader: &reader)
        }
        return sources.allSatisfy({ $0 != nil }) ? sources.compactMap { $0 } : nil
    }

    private func source(_ value: JSONValue, at path: FieldPath, reader: inout FieldReader) -> EpisodeSource? {
        let keys: Set = ["title", "show", "host", "date", "highlights", "alsoFromEpisode"]
        guard let object = reader.object(value, at: path, allowed: keys) else {
            return nil
        }
        let title = reader.string(object["title"], at: path.appending("title"), maxLength: limits.nameLength)
        let show = reader.optionalString(object["show"], at: path.appending("show"), maxLength: limits.nameLength)
        let host = reader.optionalString(object["host"], at: path.appending("host"), maxLength: limits.nameLength)
        let date = date(object["date"], at: path.appending("date"), reader: &reader)
        let highlights = bullets(
            object["highlights"],
            at: path.appending("highlights"),
            maxCount: limits.highlightCount,
            reader: &reader
        )
        let categories = categories(object["alsoFromEpisode"], at: path.appending("alsoFromEpisode"), reader: &reader)
        if let highlights, let categories, highlights.isEmpty, categories.isEmpty {
            reader.report(path, "has neither highlights nor alsoFromEpisode")
        }
        guard let title, let show, let host, let date, let highlights, let categories else {
            return nil
        }
        return EpisodeSource(
            title: title,
            show: show,
            host: host,
            date: date,
            highlights: highlights,
            alsoFromEpisode: categories
        )
    }

    private func categories(_ value: JSONValue?, at path: FieldPath, reader: inout FieldReader) -> [SourceCategory]? {
        guard let elements = reader.array(value, at: path, maxCount: limits.categoryCount) else {
            return nil
        }
        var names = Set<String>()
        let categories = elements.enumerated().map { index, element -> SourceCategory? in
            let itemPath = path.appending(index)
            guard let object = reader.object(element, at: itemPath, allowed: ["name", "items"]) else {
                return nil
            }
            let name = reader.string(object["name"], at: itemPath.appending("name"), maxLength: limits.nameLength)
            let items = bullets(
                object["items"],
                at: itemPath.appending("items"),
                minCount: 1,
                maxCount: limits.categoryItemCount,
                reader: &reader
            )
            if let name, !names.insert(name).inserted {
                reader.report(itemPath.appending("name"), "repeats an earlier category")
            }
            guard let name, let items else {
                return nil
            }
            return SourceCategory(name: name, items: items)
        }
        return categories.allSatisfy({ $0 != nil }) ? categories.compactMap { $0 } : nil
    }

    // MARK: Leaves

    private func bullets(
        _ value: JSONValue?,
        at path: FieldPath,
        minCount: Int = 0,
        maxCount: Int,
        reader: inout FieldReader
    ) -> [String]? {
        guard let elements = reader.array(value, at: path, minCount: minCount, maxCount: maxCount) else {
            return nil
        }
        let texts = elements.enumerated().map { index, element in
            reader.string(element, at: path.appending(index), maxLength: limits.bulletLength)
        }
        return texts.allSatisfy({ $0 != nil }) ? texts.compactMap { $0 } : nil
    }

    private func identifier(
        _ value: JSONValue?,
        at path: FieldPath,
        maxLength: Int,
        reader: inout FieldReader
    ) -> String? {
        guard let value, value != .null else {
            reader.report(path, "missing")
            return nil
        }
        guard case .string(let text) = value else {
            reader.report(path, "expected string, found \(value.typeName)")
            return nil
        }
        if let problem = Identifier.problem(with: text, maxLength: maxLength) {
            reader.report(path, problem)
            return nil
        }
        return text
    }

    private func date(_ value: JSONValue?, at path: FieldPath, reader: inout FieldReader) -> CalendarDate? {
        guard let value, value != .null else {
            reader.report(path, "missing")
            return nil
        }
        guard case .string(let text) = value, let date = CalendarDate(iso: text) else {
            reader.report(path, "expected a date as YYYY-MM-DD")
            return nil
        }
        return date
    }

    // MARK: Across fields

    private func checkConsistency(
        counts: SourceCounts,
        sources: [EpisodeSource],
        briefDate: CalendarDate?,
        reader: inout FieldReader
    ) {
        let path = FieldPath.root.appending("sourceCounts")
        if sources.count > counts.episodes {
            reader.report(path.appending("episodes"), "fewer than the \(sources.count) entries of sources")
        }
        let shows = Set(sources.compactMap(\.show))
        if shows.count > counts.podcasts {
            reader.report(path.appending("podcasts"), "fewer than the \(shows.count) shows named in sources")
        }
        guard let briefDate else {
            return
        }
        for (index, source) in sources.enumerated() where source.date > briefDate {
            reader.report(
                FieldPath.root.appending("sources").appending(index).appending("date"),
                "after the brief's date"
            )
        }
    }
}
