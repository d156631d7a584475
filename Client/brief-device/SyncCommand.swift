import ArgumentParser
import BriefClient
import BriefStore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

struct Sync: DeviceCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send queued changes, then receive what changed on the server."
    )
    @ParentCommand var device: BriefDevice
    @Flag(help: "Keep syncing whenever the server or this device has news, until interrupted (Ctrl-C).")
    var watch = false
    @Flag(help: "Print the result as JSON.") var json = false

    struct Output: Encodable {
        var pushed: Int
        var received: Int
        var retracted: Int
        var readStates: Int
        var dropped: Int
        var pages: Int
        var fullResync: Bool
        var pendingMutations: Int
    }

    func execute(_ home: DeviceHome) async throws {
        let (library, session) = try home.connectedLibrary()
        let showProgress = !json && Terminal.errorIsInteractive
        let report = try await library.sync { report in
            if showProgress && report.pages > 1 {
                Terminal.progress("received \(report.received) briefs (\(report.pages) pages)…")
            }
        }
        if showProgress {
            Terminal.progress(nil)
        }
        let pending = try await library.status().pendingMutations
        if json {
            try printJSON(
                Output(
                    pushed: report.pushed,
                    received: report.received,
                    retracted: report.retracted,
                    readStates: report.readStates,
                    dropped: report.dropped,
                    pages: report.pages,
                    fullResync: report.fullResync,
                    pendingMutations: pending
                )
            )
        } else {
            print(
                "Synced with \(session.server): sent \(report.pushed) changes, received \(report.received) briefs, "
                    + "\(report.readStates) read-states, \(report.retracted) removed"
                    + (report.fullResync ? " (started over: the server no longer knew this device's place)" : "") + "."
            )
        }
        guard watch else {
            return
        }
        Terminal.error("Watching for changes; Ctrl-C stops.")
        let live = Task { try await library.runLive() }
        let interrupted = Interrupts.wait()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await interrupted.value }
            group.addTask { _ = try? await live.value }
            await group.next()
            live.cancel()
            interrupted.cancel()
        }
        if case .failure(let error) = await live.result {
            throw error
        }
        Terminal.error("Stopped.")
    }
}

/// Turns SIGINT and SIGTERM into a task that finishes, so that --watch stops cleanly.
enum Interrupts {
    static func wait() -> Task<Void, Never> {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let sources = [SIGINT, SIGTERM].map { DispatchSource.makeSignalSource(signal: $0, queue: .global()) }
        let stream = AsyncStream<Void> { continuation in
            for source in sources {
                source.setEventHandler { continuation.yield() }
                source.resume()
            }
        }
        return Task {
            for await _ in stream {
                break
            }
            sources.forEach { $0.cancel() }
        }
    }
}

extension Terminal {
    /// A progress line on standard error, rewritten in place; `nil` clears it.
    static func progress(_ text: String?) {
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + (text ?? "")).utf8))
    }
}
