// A body block travels as an object with a `type`: {"type": "paragraph", "text": …} or
// {"type": "quote", "text": …, "speaker": …, "show": …}. Decoding goes through validation
// (`Brief+Validation.swift`); this is the encoding side and a plain decoder for trusted data.
extension BodyBlock: Codable {
    enum CodingKeys: String, CodingKey {
        case type, text, speaker, show
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        let text = try container.decode(String.self, forKey: .text)
        switch type {
        case "paragraph":
            self = .paragraph(text)
        case "quote":
            self = .quote(
                Quote(
                    text: text,
                    speaker: try container.decode(String.self, forKey: .speaker),
                    show: try container.decode(String.self, forKey: .show)
                )
            )
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type,
                in: container,
                debugDescription: "expected \"paragraph\" or \"quote\""
            )
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .paragraph(let text):
            try container.encode("paragraph", forKey: .type)
            try container.encode(text, forKey: .text)
        case .quote(let quote):
            try container.encode("quote", forKey: .type)
            try container.encode(quote.text, forKey: .text)
            try container.encode(quote.speaker, forKey: .speaker)
            try container.encode(quote.show, forKey: .show)
        }
    }
}
