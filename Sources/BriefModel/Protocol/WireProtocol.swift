/// The version of the HTTP protocol between devices and the server, and how each side checks it.
///
/// Every request carries the header `BriefSync-Protocol: 2` and every response answers with the
/// version it speaks. Version 2 sends changes as a manifest (``ChangesPageV2``) whose documents
/// are fetched by digest; version 1, which sent documents inside pages, is retired (no client of
/// it was deployed): a request naming it gets `unsupported_protocol`.
///
/// A server that does not support the version a request names answers `unsupported_protocol`
/// (HTTP 400) with the versions it supports in the message, and a device that receives a version
/// it does not know stops syncing and reports that it must be updated. A request without the
/// header is taken to speak the current version, so `curl` works.
public enum WireProtocol {
    /// The version this code speaks.
    public static let version = 2
    /// The versions this code understands.
    public static let supported: ClosedRange<Int> = 2...2
    /// The header that carries the version on requests and responses.
    public static let header = "BriefSync-Protocol"

    /// Checks the version a peer named in the header.
    ///
    /// - Parameter header: The header's value, or `nil` when absent.
    /// - Returns: The version to speak, or the error to answer with.
    public static func negotiate(_ header: String?) -> Result<Int, ErrorResponseV1> {
        guard let header else {
            return .success(version)
        }
        guard let requested = Int(header.trimmingOptionalWhitespace), supported.contains(requested) else {
            return .failure(
                ErrorResponseV1(
                    code: .unsupportedProtocol,
                    message: "This server speaks BriefSync protocol \(supported.lowerBound)...\(supported.upperBound); "
                        + "the request asked for \"\(header)\". Update the app or the server."
                )
            )
        }
        return .success(requested)
    }
}

extension String {
    /// The value without the spaces and tabs HTTP allows around a field value (RFC 9110's OWS).
    ///
    /// Works on the UTF-8 bytes: every up-to-date poll checks its protocol header, and trimming
    /// by `Character` was 6% of such a poll's time on the server (BENCHMARKS.md).
    var trimmingOptionalWhitespace: Substring {
        func isOptionalWhitespace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = utf8.firstIndex(where: { !isOptionalWhitespace($0) }),
            let last = utf8.lastIndex(where: { !isOptionalWhitespace($0) })
        else {
            return ""
        }
        return self[first...last]
    }
}
