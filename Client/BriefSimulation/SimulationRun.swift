import BriefClient
import BriefModel
import BriefStore
import Foundation
import Logging

/// One run's state: the devices, the log of every mutation each user made, and the counts.
struct SimulationRun {
    /// A simulated phone: its store, the account signed in on it, its clock and its transport.
    final class Device {
        let name: String
        /// The account the phone belongs to; `user` is the one signed in now (`switch`).
        let home: String
        var user: String
        var tokens: [String: String]
        var library: BriefLibrary {
            didSet { shown = nil }
        }
        /// The briefs the store lists, as last read: only a sync or a sign-in changes them, an
        /// edit never, and edits (most operations) pick from them.
        private var shown: [BriefSummary]?
        var transport: FaultyTransport
        let clock: DeviceClock
        var online = true

        init(
            name: String,
            user: String,
            token: String,
            library: BriefLibrary,
            transport: FaultyTransport,
            clock: DeviceClock
        ) {
            self.name = name
            self.home = user
            self.user = user
            self.tokens = [user: token]
            self.library = library
            self.transport = transport
            self.clock = clock
        }

        /// The briefs the store lists.
        func briefs() async throws -> [BriefSummary] {
            if let shown {
                return shown
            }
            let briefs = try await library.briefs()
            shown = briefs
            return briefs
        }

        /// Syncs, or signs in or out: the list is read again next time.
        func changed() {
            shown = nil
        }
    }

    let plan: SimulationPlan
    let server: any SimulationServer
    let ledger = SimulationLedger()
    var generator: SeededRandomGenerator
    var devices: [Device] = []
    var log: [String: [MutationV1]] = [:]
    /// The device that made each mutation: a store and its copies share a device id.
    var makers: [MutationV1: String] = [:]
    var report = SimulationReport()
    let started = ContinuousClock.now
    let password: String
    /// The briefs the server started with, which new days' briefs are made from.
    var templates: [Brief] = []
    /// New days' briefs published so far.
    var published = 0

    init(plan: SimulationPlan, server: any SimulationServer) async throws {
        self.plan = plan
        self.server = server
        generator = SeededRandomGenerator(seed: plan.seed)
        password = "simulated-password-\(plan.seed)"
        for index in 0..<plan.devices {
            let user = "sim-\(plan.seed)-u\(index % plan.users)"
            let id = DeviceID(
                rawValue: "sim-\(plan.seed)-d\(index)-\(UInt32.random(in: 0...UInt32.max, using: &generator))"
            )
            guard let id else {
                throw SimulationError("the seed makes no device id")
            }
            let session = try await server.session(
                user: user,
                password: password,
                device: id,
                register: index < plan.users
            )
            let clock = makeClock()
            let library = try BriefLibrary.inMemory(deviceID: id, configuration: Self.configuration(clock))
            let transport = makeTransport(session.token, of: user)
            try await library.signIn(Self.account(session.username), transport: transport)
            devices.append(
                Device(
                    name: "d\(index)",
                    user: user,
                    token: session.token,
                    library: library,
                    transport: transport,
                    clock: clock
                )
            )
        }
        for index in devices.indices {
            try await syncUntilQuiet(index)
        }
        for summary in try await devices[0].library.briefs() {
            if let brief = try await devices[0].library.brief(summary.id)?.brief {
                templates.append(brief)
            }
        }
        guard !templates.isEmpty else {
            throw SimulationError("the server has no briefs to read: start it with --demo, or publish some first")
        }
        templates.sort { ($0.date, $0.id.rawValue) < ($1.date, $1.id.rawValue) }
    }

    static func account(_ user: String) -> AccountID { AccountID(server: "simulation", username: user) }

    static func configuration(_ clock: DeviceClock) -> BriefLibrary.Configuration {
        var configuration = BriefLibrary.Configuration()
        configuration.keepDays = nil
        configuration.now = { clock.now() }
        configuration.logger.logLevel = .warning  // why: the faults make failures expected; the verdict reports
        // why one at a time: the network fault rolls its dice per request, so requests in flight
        // together would draw them in the order the scheduler runs them, and a seed would not
        // replay its run (the parallel fetch has its own tests, in SyncTests)
        configuration.sync.contentFetches = 1
        return configuration
    }

