import BriefModel
import Foundation
import Hummingbird
import NIOCore

extension Request {
    /// Reads the body as JSON, refusing more than `limit` bytes without reading them all.
    ///
    /// - Throws: `payload_too_large` (413) for a body over the limit, whether its length was
    ///   announced or not; `malformed_request` (400) for a body that is not JSON.
    mutating func decodeJSON(limit: Int) async throws -> JSONValue {
        if let length = headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError.payloadTooLarge(limit: limit)
        }
        let buffer: ByteBuffer
        do {
            buffer = try await collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError.payloadTooLarge(limit: limit)
        }
        guard buffer.readableBytes > 0 else {
            throw APIError(.badRequest, .malformedRequest, "The request needs a JSON body.")
        }
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView))
        } catch {
            throw APIError(.badRequest, .malformedRequest, "The body is not valid JSON (truncated or malformed).")
        }
    }
}

extension APIError {
    static func payloadTooLarge(limit: Int) -> APIError {
        APIError(.contentTooLarge, .payloadTooLarge, "The body is larger than the \(limit) bytes this server accepts.")
    }
}
