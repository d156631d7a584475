import BriefModel
import Crypto
import Foundation

/// A brief edition fetched from the content plane (`GET /v1/content/{digest}`), checked against
/// the manifest entry that named it and ready to be stored with its page.
///
/// Checking is what makes content safe to take from any cache: bytes that do not hash to the
/// digest, or a document that is not the brief, version and topic the manifest names, are
/// refused (``DeviceStoreError/contentMismatch(_:_:)``) and nothing of the page is stored.
public struct FetchedEdition: Sendable {
    /// The manifest entry it answers.
    public let ref: BriefRefV2
    /// The document, parsed and validated.
    public let brief: Brief
    /// The bytes as served: the device keeps them as they came rather than encoding the brief again.
    let document: String
    /// The text of its search entry (``DeviceStore/searchColumns(of:)``).
    let searchColumns: [String]

    /// Checks and parses the bytes served for `ref`. Unknown fields are skipped, as a newer
    /// publisher may send them.
    ///
    /// - Throws: ``DeviceStoreError/contentMismatch(_:_:)``.
    public init(_ ref: BriefRefV2, bytes: Data) throws {
        guard let digest = ref.digest, !ref.retracted else {
            throw DeviceStoreError.contentMismatch(ref.id, "a retracted brief has no content")
        }
        guard ContentDigest.hex(Array(SHA256.hash(data: bytes))) == digest else {
            throw DeviceStoreError.contentMismatch(ref.id, "the bytes served do not hash to \(digest)")
        }
        let brief: Brief
        do {
            brief = try Brief.validate(try JSONValue(json: bytes), unknownFields: .ignore)
        } catch {
            throw DeviceStoreError.contentMismatch(ref.id, "the document is not a valid brief (\(error))")
        }
        guard brief.id == ref.id, brief.topic.id == ref.topic, brief.date == ref.date else {
            throw DeviceStoreError.contentMismatch(ref.id, "the document is brief \(brief.id) of \(brief.topic.id)")
        }
        self.ref = ref
        self.brief = brief
        document = String(decoding: bytes, as: UTF8.self)
        searchColumns = DeviceStore.searchColumns(of: brief)
    }
}
