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
    @Option(
        help: ArgumentHelp(
            "End within this time, e.g. 25s or 800ms, on the last page stored; the next sync goes on from there.",
            valueName: "duration"
        )
    )
    var budget: SyncBudget?

    func validate() throws {
        if budget != nil && watch {
            throw ValidationError("--budget bounds one sync; --watch keeps syncing. Use one of them.")
        }
    }

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
        /// Whether the sync caught up; `false` when its --budget ran out first.
        var complete: Bool
    }

    func execute(_ home: DeviceHome) async throws {
        // Ctrl-C is caught from the start, so that one arriving during the first sync still stops
        // the watch cleanly instead of killing the process halfway.
        let interrupted = watch ? Interrupts.wait() : nil
        let (library, session) = try await home.connectedLibrary()
        let showProgress = !json && Terminal.errorIsInteractive
        let progress: @Sendable (SyncReport) -> Void = { report in
            if showProgress && report.pages > 1 {
                Terminal.progress("received \(report.received) briefs (\(report.pages) pages)…")
            }
        }
        let report =
            if let budget {
                try await library.sync(budget: budget.duration, progress: progress)
            } else {
                try await library.sync(progress: progress)
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
                    renewedIncarnation: report.renewedIncarnation,
                    complete: report.complete
                )
            )
        } else {
            print(
                "Synced with \(session.server): sent \(report.pushed) changes, received \(report.received) briefs, "
                    + "\(report.readStates) read-states, \(report.retracted) removed"
                    + (report.fullResync ? " (started over: the server no longer knew this device's place)" : "")
                    + (report.dropped > 0 ? "; \(report.dropped) changes dropped: their briefs are gone" : "") + "."
                    + (report.complete ? "" : " The budget ran out: the next sync goes on from here.")
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

/// How long a budgeted sync may take: `25s`, `800ms`, `2m`, or a number of seconds.
struct SyncBudget: ExpressibleByArgument, Sendable {
    let duration: Duration

    init?(argument: String) {
        let units: [(suffix: String, milliseconds: Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("", 1000)]
        guard let unit = units.first(where: { argument.hasSuffix($0.suffix) }),
            let value = Int64(argument.dropLast(unit.suffix.count)), value > 0, value <= 86_400_000 / unit.milliseconds
        else {
            return nil
        }
        duration = .milliseconds(value * unit.milliseconds)
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
