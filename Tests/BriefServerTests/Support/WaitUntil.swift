import Testing

/// Polls `condition` until it holds, for at most `limit` of real time (a relay, a sweeper or an
/// event loop runs on its own), and records an issue if it never does.
///
/// The limit only catches a condition that never holds; it is no speed target. It is generous
/// because tests run in parallel on a two-thread cooperative pool: while other tests keep both
/// threads busy (a simulation, a database), a sweeper task may wait seconds for its turn.
func waitUntil(within limit: Duration = .seconds(30), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while ContinuousClock.now < deadline {
        if try await condition() {
            return
        }
        try await Task.sleep(for: .milliseconds(2))
    }
    Issue.record("the condition did not hold within \(limit)")
}
