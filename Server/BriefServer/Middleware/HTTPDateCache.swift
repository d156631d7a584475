import Foundation
import NIOConcurrencyHelpers

/// The `Date` header (RFC 9110's IMF-fixdate), made at most once a second.
final class HTTPDateCache: Sendable {
    private let cached = NIOLockedValueBox((second: time_t(-1), value: ""))

    func now() -> String {
        var second = time(nil)
        return cached.withLockedValue { cached in
            if cached.second != second {
                var parts = tm()
                gmtime_r(&second, &parts)
                cached = (second, Self.format(parts))
            }
            return cached.value
        }
    }

    private static let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func format(_ parts: tm) -> String {
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(days[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) GMT"
    }
}
