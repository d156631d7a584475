import ArgumentParser
import BriefClient
import BriefHTTP
import BriefModel
import BriefStore
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Many devices in one process, editing at random with offline periods, against a running
/// server; at the end every device of a user must show the merge of all that user's mutations.
struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate devices editing concurrently, then check they all converge.",
        discussion: """
            N devices (stores in memory) of U users perform M random operations (read, unread, save, \
            unsave, progress, restart, open, follow changes, going offline and back, syncing) against \
            the server. With --publisher-key, briefs are also corrected and retracted meanwhile. At the \
            end every device syncs, and each user's devices must show the merge of all that user's \
            mutations, computed independently from the log. Exits 6 naming the first divergence. \
            Seeded: the same --seed replays the same operations.
            """
    )

    @Option(help: "The server, such as http://127.0.0.1:8080.") var server: String
    @Option(help: "How many devices.") var devices: Int
    @Option(help: "How many random operations in all.") var ops: Int
    @Option(help: "How many users share the devices.") var users = 1
    @Option(help: "The seed (default: random, printed).") var seed: UInt64?
    @Option(help: "The publisher key, to correct and retract briefs during the run.") var publisherKey: String?
    @Option(
        name: .customLong("ca-file"),
        help: "A PEM file of a private CA to trust besides the system's (default: $SSL_CERT_FILE)."
    )
    var caFile: String?
    @Flag(
        name: .customLong("allow-insecure-http"),
        help: "Allow an http:// --server that is not on this machine."
    )
    var allowInsecureHTTP = false

    func validate() throws {
        guard devices >= 1, users >= 1, users <= devices, ops >= 0 else {
            throw ValidationError("need 1 ≤ --users ≤ --devices and --ops ≥ 0")
        }
    }

    func run() async throws {
        let seed = self.seed ?? UInt64.random(in: 0...999_999)
        guard let url = URL(string: server) else {
            throw ValidationError("--server \(server) is not a URL")
        }
        do {
            var run = try await SimulationRun(
                server: url,
                seed: seed,
                devices: devices,
                users: users,
                publisherKey: publisherKey,
                requester: try HTTPStack.requester(trusting: caFile ?? HTTPStack.environmentCAFile),
                allowInsecureHTTP: allowInsecureHTTP
            )
            try await run.perform(ops: ops)
            try await run.finish()
        } catch let failure as CLIError {
            Terminal.error("brief-device simulate: \(failure.message) (replay with --seed \(seed))")
            throw ExitCode(failure.code)
        } catch {
            let failure = explain(error)
            Terminal.error("brief-device simulate: \(failure.message) (replay with --seed \(seed))")
            throw ExitCode(failure.code)
        }
    }
}

/// The state of one simulation.
struct SimulationRun {
    struct Device {
        var name: String
        var user: String
        var token: String
        var library: BriefLibrary
        var online = true
    }

    let server: URL
    let seed: UInt64
    let publisherKey: String?
    let requester: any HTTPRequester
    let allowInsecureHTTP: Bool
    var generator: SeededRandomGenerator
    var devices: [Device] = []
    var log: [String: [MutationV1]] = [:]
    var counts = (edits: 0, syncs: 0, failedSyncs: 0, offline: 0, follows: 0, publishes: 0)
    let started = ContinuousClock.now

    init(
        server: URL,
        seed: UInt64,
        devices count: Int,
        users: Int,
        publisherKey: String?,
        requester: any HTTPRequester,
        allowInsecureHTTP: Bool
    ) async throws {
        self.allowInsecureHTTP = allowInsecureHTTP
        self.server = server
        self.seed = seed
        self.publisherKey = publisherKey
        self.requester = requester
        generator = SeededRandomGenerator(seed: seed)
        let client = BriefServiceClient(baseURL: server, requester: requester, allowInsecureHTTP: allowInsecureHTTP)
        let password = "simulated-password-\(seed)"
        for index in 0..<count {
            let user = "sim-\(seed)-u\(index % users)"
            let id = DeviceID(rawValue: "sim-\(seed)-d\(index)-\(UInt32.random(in: 0...UInt32.max))")!
            let session: SessionV1
            if index < users {
                do {
                    session = try await client.register(username: user, password: password, deviceID: id)
                } catch let error as TransportError where error.kind == .status(409) {
                    session = try await client.login(username: user, password: password, deviceID: id)
                }
            } else {
                session = try await client.login(username: user, password: password, deviceID: id)
            }
            let library = try BriefLibrary.inMemory(deviceID: id, configuration: Self.libraryConfiguration)
            try await library.signIn(
                AccountID(server: server.absoluteString, username: session.username),
                transport: HTTPSyncTransport(
                    baseURL: server,
                    sessionToken: session.token,
                    requester: requester,
                    allowInsecureHTTP: allowInsecureHTTP
                )
            )
            devices.append(Device(name: "d\(index)", user: user, token: session.token, library: library))
        }
        for device in devices {
            try await device.library.sync()
        }
        guard try await !devices[0].library.briefs().isEmpty else {
            throw CLIError("the server has no briefs to read: start it with --demo, or publish some first", code: 1)
        }
        print("Simulating \(count) devices of \(users) user(s) against \(server.absoluteString), seed \(seed)")
    }

