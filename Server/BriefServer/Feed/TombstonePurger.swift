import Logging
import ServiceLifecycle

/// Deletes tombstones past their retention at start and then at every interval, until shutdown.
struct TombstonePurger: Service {
    let store: any DeltaStore
    let clock: any WallClock
    let retention: Int64
    let interval: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isCancelledOrShuttingDown {
            do {
                let purged = try await store.purgeTombstones(retractedBefore: clock.now() - retention)
                logger.debug("Purged tombstones", metadata: ["feed.purged": "\(purged)"])
            } catch {
                logger.info("Purging tombstones failed", metadata: ["error": "\(error)"])
            }
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}

extension Task where Success == Never, Failure == Never {
    static var isCancelledOrShuttingDown: Bool {
        Task.isCancelled || Task.isShuttingDownGracefully
    }
}
