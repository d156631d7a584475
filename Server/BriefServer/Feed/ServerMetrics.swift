import Metrics
import NIOConcurrencyHelpers

/// The service's own metrics, made through an injected factory so that tests can read them and
/// the process bootstraps nothing global from library code.
struct ServerMetrics: Sendable {
    let factory: any MetricsFactory
    private let perRequest = PerRequestHandles()
    private let eventLoopPolls: Counter

    init(factory: any MetricsFactory) {
        self.factory = factory
        self.eventLoopPolls = Counter(label: "briefsync_polls_answered_on_event_loop_total", factory: factory)
    }

    func request(route: String, method: String, status: Int, seconds: Double) {
        requestHandles(route: route, method: method, status: status).record(seconds: seconds)
    }

    /// The counter and timer of answers of one route, method and status.
    struct RequestHandles: Sendable {
        let counter: Counter
        let timer: Metrics.Timer

        func record(seconds: Double) {
            counter.increment()
            timer.recordSeconds(seconds)
        }
    }

    func requestHandles(route: String, method: String, status: Int) -> RequestHandles {
        let key = PerRequestHandles.Key(route: route, method: method, status: status)
        // why kept: making a counter hashes its labels in the registry, a few % of a poll (perf)
        let (counter, timer) = perRequest.handles.withLockedValue { handles in
            if let found = handles[key] {
                return found
            }
            let made = (
                Counter(
                    label: "briefsync_http_requests_total",
                    dimensions: [("route", route), ("method", method), ("status", String(status))],
                    factory: factory
                ),
                Timer(
                    label: "briefsync_http_request_duration_seconds",
                    dimensions: [("route", route)],
                    factory: factory
                )
            )
            handles[key] = made
            return made
        }
        return RequestHandles(counter: counter, timer: timer)
    }

    /// An up-to-date poll answered by ``UpToDatePollHandler`` (it is counted in the requests too).
    func pollAnsweredOnEventLoop() {
        eventLoopPolls.increment()
    }

    func error(code: String) {
        Counter(label: "briefsync_errors_total", dimensions: [("code", code)], factory: factory).increment()
    }

    func changesServed(_ count: Int) {
        Counter(label: "briefsync_changes_served_total", factory: factory).increment(by: count)
    }

    func mutationsMerged(_ count: Int) {
        Counter(label: "briefsync_mutations_merged_total", factory: factory).increment(by: count)
    }

    func longPollsHeld(_ count: Int) {
        Gauge(label: "briefsync_longpolls_held", factory: factory).record(count)
    }
}

/// The counter and timer of each route, method and status seen (a few dozen at most: routes come
/// from the route table, unmatched paths share one).
private final class PerRequestHandles: Sendable {
    struct Key: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    let handles = NIOLockedValueBox([Key: (Counter, Metrics.Timer)]())
}