    /// A phone's clock: off by up to ±6 hours with the `skew` fault, drawn from the run's
    /// generator so that a replay skews every clock the same way.
    mutating func makeClock() -> DeviceClock {
        guard plan.faults.contains(.skew) else {
            return DeviceClock(server: server, offset: 0)
        }
        ledger.count("clocks skewed")
        return DeviceClock(server: server, offset: Int64.random(in: -6 * 3_600_000...6 * 3_600_000, using: &generator))
    }

    /// A transport for a session, with the network fault when the plan has it, seeded from the
    /// run's generator so that a replay misbehaves the same way.
    mutating func makeTransport(_ token: String, of user: String) -> FaultyTransport {
        FaultyTransport(
            server.transport(token: token),
            of: user,
            server: server,
            ledger: ledger,
            seed: UInt64.random(in: 0...UInt64.max, using: &generator),
            faulty: plan.faults.contains(.network)
        )
    }

    mutating func perform(progressEvery: Int, progress: ((Int) -> Void)?) async throws {
        for done in 0..<plan.ops {
            if let progress, done > 0, done % max(1, progressEvery) == 0 {
                progress(done)
            }
            server.advance(by: Int64.random(in: 0...2_000, using: &generator))
            if plan.faults.contains(.skew) {
                let device = devices[Int.random(in: 0..<devices.count, using: &generator)]
                device.clock.drift(by: Int64.random(in: -500...500, using: &generator))
            }
            let index = Int.random(in: 0..<devices.count, using: &generator)
            switch Int.random(in: 0..<1000, using: &generator) {
            case 0..<100:
                devices[index].online.toggle()
                report.offlinePeriods += devices[index].online ? 0 : 1
            case 100..<250:
                try await sync(index)
            case 250..<280:
                try await changeFollowing(index)
            case 280..<310:
                try await correctOrRetract()
            case 310..<320 where plan.faults.contains(.crash):
                try await crash(index)
            case 320..<323 where plan.faults.contains(.copy) && devices.count < plan.devices * 2:
                try await copy(index)
            case 323..<328 where plan.faults.contains(.switch) && plan.users > 1:
                try await switchAccount(index)
            case 328..<331 where plan.faults.contains(.expiry):
                try await expire()
            case 331..<334 where plan.faults.contains(.restart):
                if try await server.restart() {
                    ledger.count("server restarts")
                }
            default:
                try await edit(index)
            }
            report.ops += 1
        }
    }

