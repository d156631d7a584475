import BriefModel
import Foundation

/// A page of changes with each brief's document as the store keeps it: its JSON.
///
/// Preparing a page is most of the work of a first sync that is not writing. The sync engine
/// prepares the next page while the store writes the current one, so that it runs beside the
/// writing, not in it.
public struct PreparedPage: Sendable {
    public let page: ChangesPageV1
    /// The JSON of each of `page.briefs`, in order.
    let documents: [String]
    /// The text of each one's search entry (``DeviceStore/searchColumns(of:)``).
    let searchColumns: [[String]]

    /// Encodes the page's briefs.
    public init(_ page: ChangesPageV1) throws {
        self.init(page: page, documents: try page.briefs.map { try DeviceStore.encode($0.brief) })
    }

    /// Reads a page from the JSON a server sent, keeping each brief's document as the bytes that
    /// came rather than encoding the parsed brief again.
    ///
    /// Every document is parsed and validated as decoding the page would (unknown fields are
    /// skipped, as a newer server may send them), and the rest of the page is decoded as usual;
    /// a page in another layout than a server writes (``PageLayout``) is decoded whole.
    ///
    /// - Throws: `DecodingError` or ``DocumentValidationError``, as decoding the page would.
    public init(json data: Data) throws {
        let decoder = WireCoding.decoder(unknownFields: .ignore)
        guard let layout = PageLayout(data) else {
            try self.init(decoder.decode(ChangesPageV1.self, from: data))
            return
        }
        // the page without its records: `"briefs":[]`, for the decoder to read the rest
        var rest = Data(capacity: data.count - layout.recordsSpan.count)
        rest.append(data[..<layout.recordsSpan.lowerBound])
        rest.append(data[layout.recordsSpan.upperBound...])
        var page = try decoder.decode(ChangesPageV1.self, from: rest)
        page.briefs = try layout.records.map { record in
            let document = try JSONValue(json: data[record.brief])
            return BriefRecordV1(version: record.version, brief: try Brief.validate(document, unknownFields: .ignore))
        }
        self.init(page: page, documents: layout.records.map { String(decoding: data[$0.brief], as: UTF8.self) })
    }

    private init(page: ChangesPageV1, documents: [String]) {
        self.page = page
        self.documents = documents
        searchColumns = page.briefs.map { DeviceStore.searchColumns(of: $0.brief) }
    }
}
