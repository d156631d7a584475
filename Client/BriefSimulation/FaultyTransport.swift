import BriefClient
import BriefModel
import Foundation

/// A device's transport with the `network` fault: seeded, it loses some requests before the
/// server sees them, loses some answers after the server applied the request, delivers some
/// requests twice, and holds some pushes back to deliver them later, after newer requests of
/// this and other devices (the reordering of concurrent requests). Without the fault it only
/// notes what the server took.
final class FaultyTransport: SyncTransport, @unchecked Sendable {
    private let base: any SyncTransport
    private let server: any SimulationServer
    private let ledger: SimulationLedger
    private let lock = NSLock()
    private var generator: SeededRandomGenerator
    private let faulty: Bool
    /// The user whose session this is.
    private let user: String

    init(
        _ base: any SyncTransport,
        of user: String,
        server: any SimulationServer,
        ledger: SimulationLedger,
        seed: UInt64,
        faulty: Bool
    ) {
        self.base = base
        self.user = user
        self.server = server
        self.ledger = ledger
        self.generator = SeededRandomGenerator(seed: seed)
        self.faulty = faulty
    }

    func push(_ request: PushRequestV1) async throws -> PushResultV1 {
        try await misbehave(push: request, noting: "push \(request.mutations.first?.id ?? 0)") {
            let result = try await self.base.push(request)
            self.ledger.delivered(
                request,
                of: self.user,
                answer: result,
                at: self.server.now(),
                exactly: self.server.ownsClock,
                skew: self.server.skew
            )
            return result
        }
    }

    func changes(_ request: ChangesRequest) async throws -> ChangesPageV2 {
        try await misbehave(push: nil, noting: "changes \(request.since == nil) \(request.limit)") {
            try await self.base.changes(request)
        }
    }

    func content(_ digest: String) async throws -> Data {
        try await misbehave(push: nil, noting: digest) { try await self.base.content(digest) }
    }

    private var crashAfter: Int?

    /// The `crash` fault: the device dies after `requests` more requests reach the server, the
    /// last of them answered to no one; until ``disarm()``, nothing reaches the server.
    func crash(after requests: Int) {
        lock.withLock { crashAfter = requests }
    }

    func disarm() {
        lock.withLock { crashAfter = nil }
    }

    /// Whether the crash stops this request: `nil` to send it as usual, `true` to deliver it and
    /// then die, `false` to die before it (the device is already dead).
    private func crashing() -> Bool? {
        lock.withLock {
            guard let remaining = crashAfter else {
                return nil
            }
            crashAfter = remaining - 1
            return remaining == 0 ? true : remaining < 0 ? false : nil
        }
    }

    private func roll() -> Int { lock.withLock { Int.random(in: 0..<100, using: &generator) } }

    /// Sends `call`, or does to it what the faults and this request's roll say. `request` names
    /// it in the run's fingerprint (``SimulationLedger/note(_:_:)``).
    private func misbehave<T: Sendable>(
        push: PushRequestV1?,
        noting request: String,
        _ call: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        for late in ledger.due() {
            await late()
        }
        let roll = faulty ? roll() : 100
        ledger.note(request, roll)
        switch crashing() {
        case true?:
            _ = try await call()
            throw TransportError(.timedOut, message: "simulated: the device died waiting for the answer")
        case false?:
            throw TransportError(.cancelled, message: "simulated: the device is dead")
        case nil:
            break
        }
        guard faulty else {
            return try await call()
        }
        switch roll {
        case 0..<3:
            ledger.count("requests lost")
            throw TransportError(.unreachable, message: "simulated: the request was lost")
        case 3..<6:
            _ = try await call()
            ledger.count("answers lost")
            throw TransportError(.timedOut, message: "simulated: the answer was lost")
        case 6..<8:
            ledger.count("requests duplicated")
            _ = try? await call()
            return try await call()
        case 8..<14 where push != nil:
            // the push arrives after newer requests; the device meanwhile sees a timeout and retries
            ledger.count("pushes delivered late")
            let calls = lock.withLock { Int.random(in: 1...6, using: &generator) }
            ledger.holdBack(after: calls) { _ = try? await call() }
            throw TransportError(.timedOut, message: "simulated: the push is late")
        default:
            return try await call()
        }
    }
}
