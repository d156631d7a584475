import Metrics

/// The service's own metrics, made through an injected factory so that tests can read them and
/// the process bootstraps nothing global from library code.
struct ServerMetrics: Sendable {
    let factory: any MetricsFactory

    func request(route: String, method: String, status: Int, seconds: Double) {
        Counter(
            label: "briefsync_http_requests_total",
            dimensions: [("route", route), ("method", method), ("status", String(status))],
            factory: factory
        ).increment()
        Timer(label: "briefsync_http_request_duration_seconds", dimensions: [("route", route)], factory: factory)
            .recordSeconds(seconds)
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
