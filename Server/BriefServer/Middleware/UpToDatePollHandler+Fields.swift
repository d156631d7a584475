import HTTPTypes
import NIOHTTP1

extension UpToDatePollHandler {
    /// The fields of a request this handler reads, found in one pass over them.
    ///
    /// why not by name: each lookup scans the fields and joins the values it finds into a new
    /// string, 4% of a poll's time for the five this handler reads (perf, BENCHMARKS.md).
    struct Fields {
        var connection: String?
        var protocolVersion: String?
        var authorization: String?
        var requestID: String?
        var ifNoneMatch: String?

        /// `nil` when one of them comes more than once (the routes would read the values
        /// joined), or with a value swift-http-types would change before the routes read it;
        /// such a request is left to them.
        init?(_ headers: HTTPHeaders) {
            for (name, value) in headers {
                guard let known = Name(name) else {
                    continue
                }
                guard Self.isLegal(value) else {
                    return nil
                }
                let kept: Bool
                switch known {
                case .authorization: kept = Self.keep(value, in: &authorization)
                case .protocolVersion: kept = Self.keep(value, in: &protocolVersion)
                case .connection: kept = Self.keep(value, in: &connection)
                case .ifNoneMatch: kept = Self.keep(value, in: &ifNoneMatch)
                case .requestID: kept = Self.keep(value, in: &requestID)
                }
                guard kept else {
                    return nil
                }
            }
        }

        private static func keep(_ value: String, in slot: inout String?) -> Bool {
            guard slot == nil else {
                return false
            }
            slot = value
            return true
        }

        /// Whether swift-http-types keeps `value` as it is: no control character, and no space or
        /// tab at either end (it replaces the first and trims the second).
        static func isLegal(_ value: String) -> Bool {
            let bytes = value.utf8
            if let first = bytes.first, let last = bytes.last, ASCII.isBlank(first) || ASCII.isBlank(last) {
                return false
            }
            return !bytes.contains { ($0 < 0x20 && $0 != UInt8(ascii: "\t")) || $0 == 0x7F }
        }

        /// The names read, matched without regard to case as HTTP names are.
        enum Name: CaseIterable {
            case authorization, protocolVersion, connection, ifNoneMatch, requestID

            var lowercased: String {
                switch self {
                case .authorization: HTTPField.Name.authorization.canonicalName
                case .protocolVersion: EdgeMiddleware.protocolHeader.canonicalName
                case .connection: HTTPField.Name.connection.canonicalName
                case .ifNoneMatch: HTTPField.Name.ifNoneMatch.canonicalName
                case .requestID: EdgeMiddleware.requestIDHeader.canonicalName
                }
            }

            init?(_ name: String) {
                // why by length first: most fields a poll carries are none of these
                guard let found = Self.byLength[name.utf8.count]?.first(where: { $0.matches(name) }) else {
                    return nil
                }
                self = found
            }

            private static let byLength = Dictionary(grouping: allCases, by: { $0.lowercased.utf8.count })

            private func matches(_ name: String) -> Bool {
                ASCII.equalsIgnoringCase(name.utf8, lowercased.utf8)
            }
        }
    }
}
