import BriefModel
import Foundation

/// Encodes a page of changes with the briefs' stored JSON spliced in as it is.
///
/// A brief is stored as the canonical JSON of `WireCoding.encoder()` (sorted keys), so the bytes
/// of `{"brief":DOCUMENT,"version":N}` are exactly what encoding the parsed record would give;
/// `PageEncodingTests` checks that the spliced page equals the encoded one byte for byte.
enum PageEncoding {
    private static let emptyBriefs = Array(#"{"briefs":[]"#.utf8)

    /// The page's JSON, with `stored` as its `briefs` (the page's own `briefs` must be empty).
    static func encode(_ page: ChangesPageV1, splicing stored: [StoredBrief]) throws -> Data {
        let rest = try WireCoding.encoder().encode(page)
        guard !stored.isEmpty else {
            return rest
        }
        guard page.briefs.isEmpty, rest.starts(with: emptyBriefs) else {
            // not the layout this splices into (an encoder that no longer sorts keys): parse and encode
            var parsed = page
            parsed.briefs = try stored.map { try $0.record() }
            return try WireCoding.encoder().encode(parsed)
        }
        var body = Data(capacity: rest.count + stored.reduce(0) { $0 + $1.document.utf8.count + 32 })
        body.append(contentsOf: #"{"briefs":["#.utf8)
        for (index, brief) in stored.enumerated() {
            if index > 0 {
                body.append(UInt8(ascii: ","))
            }
            body.append(contentsOf: #"{"brief":"#.utf8)
            body.append(contentsOf: brief.document.utf8)
            body.append(contentsOf: #","version":"#.utf8)
            body.append(contentsOf: String(brief.version).utf8)
            body.append(UInt8(ascii: "}"))
        }
        body.append(UInt8(ascii: "]"))
        body.append(contentsOf: rest.dropFirst(emptyBriefs.count))
        return body
    }
}
