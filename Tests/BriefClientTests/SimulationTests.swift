import BriefClient
import BriefHTTP
import BriefModel
import BriefSimulation
import Foundation
import Testing

/// The simulator as the proof of convergence, driven in process (and once against a child
/// brief-server that it kills and restarts): short seeded runs with every
/// fault, a verdict that catches a lost edit and names where, and the bisection that finds the
/// first operation after which a run diverges.
@Suite struct SimulationTests {
    static func briefs() throws -> [Brief] {
        SimulationBriefs.make(
            from: [try Briefs.seed(), try Briefs.example("brief-climate-2026-06-26.json")],
            count: 12
        )
    }

    static func run(_ plan: SimulationPlan) async throws -> SimulationReport {
        try await InProcessSimulationServer.run(briefs: try briefs()) { server in
            try await Simulation.run(plan, on: server)
        }
    }

    /// Every fault at once, from two seeds.
    @Test(arguments: [UInt64(20_261_203), 20_261_204])
    func aShortRunWithEveryFaultConverges(seed: UInt64) async throws {
        let plan = SimulationPlan(seed: seed, devices: 6, users: 2, ops: 1_500, faults: SimulationFault.all)
        let report = try await Self.run(plan)
        #expect(report.ops == 1_500 && report.edits > 500)
        // each fault of the plan was injected, not only asked for
        let injected = Set(report.faults.keys)
        for (fault, counted) in [
            (SimulationFault.network, "answers lost"), (.skew, "clocks skewed"), (.crash, "crashes"),
            (.copy, "stores copied"), (.switch, "accounts switched"), (.restart, "server restarts"),
        ] where plan.faults.contains(fault) {
            #expect(injected.contains(counted), "\(fault): \(report.faults)")
        }
    }

    /// Found by the simulator (`--faults skew,copy`, seed 14): a store copied while edits from
    /// a clock more than five minutes ahead were queued pushed them again under its new
    /// incarnation, and the server, clamping each stamp to its own time at arrival, stamped them
    /// later the second time, so an old edit won over newer ones of other devices. The server
    /// now admits a clamped stamp once (`clamped_stamps`).
    @Test func aCopiedStoreWithAFastClockDoesNotReorderItsQueuedEdits() async throws {
        let report = try await Self.run(
            SimulationPlan(seed: 14, devices: 6, users: 2, ops: 1_500, faults: [.skew, .copy])
        )
        #expect(report.faults["stores copied", default: 0] > 0 && report.faults["clocks skewed", default: 0] > 0)
    }

    /// A seed replays its run: the same plan on a fresh server makes the same operations, meets
    /// the same faults and ends with the same counts, so that `--replay` and the bisection that
    /// finds the first diverging operation rerun what failed.
    @Test func aSeedReplaysTheSameRun() async throws {
        let plan = SimulationPlan(seed: 20_261_205, devices: 5, users: 2, ops: 800, faults: SimulationFault.all)
        final class Progress: @unchecked Sendable { var done: [Int] = [] }
        let progress = Progress()
        let first = try await InProcessSimulationServer.run(briefs: try Self.briefs()) { server in
            try await Simulation.run(plan, on: server, progressEvery: 300) { progress.done.append($0) }
        }
        #expect(progress.done == [300, 600], "a long run says how far it is")
        let second = try await Self.run(plan)
        #expect(first.faults["requests lost", default: 0] > 0)
        for (name, counts) in [
            ("edits", (first.edits, second.edits)), ("syncs", (first.syncs, second.syncs)),
            ("failed syncs", (first.failedSyncs, second.failedSyncs)),
            ("publisher changes", (first.publisherChanges, second.publisherChanges)),
            ("conflicts", (first.conflicts, second.conflicts)),
        ] {
            #expect(counts.0 == counts.1, "\(name)")
        }
        #expect(first.faults == second.faults)
        #expect(first.fingerprint == second.fingerprint, "every request, in order, with its fate")
    }

