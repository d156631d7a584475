import BriefModel
import BriefStore
import Foundation

/// Fetches the editions a manifest page names from the content plane, by digest, a few at once,
/// and keeps each edition fetched until a page naming it is applied, so that an attempt that
/// failed leaves the next one only what it lacked.
///
/// A page needing many editions on a lossy network would otherwise never succeed: with one
/// request in twenty lost, a page of 40 editions comes whole about one time in eight, and each
/// failure threw away every edition it had already downloaded. So each fetch is tried again once
/// at once when it failed on the way (a content GET is idempotent and its answer immutable), and
/// every edition fetched is kept in memory, by digest, until a page that names it is applied:
/// an attempt that failed, ran out of budget, or dropped a page fetched ahead loses none. Nothing kept is ever shown: the store takes
/// an edition only with the page that names it, in that page's transaction.
final class ContentFetcher: @unchecked Sendable {
    /// How many editions are kept at most: a few pages' worth.
    static let keptLimit = 1_000

    private let transport: any SyncTransport
    private let parallel: Int
    // why a lock and not an actor: fetches finish on many tasks and record their edition at once,
    // and the critical sections are a dictionary access each
    private let lock = NSLock()
    private var kept: [String: FetchedEdition] = [:]

    init(transport: any SyncTransport, parallel: Int) {
        self.transport = transport
        self.parallel = max(1, parallel)
    }

    /// The content of `refs`, each checked against its ref: the editions kept from an earlier
    /// attempt, and the others fetched, `parallel` at a time.
    ///
    /// When a fetch fails for good, no new one starts; those in flight finish and are kept for
    /// the next attempt, and the first error is thrown.
    func editions(of refs: [BriefRefV2]) async throws -> [FetchedEdition] {
        var editions: [FetchedEdition] = []
        editions.reserveCapacity(refs.count)
        var missing: [BriefRefV2] = []
        lock.withLock {
            for ref in refs {
                if let digest = ref.digest, let edition = kept[digest], edition.ref.id == ref.id,
                    edition.ref.version == ref.version
                {
                    editions.append(edition)
                } else {
                    missing.append(ref)
                }
            }
        }
        guard !missing.isEmpty else {
            return editions
        }
        let failure: (any Error)? = await withTaskGroup(of: Result<FetchedEdition, any Error>.self) { group in
            var pending = missing[...]
            for _ in 0..<parallel {
                guard let ref = pending.popFirst() else {
                    break
                }
                group.addTask { await self.result(ref) }
            }
            var failure: (any Error)?
            while let result = await group.next() {
                switch result {
                case .success(let edition):
                    editions.append(edition)
                    keep(edition)
                case .failure(let error):
                    failure = failure ?? error
                }
                if failure == nil, let ref = pending.popFirst() {
                    group.addTask { await self.result(ref) }
                }
            }
            return failure
        }
        if let failure {
            throw failure
        }
        return editions
    }

    /// Forgets the kept editions `page` names, once it has been applied.
    func applied(_ page: ChangesPageV2) {
        lock.withLock {
            guard !kept.isEmpty else {
                return
            }
            for ref in page.briefs {
                if let digest = ref.digest {
                    kept[digest] = nil
                }
            }
        }
    }

    private func keep(_ edition: FetchedEdition) {
        guard let digest = edition.ref.digest else {
            return
        }
        lock.withLock {
            if kept.count >= Self.keptLimit, kept[digest] == nil, let any = kept.keys.first {
                kept[any] = nil  // why any: the limit only bounds memory; a dropped edition is fetched again
            }
            kept[digest] = edition
        }
    }

    private func result(_ ref: BriefRefV2) async -> Result<FetchedEdition, any Error> {
        do {
            return .success(try await edition(ref))
        } catch {
            return .failure(error)
        }
    }

    private func edition(_ ref: BriefRefV2) async throws -> FetchedEdition {
        guard let digest = ref.digest else {
            throw DeviceStoreError.contentMismatch(ref.id, "the manifest names no digest")
        }
        let bytes: Data
        do {
            bytes = try await transport.content(digest)
        } catch let error as TransportError where Self.worthRetrying(error) {
            try Task.checkCancellation()
            bytes = try await transport.content(digest)
        }
        return try FetchedEdition(ref, bytes: bytes)
    }

    /// A failure on the way, with no wait asked for: a server that asks for one (`Retry-After`)
    /// is not asked again at once, and the round fails and keeps what it fetched.
    private static func worthRetrying(_ error: TransportError) -> Bool {
        SyncAction.resolve(error) == .retry(after: nil)
    }
}
