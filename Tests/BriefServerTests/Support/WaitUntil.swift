import Testing

/// Polls `condition` until it holds, for at most `limit` of real time (a relay, a sweeper or an
/// event loop runs on its own), and records an issue if it never does.
func waitUntil(within limit: Duration = .seconds(5), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() {
            return
        }
        try await Task.sleep(for: .milliseconds(2))
    }
    Issue.record("the condition did not hold within \(limit)")
}