    /// Against a real brief-server, a child process that the `restart` fault kills (SIGKILL) and
    /// starts again on the same file mid-run, which purges tombstones after two seconds
    /// (`expiry`), with every other fault over HTTP: every device converges, and the server was
    /// restarted and purged, not only asked to.
    @Test func aRunAgainstAChildServerThatIsKilledAndRestartedConverges() async throws {
        let plan = SimulationPlan(seed: 4, devices: 6, users: 2, ops: 2_000, faults: SimulationFault.all)
        let report = try await ChildProcessSimulationServer.run(
            executable: CrashTests.serverExecutable,
            briefs: try Self.briefs(),
            expiry: true,
            requester: URLSessionRequester()
        ) { server in
            try await Simulation.run(plan, on: server)
        }
        #expect(report.faults["server restarts", default: 0] > 0, "\(report.faults)")
        #expect(report.faults["answers lost", default: 0] > 0 && report.faults["clocks skewed", default: 0] > 0)
        // a purge shows as tokens expired, or as edits of purged briefs refused
        let purges =
            report.faults["tokens expired (started over)", default: 0]
            + report.faults["edits refused (brief purged)", default: 0]
        #expect(purges > 0, "\(report.faults)")
    }

    /// A server that acknowledges some pushes without applying them loses edits: the verdict
    /// says which device, brief and field, and the bisection finds the first operation after
    /// which the run diverges, as a replay shows.
    @Test func theVerdictCatchesALostEditAndTheReplayFindsWhere() async throws {
        let plan = SimulationPlan(seed: 5, devices: 4, users: 2, ops: 300)
        func lossy(_ plan: SimulationPlan) async throws -> SimulationReport {
            try await InProcessSimulationServer.run(briefs: try Self.briefs()) { server in
                try await Simulation.run(plan, on: LosingServer(base: server))
            }
        }
        await #expect(throws: SimulationDivergence.self) { try await lossy(plan) }
        do {
            _ = try await lossy(plan)
        } catch let divergence as SimulationDivergence {
            #expect(divergence.detail.hasPrefix("brief ") && divergence.detail.contains(" field "))
            #expect(!divergence.history.isEmpty, "the brief's last mutations are listed: \(divergence)")
        }
        let first = try #require(try await Simulation.firstDivergingOps(plan, fresh: lossy))
        #expect(first <= plan.ops)
        var before = plan
        before.ops = first - 1
        _ = try await lossy(before)  // converges
        var at = plan
        at.ops = first
        await #expect(throws: SimulationDivergence.self) { try await lossy(at) }
        // and the same plan on an honest server converges
        _ = try await Self.run(plan)
    }

    /// A server that answers every device's requests for changes with the first account's: the
    /// second user's devices show the first user's states, and the verdict says so by name.
    @Test func theVerdictCatchesAnotherUsersState() async throws {
        let plan = SimulationPlan(seed: 9, devices: 4, users: 2, ops: 200)
        let divergence = await #expect(throws: SimulationDivergence.self) {
            try await InProcessSimulationServer.run(briefs: try Self.briefs()) { server in
                try await Simulation.run(plan, on: CrossedServer(base: server))
            }
        }
        #expect(divergence?.user == "sim-9-u1", "\(String(describing: divergence))")
        #expect(divergence?.detail.contains("from a mutation of sim-9-u0") == true, "\(String(describing: divergence))")
    }

    @Test func faultListsAreReadOrRefusedByName() throws {
        #expect(try SimulationFault.parse("all") == SimulationFault.all)
        #expect(try SimulationFault.parse("network, skew") == [.network, .skew])
        #expect(try SimulationFault.parse("") == [])
        #expect(throws: SimulationError.self) { try SimulationFault.parse("network,gremlins") }
    }
}

/// Acknowledges every third push that carries a save without delivering it: the device takes
/// the answer as the server's and forgets the edits.
struct LosingServer: SimulationServer {
    let base: any SimulationServer