    /// Every device online; every account that was signed in on a device comes back there once
    /// and sends what it left queued; every device back on its own account, syncing until quiet.
    /// Then the verdict.
    mutating func finish() async throws -> SimulationReport {
        for device in devices {
            device.online = true
        }
        for index in devices.indices {
            let device = devices[index]
            for guest in device.tokens.keys.sorted() where guest != device.home {
                try await signIn(index, as: guest)
                try await syncUntilQuiet(index)
            }
            if device.user != device.home {
                try await signIn(index, as: device.home)
            }
        }
        // why several rounds: a push held back by the network fault may land after a round,
        // and each device must see every other's last edits
        for _ in 0..<3 {
            for index in devices.indices {
                try await syncUntilQuiet(index)
            }
        }
        report.elapsed = ContinuousClock.now - started
        // an edit the server refused (its brief retracted and purged meanwhile) is dropped by the
        // device that made it, and shown to its reader as dropped: never taken, it is no loss
        // a drop names the device, the account, the mutation id, the brief and the action: a store
        // and its copies share a device id and mutation ids
        struct Drop: Hashable {
            var device: DeviceID
            var account: String?
            var id: UInt64
            var brief: String
            var action: String
        }
        var dropped = Set<Drop>()
        for device in devices {
            for drop in try await device.library.store.droppedMutations() {
                dropped.insert(
                    Drop(
                        device: device.library.store.deviceID,
                        account: drop.account,
                        id: drop.mutationId,
                        brief: drop.briefId,
                        action: drop.action
                    )
                )
            }
        }
        let ledger = self.ledger
        let refused = { (user: String, mutation: MutationV1) in
            let drop = Drop(
                device: mutation.stamp.device,
                account: Self.account(user).rawValue,
                id: mutation.id,
                brief: mutation.briefID.rawValue,
                action: mutation.action.name
            )
            return !ledger.took(mutation, of: user) && dropped.contains(drop)
        }
        if !dropped.isEmpty {
            ledger.count("edits refused (brief purged)", by: dropped.count)
        }
        report.faults = ledger.faultCounts
        report.fingerprint = ledger.fingerprint
        // every stamp each user's mutations were stored with, to tell a state of another account
        var stampsOf: [String: Set<HybridTimestamp>] = [:]
        var owner: [HybridTimestamp: String] = [:]
        for (user, mutations) in log {
            let stamps = mutations.filter { !refused(user, $0) }.map { admitted($0, of: user).stamp }
            stampsOf[user] = Set(stamps)
            for stamp in stamps {
                owner[stamp] = user
            }
        }
        for user in Set(devices.map(\.user)).sorted() {
            let mutations = (log[user] ?? []).filter { !refused(user, $0) }
            let expected = ConvergenceCheck.expectedStates(mutations.map { admitted($0, of: user) })
            report.conflicts +=
                Set(mutations.map { "\($0.briefID)|\($0.stamp.device)" }).count - Set(mutations.map(\.briefID)).count
            for device in devices where device.user == user {
                // the briefs it shows, each with its content (never a state for a brief it lacks)
                let held = Set(try await device.library.briefs().map(\.id))
                for id in held.sorted() where try await device.library.brief(id) == nil {
                    throw SimulationDivergence(
                        device: device.name,
                        user: user,
                        detail: "brief \(id) is listed without its content",
                        ops: report.ops
                    )
                }
                let all = Dictionary(
                    try await device.library.store.readStates().map { ($0.briefID, $0) },
                    uniquingKeysWith: { first, _ in first }
                )
                let states = all.filter { held.contains($0.key) }
                // no user sees another user's state, of a brief it shows or not
                if let leak = ConvergenceCheck.firstForeignStamp(
                    in: all,
                    own: stampsOf[user] ?? [],
                    others: owner
                ) {
                    throw SimulationDivergence(device: device.name, user: user, detail: leak, ops: report.ops)
                }
                if let divergence = ConvergenceCheck.firstDivergence(
                    expected: expected.filter { held.contains($0.key) },
                    actual: states
                ) {
                    var history = history(of: divergence, in: mutations, of: user)
                    if let id = expected.keys.first(where: { divergence.hasPrefix("brief \($0) ") }) {
                        let explained = try await device.library.explain(id)
                        history.append(
                            "on \(device.name): \(explained.pending.count) pending, confirmed "
                                + (explained.confirmedAt.map {
                                    "at \($0): \(explained.confirmed.map { "\($0)" } ?? "")"
                                }
                                    ?? "never")
                        )
                    }
                    throw SimulationDivergence(
                        device: device.name,
                        user: user,
                        detail: divergence,
                        ops: report.ops,
                        history: history
                    )
                }
            }
        }
        return report
    }

    /// The user's last mutations of the brief a divergence names, oldest first, each with the
    /// device that made it and when the server took it.
    private func history(of divergence: String, in mutations: [MutationV1], of user: String) -> [String] {
        let named = mutations.filter { divergence.hasPrefix("brief \($0.briefID) ") }
        return named.suffix(12).map { mutation in
            let maker = makers[mutation] ?? "?"
            let taken =
                ledger.took(mutation, of: user)
                ? ledger.appliedAt(mutation.stamp, of: user).map { "taken at \($0)" } ?? "taken" : "never taken"
            return "\(mutation.action.name) \(mutation.action.value.map { "\($0) " } ?? "")by \(maker) "
                + "at \(mutation.stamp), \(taken)"
        }
    }

    /// The mutation as the server keeps it: its stamp admitted through the clock-skew bound at
    /// the time the server first took it.
    private func admitted(_ mutation: MutationV1, of user: String) -> MutationV1 {
        guard let at = ledger.appliedAt(mutation.stamp, of: user) else {
            return mutation  // never taken: the verdict will show it missing
        }
        var mutation = mutation
        mutation.stamp = server.skew.admit(mutation.stamp, receivedAt: at)
        return mutation
    }

    // MARK: Operations

