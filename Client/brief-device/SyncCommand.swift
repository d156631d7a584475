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
        var renewedIncarnation: Bool
    }

    func execute(_ home: DeviceHome) async throws {
        // Ctrl-C is caught from the start, so that one arriving during the first sync still stops
        // the watch cleanly instead of killing the process halfway.
        let interrupted = watch ? Interrupts.wait() : nil
        let (library, session) = try await home.connectedLibrary()
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
                    pendingMutations: pending,
                    renewedIncarnation: report.renewedIncarnation
                )
            )
        } else {
            print(
                "Synced with \(session.server): sent \(report.pushed) changes, received \(report.received) briefs, "
                    + "\(report.readStates) read-states, \(report.retracted) removed"
                    + (report.fullResync ? " (started over: the server no longer knew this device's place)" : "")
                    + (report.dropped > 0 ? "; \(report.dropped) changes dropped: their briefs are gone" : "") + "."
            )
            if report.renewedIncarnation {
                print("This store is a copy of another (a restored backup?): it now pushes as a copy of its own.")
            }
        }
        guard let interrupted else {
            return
        }
        Terminal.error("Watching for changes; Ctrl-C stops.")
        let live = Task { try await library.runLive() }
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
///
/// A plain handler writes one byte to a pipe (write is async-signal-safe) and a thread of its
/// own waits on the pipe's other end. The handler is in place when `wait()` returns, on every
/// thread, whatever disposition the process inherited (a background job starts with SIGINT
/// ignored). Dispatch signal sources were used before; on Linux they arm asynchronously, and a
/// signal arriving in between was lost.
enum Interrupts {
    private nonisolated(unsafe) static var wakeFD: Int32 = -1

    static func wait() -> Task<Void, Never> {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            return Task {}  // without a pipe, the default action (exit) still stops the watch
        }
        let (readFD, writeFD) = (ends[0], ends[1])
        wakeFD = writeFD
        for number in [SIGINT, SIGTERM] {
            signal(number) { _ in
                var byte: UInt8 = 1
                _ = write(Interrupts.wakeFD, &byte, 1)
            }
        }
        return Task {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    Thread.detachNewThread {
                        var byte: UInt8 = 0
                        while read(readFD, &byte, 1) < 0 && errno == EINTR {}
                        continuation.resume()
                    }
                }
            } onCancel: {
                var byte: UInt8 = 0
                _ = write(writeFD, &byte, 1)
            }
        }
    }
}

extension Terminal {
    /// A progress line on standard error, rewritten in place; `nil` clears it.
    static func progress(_ text: String?) {
        FileHandle.standardError.write(Data(("\r\u{1B}[K" + (text ?? "")).utf8))
    }
}
