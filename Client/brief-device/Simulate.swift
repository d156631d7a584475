import ArgumentParser
import BriefClient
import BriefHTTP
import BriefModel
import BriefServer
import BriefSimulation
import Foundation

/// `brief-device simulate`: many devices in one process, editing at random, with faults,
/// against a server; at the end every device of a user must show the merge of all that user's
/// mutations. The engine is ``Simulation`` (BriefSimulation); this parses and reports.
struct Simulate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate devices editing concurrently, with faults, then check they all converge.",
        discussion: """
            N devices (stores in memory) of U users perform M random operations (read, unread, save, \
            unsave, progress, restart, open, follow changes, going offline and back, syncing) against \
            the server, while new briefs are published and others corrected and retracted (in process, or \
            with --publisher-key). \
            --faults injects what phones meet: network (requests and answers lost, requests duplicated, \
            pushes delivered late, after newer ones), skew (clocks off by up to ±6 hours, drifting), \
            crash (a device dies mid-sync), copy (a store restored onto another phone), switch (accounts \
            changing on a phone), restart (the server: in process, or the child brief-server killed and \
            started again; with neither --server nor --in-process the simulator starts one), and expiry \
            (tombstones purged: in process, or by the child brief-server after two seconds). At \
            the end every device syncs until quiet, and each user's devices must show the merge of all \
            that user's mutations, computed from the log alone. A divergence exits 6, naming the device, \
            the brief and the field, and (in process) the first operation after which the run diverges, \
            with the command that replays it (--replay K: the same run, stopped after its operation K, \
            then the verdict). Seeded: the same --seed replays the same run, which the summary's \
            fingerprint shows.
            """
    )

    @Option(
        help: "The server, such as http://127.0.0.1:8080 (default: a brief-server started as a child process)."
    )
    var server: String?
    @Flag(help: "Run the server in this process, on in-memory SQLite, through its router.") var inProcess = false
    @Option(
        help: ArgumentHelp(
            "The brief-server to start when neither --server nor --in-process is given.",
            discussion: "Default: the brief-server next to this brief-device.",
            valueName: "PATH"
        )
    )
    var serverExecutable: String?
    @Option(help: "How many devices.") var devices: Int
    @Option(help: "How many random operations in all.") var ops: Int
    @Option(help: "How many users share the devices.") var users = 1
    @Option(help: "The seed (default: random, printed).") var seed: UInt64?
    @Option(
        help: ArgumentHelp(
            "Replay the run given by the other options up to its operation K, then give the verdict.",
            discussion: "A divergence prints the command with the first K after which the run diverges.",
            valueName: "K"
        )
    )
    var replay: Int?
    @Option(help: "Faults to inject: network, skew, expiry, crash, copy, switch, restart, or all (comma-separated).")
    var faults = ""
    @Option(help: "The publisher key, to correct and retract briefs on --server during the run.")
    var publisherKey: String?
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
        if let replay, !(1...max(1, ops)).contains(replay) {
            throw ValidationError("--replay K needs 1 ≤ K ≤ --ops")
        }
        guard server == nil || !inProcess else {
            throw ValidationError("give --server URL or --in-process, not both")
        }
        do {
            _ = try SimulationFault.parse(faults)
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() async throws {
        let plan = SimulationPlan(
            seed: seed ?? UInt64.random(in: 0...999_999),
            devices: devices,
            users: users,
            ops: replay ?? ops,
            faults: try SimulationFault.parse(faults)
        )
        let target = inProcess ? "in process" : server.map { "against " + $0 } ?? "against a child brief-server"
        print(
            "Simulating \(devices) devices of \(users) user(s) \(target), seed \(plan.seed)"
                + (replay.map { ", replaying operations 1…\($0) of \(ops)" } ?? "")
        )
        do {
            let report = try await run(plan)
            print(Self.summary(report))
        } catch let divergence as SimulationDivergence {
            Terminal.error("brief-device simulate: divergence: \(divergence)")
            try await reportFirstDivergence(plan)
            throw ExitCode(6)
        } catch let error as SimulationError {
            Terminal.error("brief-device simulate: \(error.description) (seed \(plan.seed))")
            throw ExitCode(1)
        } catch {
            let failure = explain(error)
            Terminal.error("brief-device simulate: \(failure.message) (seed \(plan.seed))")
            throw ExitCode(failure.code)
        }
    }

    /// Runs the plan; with `reporting`, a line on standard error every 100,000 operations.
    private func run(_ plan: SimulationPlan, reporting: Bool = true) async throws -> SimulationReport {
        let progress = reporting ? Self.progress(since: .now) : nil
        if inProcess {
            return try await InProcessSimulationServer.run(briefs: try Self.exampleBriefs()) { server in
                try await Simulation.run(plan, on: server, progress: progress)
            }
        }
        guard let server else {
            return try await ChildProcessSimulationServer.run(
                executable: try serverExecutableURL(),
                briefs: try Self.exampleBriefs(),
                expiry: plan.faults.contains(.expiry),
                requester: try HTTPStack.requester(trusting: nil)
            ) { server in
                try await Simulation.run(plan, on: server, progress: progress)
            }
        }
        guard let url = URL(string: server) else {
            throw ValidationError("--server \(server) is not a URL")
        }
        return try await Simulation.run(
            plan,
            on: HTTPSimulationServer(
                baseURL: url,
                requester: try HTTPStack.requester(trusting: caFile ?? HTTPStack.environmentCAFile),
                allowInsecureHTTP: allowInsecureHTTP,
                publisherKey: publisherKey
            ),
            progress: progress
        )
    }

    /// Prints how many operations are done, and at what rate, for a long run.
    private static func progress(since start: ContinuousClock.Instant) -> (Int) -> Void {
        { done in
            let seconds = (ContinuousClock.now - start) / .seconds(1)
            Terminal.error("… \(done) operations in \(Int(seconds)) s (\(Int(Double(done) / max(seconds, 0.001)))/s)")
        }
    }

    /// `--server-executable`, or the brief-server beside this executable.
    private func serverExecutableURL() throws -> URL {
        if let serverExecutable {
            return URL(fileURLWithPath: serverExecutable)
        }
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("brief-server")
        guard FileManager.default.isExecutableFile(atPath: beside.path) else {
            throw CLIError(
                "no brief-server beside this brief-device (\(beside.path)): build it, or give --server-executable, --server or --in-process"
            )
        }
        return beside
    }

    /// In process, the first operation after which the run diverges (each probe a fresh server),
    /// and the command that replays the run up to there.
    private func reportFirstDivergence(_ plan: SimulationPlan) async throws {
        var command = ["brief-device simulate"]
        command += inProcess ? ["--in-process"] : server.map { ["--server", $0] } ?? []
        command += ["--devices", String(devices), "--users", String(users), "--seed", String(plan.seed)]
        if !plan.faults.isEmpty {
            command += ["--faults", plan.faults.sorted().map(\.rawValue).joined(separator: ",")]
        }
        command += ["--ops", String(ops)]
        if let replay {
            Terminal.error("diverged replaying operations 1…\(replay) of the run (seed \(plan.seed))")
            return
        }
        guard inProcess else {
            // a real server keeps the first run's state: a replay needs a fresh one; and its clock
            // is the machine's, so a replay is the same run only in process
            Terminal.error(
                "replay on a fresh server: \((command + ["--replay", String(plan.ops)]).joined(separator: " "))"
            )
            return
        }
        let first = try await Simulation.firstDivergingOps(plan) { probe in try await run(probe, reporting: false) }
        guard let first else {
            Terminal.error("a replay of all \(plan.ops) operations converged: the divergence depends on timing")
            return
        }
        Terminal.error("first divergence after operation \(first) (of \(plan.ops)), seed \(plan.seed)")
        Terminal.error("replay: \((command + ["--replay", String(first)]).joined(separator: " "))")
    }

    static func summary(_ report: SimulationReport) -> String {
        let faults =
            report.faults.isEmpty
            ? "no faults injected"
            : "faults injected: "
                + report.faults.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
                .joined(separator: ", ")
        return "OK: \(report.ops) operations, \(report.edits) edits, \(report.syncs) syncs "
            + "(\(report.failedSyncs) failed and retried), \(report.offlinePeriods) offline periods, "
            + "\(report.followChanges) follow changes, \(report.publisherChanges) publisher changes, "
            + "\(max(0, report.conflicts)) conflicting edits merged, in "
            + "\(report.elapsed.formatted(.units(allowed: [.seconds, .milliseconds]))) "
            + "(\(Int(report.rate)) operations/s); \(faults); run fingerprint "
            + String(report.fingerprint, radix: 16) + ". "
            + "Every device of every user shows the merge of that user's \(report.edits) mutations."
    }

    /// What an in-process server starts with: a dozen briefs made from the example briefs of
    /// `Schema/examples` (those of `brief-server serve --demo`), on consecutive days.
    static func exampleBriefs() throws -> [Brief] {
        guard let examples = try ExampleBriefs.load() else {
            throw CLIError("--in-process reads Schema/examples/: run it from the repository's folder")
        }
        return SimulationBriefs.make(from: examples, count: 12)
    }
}