    static var libraryConfiguration: BriefLibrary.Configuration {
        var configuration = BriefLibrary.Configuration()
        configuration.keepDays = nil
        return configuration
    }

    mutating func perform(ops: Int) async throws {
        for _ in 0..<ops {
            let index = Int.random(in: 0..<devices.count, using: &generator)
            let roll = Int.random(in: 0..<100, using: &generator)
            switch roll {
            case 0..<10:
                devices[index].online.toggle()
                counts.offline += devices[index].online ? 0 : 1
            case 10..<25:
                try await sync(index)
            case 25..<28:
                try await changeFollowing(index)
            case 28..<31 where publisherKey != nil:
                try await correctOrRetract()
            default:
                try await edit(index)
            }
        }
    }

    mutating func finish() async throws {
        for index in devices.indices {
            devices[index].online = true
        }
        for _ in 0..<2 {
            for index in devices.indices {
                try await sync(index)
            }
        }
        let elapsed = ContinuousClock.now - started
        var conflicts = 0
        for user in Set(devices.map(\.user)).sorted() {
            let expected = ConvergenceCheck.expectedStates(log[user] ?? [])
            conflicts +=
                Set((log[user] ?? []).map { "\($0.briefID)|\($0.stamp.device)" }).count
                - Set((log[user] ?? []).map(\.briefID)).count
            for device in devices where device.user == user {
                let states = Dictionary(
                    uniqueKeysWithValues: try await device.library.store.readStates().map { ($0.briefID, $0) }
                )
                if let divergence = ConvergenceCheck.firstDivergence(expected: expected, actual: states) {
                    throw CLIError("divergence on \(device.name) of \(user): \(divergence)", code: 6)
                }
            }
        }
        let edits = counts.edits
        print(
            "OK: \(edits) edits, \(counts.syncs) syncs (\(counts.failedSyncs) failed and retried), "
                + "\(counts.offline) offline periods, \(counts.follows) follow changes, \(counts.publishes) publisher changes, "
                + "\(max(0, conflicts)) conflicting edits merged (briefs edited on several devices), in \(elapsed.formatted(.units(allowed: [.seconds, .milliseconds]))). "
                + "Every device of every user shows the merge of that user's \(edits) mutations."
        )
    }

    // MARK: Operations

    private mutating func edit(_ index: Int) async throws {
        let device = devices[index]
        let held = try await device.library.briefs()
        guard let brief = held.randomElement(using: &generator) else {
            return
        }
        let actions: [ReadAction] = [
            .markRead, .markUnread, .save, .unsave, .open,
            .progress(Double(Int.random(in: 0...20, using: &generator)) / 20),
            .restartProgress(Double(Int.random(in: 0...4, using: &generator)) / 20),
        ]
        let action = actions[Int.random(in: 0..<actions.count, using: &generator)]
        let now = Int64((Date().timeIntervalSince1970 * 1000).rounded())
        let mutation = try await device.library.store.record(action, on: brief.id, now: now)
        log[device.user, default: []].append(mutation)
        counts.edits += 1
    }

    private mutating func sync(_ index: Int) async throws {
        guard devices[index].online else {
            return
        }
        counts.syncs += 1
        do {
            try await devices[index].library.sync()
        } catch let error as SyncError where error.kind == .offline {
            counts.failedSyncs += 1  // a busy server: the changes stay queued for the next round
        }
    }

    private mutating func changeFollowing(_ index: Int) async throws {
        let device = devices[index]
        let client = BriefServiceClient(baseURL: server, requester: requester, allowInsecureHTTP: allowInsecureHTTP)
        let topics = try await client.topics(token: device.token)
        guard let topic = topics.randomElement(using: &generator) else {
            return
        }
        _ = try await client.setFollowing(topic.id, !topic.followed, token: device.token)
        counts.follows += 1
    }

    private mutating func correctOrRetract() async throws {
        guard let key = publisherKey,
            let summary = try await devices[0].library.briefs().randomElement(using: &generator),
            var brief = try await devices[0].library.brief(summary.id)?.brief
        else {
            return
        }
        var request = URLRequest(url: server.appendingPathComponent("v1/briefs/\(brief.id)"))
        request.setValue("Bearer \(key)", forHTTPHeaderField: "Authorization")
        if Int.random(in: 0..<4, using: &generator) == 0 {
            request.httpMethod = "DELETE"
        } else {
            brief.title = String(brief.title.prefix(250)) + " (corrected \(counts.publishes + 1))"
            request.httpMethod = "PUT"
            request.httpBody = try WireCoding.encoder().encode(brief)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (_, response) = try await URLSession.shared.data(for: request)
        guard let http = response as? HTTPURLResponse, http.statusCode == 200 else {
            throw CLIError("the publisher key was refused", code: 5)
        }
        counts.publishes += 1
    }
}