    func transport(token: String) -> any SyncTransport { Losing(base: base.transport(token: token)) }

    final class Losing: SyncTransport, @unchecked Sendable {
        let base: any SyncTransport
        private let lock = NSLock()
        private var saves = 0

        init(base: any SyncTransport) {
            self.base = base
        }

        func push(_ request: PushRequestV1) async throws -> PushResultV1 {
            let lose = lock.withLock {
                guard request.mutations.contains(where: { $0.action == .save }) else {
                    return false
                }
                saves += 1
                return saves % 3 == 0
            }
            guard lose, let last = request.mutations.last?.id else {
                return try await base.push(request)
            }
            return PushResultV1(lastAppliedId: last, states: [])
        }

        func changes(_ request: ChangesRequest) async throws -> ChangesPageV2 { try await base.changes(request) }
        func content(_ digest: String) async throws -> Data { try await base.content(digest) }
    }

    func session(user: String, password: String, device: DeviceID, register: Bool) async throws -> SessionV1 {
        try await base.session(user: user, password: password, device: device, register: register)
    }
    func topics(token: String) async throws -> [TopicStatusV1] { try await base.topics(token: token) }
    func setFollowing(_ topic: TopicID, _ follow: Bool, token: String) async throws {
        try await base.setFollowing(topic, follow, token: token)
    }
    func publish(_ brief: Brief) async throws -> Bool { try await base.publish(brief) }
    func retract(_ id: BriefID) async throws -> Bool { try await base.retract(id) }
    func now() -> Int64 { base.now() }
    func advance(by milliseconds: Int64) { base.advance(by: milliseconds) }
    var skew: ClockSkewPolicy { base.skew }
    var ownsClock: Bool { base.ownsClock }
    func purgeTombstones(olderThan age: Int64) async throws -> Int? { try await base.purgeTombstones(olderThan: age) }
    func restart() async throws -> Bool { try await base.restart() }
}

/// Answers every device's requests for changes with the first account's, whoever signed in: a
/// server that mixes up accounts.
final class CrossedServer: SimulationServer, @unchecked Sendable {
    let base: any SimulationServer
    private let lock = NSLock()
    private var first: String?

    init(base: any SimulationServer) {
        self.base = base
    }

    func session(user: String, password: String, device: DeviceID, register: Bool) async throws -> SessionV1 {
        let session = try await base.session(user: user, password: password, device: device, register: register)
        lock.withLock { first = first ?? session.token }
        return session
    }
    func transport(token: String) -> any SyncTransport {
        Crossed(own: base.transport(token: token), first: base.transport(token: lock.withLock { first } ?? token))
    }

    /// Pushes as its own account, pulls the first account's changes.
    struct Crossed: SyncTransport {
        let own: any SyncTransport
        let first: any SyncTransport

        func push(_ request: PushRequestV1) async throws -> PushResultV1 { try await own.push(request) }
        func changes(_ request: ChangesRequest) async throws -> ChangesPageV2 { try await first.changes(request) }
        func content(_ digest: String) async throws -> Data { try await own.content(digest) }
    }
    func topics(token: String) async throws -> [TopicStatusV1] { try await base.topics(token: token) }
    func setFollowing(_ topic: TopicID, _ follow: Bool, token: String) async throws {
        try await base.setFollowing(topic, follow, token: token)
    }
    func publish(_ brief: Brief) async throws -> Bool { try await base.publish(brief) }
    func retract(_ id: BriefID) async throws -> Bool { try await base.retract(id) }
    func now() -> Int64 { base.now() }
    func advance(by milliseconds: Int64) { base.advance(by: milliseconds) }
    var skew: ClockSkewPolicy { base.skew }
    var ownsClock: Bool { base.ownsClock }
    func purgeTombstones(olderThan age: Int64) async throws -> Int? { try await base.purgeTombstones(olderThan: age) }
    func restart() async throws -> Bool { try await base.restart() }
}
