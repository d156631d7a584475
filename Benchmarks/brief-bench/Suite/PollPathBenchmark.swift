import ArgumentParser
import BriefModel
import BriefServer
import Foundation
import NIOCore

/// Figure 9: what answering up-to-date polls on the event loop (``UpToDatePollHandler``) saves
/// against the route answering them (`--event-loop-polls off`), with devices that poll and with
/// devices that long-poll. Both paths give the same answers (the responder decides for both);
/// this measures only their cost, each side in a fresh server, in the same run.
struct PollPathBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "poll-path",
        abstract: "Up-to-date polls and long-polls answered on the event loop against the route alone."
    )
    @OptionGroup var options: SuiteOptions
    @Option(help: "Devices long-polling with wait=1, cycling at each deadline.") var longPollers = 1_000
    @Option(help: "Long-polls held for the memory figure.") var held = 5_000

    func run() async throws {
        ResultRow.printTable(try await measure())
    }

    private struct Figures {
        var polls: [Double] = []
        var cyclesPerSecond: [Double] = []
        var cpuPerCycle: [Double] = []
        var bytesPerHeld = 0.0
        var kind = ""
    }

    func measure() async throws -> [ResultRow] {
        let limit = Bench.raiseFileLimit()
        let devices = options.scaled(longPollers, tiny: 20)
        let holding = options.scaled(held, tiny: 20)
        guard max(devices, holding) + 100 <= limit else {
            throw BenchError("the open-file limit (\(limit)) is too low for \(max(devices, holding)) connections")
        }
        var on = Figures()
        var off = Figures()
        for _ in 0..<options.repeats {
            try await measure(into: &on, eventLoop: true, devices: devices)
            try await measure(into: &off, eventLoop: false, devices: devices)
        }
        on.bytesPerHeld = try await memoryPerHeld(eventLoop: true, count: holding)
        off.bytesPerHeld = try await memoryPerHeld(eventLoop: false, count: holding)
        let (polls, offPolls) = (Sample(values: on.polls), Sample(values: off.polls))
        let (cycles, offCycles) = (Sample(values: on.cyclesPerSecond), Sample(values: off.cyclesPerSecond))
        let (cpu, offCPU) = (Sample(values: on.cpuPerCycle), Sample(values: off.cpuPerCycle))
        let route = "the route alone (--event-loop-polls off)"
        return [
            ResultRow(
                benchmark: "9. up-to-date polls/s answered on the event loop (\(options.connections) connections)",
                store: on.kind,
                figure: polls.description,
                reference: "\(route): \(offPolls)",
                ratio: format(polls.median / offPolls.median)
            ),
            ResultRow(
                benchmark: "9. long-poll cycles/s, \(devices) devices with wait=1",
                store: on.kind,
                figure: cycles.description,
                reference: "\(route): \(offCycles)",
                ratio: format(cycles.median / offCycles.median)
            ),
            ResultRow(
                benchmark: "9. server CPU per long-poll cycle (µs), \(devices) devices with wait=1",
                store: on.kind,
                figure: cpu.description,
                reference: "\(route): \(offCPU)",
                ratio: format(cpu.median / offCPU.median)
            ),
            ResultRow(
                benchmark: "9. server memory per held long-poll (bytes), \(holding) held",
                store: on.kind,
                figure: format(on.bytesPerHeld),
                reference: "\(route): \(format(off.bytesPerHeld))",
                ratio: format(on.bytesPerHeld / off.bytesPerHeld)
            ),
        ]
    }

    private func fixture(eventLoop: Bool) async throws -> Fixture {
        try await Fixture.start(
            eventLoop ? "poll-path-on" : "poll-path-off",
            postgres: options.postgres,
            briefs: 3,
            serverArguments: ["--event-loop-polls", eventLoop ? "on" : "off"]
        )
    }

    /// Polls under wrk, then long-polls cycling at their deadline, on a fresh server.
    private func measure(into figures: inout Figures, eventLoop: Bool, devices: Int) async throws {
        let fixture = try await fixture(eventLoop: eventLoop)
        do {
            figures.kind = fixture.database.kind
            let token = try await Bench.login(fixture.server)
            let since = try await Bench.upToDateToken(fixture.server, token: token)
            let headers = ["Authorization: Bearer \(token)", "\(WireProtocol.header): \(WireProtocol.version)"]
            // one user, one cap: the long-pollers stand for many devices of a large account
            let url = fixture.server + "/v1/changes?since=\(since)"
            let polls = try Wrk.run(url, connections: options.connections, seconds: options.seconds, headers: headers)
            let server = fixture.instances[0]
            let before = server.cpuSeconds
            // why 3 s at least: each device answers once a second, at its deadline
            let seconds = max(options.seconds, 3)
            let cycles = try Wrk.run(url + "&wait=1", connections: devices, seconds: seconds, headers: headers)
            let used = server.cpuSeconds - before
            guard polls.errors == 0, cycles.errors == 0 else {
                throw BenchError("\(polls.errors + cycles.errors) polls failed (event-loop polls \(eventLoop))")
            }
            figures.polls.append(polls.requestsPerSecond)
            figures.cyclesPerSecond.append(cycles.requestsPerSecond)
            figures.cpuPerCycle.append(used / (cycles.requestsPerSecond * Double(seconds)) * 1_000_000)
            await fixture.stop()
        } catch {
            await fixture.stop()
            throw error
        }
    }

    /// Resident memory per held long-poll, on a fresh server.
    private func memoryPerHeld(eventLoop: Bool, count: Int) async throws -> Double {
        let fixture = try await fixture(eventLoop: eventLoop)
        let bench = try LongPollBenchmark.parse(["--count", String(count)])
        var channels: [any Channel] = []
        do {
            let token = try await Bench.login(fixture.server)
            let since = try await Bench.upToDateToken(fixture.server, token: token)
            let request = try await LongPollBenchmark.longPollRequest(fixture.server, token: token, since: since)
            let held = try await bench.hold(
                count,
                on: fixture.ports[0],
                request: request,
                server: fixture.instances[0],
                heldNow: { try await bench.heldNow(fixture.server) },
                channels: &channels
            )
            bench.closeAll(&channels)
            await fixture.stop()
            guard held.held == count else {
                throw BenchError("\(held.held) of \(count) long-polls held (event-loop polls \(eventLoop))")
            }
            return held.bytesPerHeld
        } catch {
            bench.closeAll(&channels)
            await fixture.stop()
            throw error
        }
    }
}