    private mutating func edit(_ index: Int) async throws {
        let device = devices[index]
        guard let brief = try await device.briefs().randomElement(using: &generator) else {
            return
        }
        let actions: [ReadAction] = [
            .markRead, .markUnread, .save, .unsave, .open,
            .progress(Double(Int.random(in: 0...20, using: &generator)) / 20),
            .restartProgress(Double(Int.random(in: 0...4, using: &generator)) / 20),
        ]
        let action = actions[Int.random(in: 0..<actions.count, using: &generator)]
        let mutation = try await device.library.store.record(action, on: brief.id, now: device.clock.now())
        log[device.user, default: []].append(mutation)
        makers[mutation] = device.name
        report.edits += 1
    }

    mutating func sync(_ index: Int) async throws {
        guard devices[index].online else {
            return
        }
        report.syncs += 1
        defer { devices[index].changed() }
        do {
            try await noteStartingOver(devices[index].library.sync())
        } catch let error as SyncError where error.kind == .offline {
            report.failedSyncs += 1  // lost on the way, or a busy server: the changes stay queued
        }
    }

    /// Counts a sync that found its token expired and started over (the `expiry` fault at work).
    private func noteStartingOver(_ sync: SyncReport) {
        if sync.fullResync {
            ledger.count("tokens expired (started over)")
        }
    }

    /// Syncs until a sync goes through with nothing left to push.
    mutating func syncUntilQuiet(_ index: Int) async throws {
        defer { devices[index].changed() }
        for _ in 0..<50 {
            report.syncs += 1
            do {
                try await noteStartingOver(devices[index].library.sync())
                if try await devices[index].library.status().pendingMutations == 0 {
                    return
                }
            } catch let error as SyncError where error.kind == .offline {
                report.failedSyncs += 1
            }
        }
        throw SimulationError(
            "\(devices[index].name) could not sync in 50 attempts: the server refuses or is unreachable (see its log)"
        )
    }

    private mutating func changeFollowing(_ index: Int) async throws {
        let device = devices[index]
        guard let token = device.tokens[device.user],
            let topic = try await server.topics(token: token).randomElement(using: &generator)
        else {
            return
        }
        try await server.setFollowing(topic.id, !topic.followed, token: token)
        report.followChanges += 1
    }

    /// The publisher: a new day's brief now and then (always while fewer than a dozen are live,
    /// so that retractions never empty the server on a long run), a retraction, or most often a
    /// correction, of a brief as device 0 last saw it (so possibly one retracted, or purged,
    /// since: a publisher's view lags too).
    private mutating func correctOrRetract() async throws {
        let live = try await devices[0].briefs().filter { !$0.isRetracted }
        let roll = Int.random(in: 0..<4, using: &generator)
        if live.count < 12 || (roll == 0 && live.count < 40) {
            report.publisherChanges += try await server.publish(newBrief()) ? 1 : 0
            return
        }
        guard let summary = live.randomElement(using: &generator),
            var brief = try await devices[0].library.brief(summary.id)?.brief
        else {
            return
        }
        let changed: Bool
        if roll == 1 {
            changed = try await server.retract(brief.id)
        } else {
            brief.title = String(brief.title.prefix(200)) + " (corrected \(report.publisherChanges + 1))"
            changed = try await server.publish(brief)
        }
        report.publisherChanges += changed ? 1 : 0
    }

    /// The next new day's brief: one per template a day, after the newest the server started with.
    private mutating func newBrief() -> Brief {
        let template = templates[published % templates.count]
        let days = 1 + published / templates.count
        published += 1
        var brief = template
        brief.id = BriefID(rawValue: "\(template.id.rawValue.prefix(90))-n\(published)") ?? template.id
        brief.date =
            CalendarDate(daysSinceEpoch: (templates.last?.date ?? template.date).daysSinceEpoch + days)
            ?? template.date
        return brief
    }
}

/// A device's clock: the server's, off by an offset that drifts (the `skew` fault).
final class DeviceClock: @unchecked Sendable {
    private let server: any SimulationServer
    private let lock = NSLock()
    private var offset: Int64

    init(server: any SimulationServer, offset: Int64) {
        self.server = server
        self.offset = offset
    }

    func now() -> Int64 { server.now() + lock.withLock { offset } }

    func drift(by milliseconds: Int64) {
        lock.withLock { offset += milliseconds }
    }
}
