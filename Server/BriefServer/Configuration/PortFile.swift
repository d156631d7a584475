import Foundation

/// `brief-server serve --port-file FILE`: once the server listens, it writes its port to FILE
/// (replaced whole, never read half-written), having removed any FILE of an earlier run at start.
///
/// Whoever starts a server (a script, a test, a benchmark, the simulator) passes `--port 0` and
/// reads the port here. Choosing a free port and passing it instead is a race: another process
/// may bind that port first, and the caller then talks to that process, taking it for its own
/// server.
public enum PortFile {
    /// Writes `port` to `file`, replacing what it held.
    public static func write(_ port: Int, to file: URL) throws {
        try Data("\(port)\n".utf8).write(to: file, options: .atomic)
    }

    /// The port the server writes to `file`, once it does.
    ///
    /// - Parameters:
    ///   - file: The `--port-file` the server was started with.
    ///   - timeout: How long to wait for it.
    ///   - isRunning: Whether the server still runs: a server that stops before it listens
    ///     (a bad setting, a database it cannot open) writes no port.
    /// - Returns: The port, or `nil` when the server stopped or `timeout` passed first.
    public static func port(
        in file: URL,
        timeout: Duration = .seconds(60),
        while isRunning: () -> Bool
    ) async throws -> Int? {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if let text = try? String(contentsOf: file, encoding: .utf8),
                let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), (1...65535).contains(port)
            {
                return port
            }
            guard isRunning() else {
                return nil
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }
}
