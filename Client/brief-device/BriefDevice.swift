import ArgumentParser
import BriefClient
import BriefModel
import BriefStore
import Foundation

@main
struct BriefDevice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "brief-device",
        abstract: "A BriefSync device in a terminal: each --home folder is one device with its own store and session.",
        discussion: """
            Reading and editing work offline; edits are queued and the next sync sends them.
            Exit codes: 0 ok, 1 bad input, 2 local trouble, 3 login needed, 4 server unreachable \
            (changes kept), 5 refused by the server, 6 divergence found by simulate.
            """,
        subcommands: [
            Register.self, Login.self, Logout.self, Sync.self, List.self, Show.self, Read.self, Unread.self,
            Save.self, Unsave.self, Progress.self, Search.self, Topics.self, Subscribe.self, Unsubscribe.self,
            Status.self, Explain.self, Sessions.self, FeedKey.self, Revoke.self, Passwd.self, DeleteAccount.self,
            Simulate.self,
            Render.self,
            Validate.self,
        ]
    )

    @OptionGroup var global: GlobalOptions
}

/// The options every device command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "The device's folder (default: $BRIEFSYNC_HOME or ~/.briefsync).")
    var home: String?

    @Option(name: .long, help: "Keep only briefs of the last N days, plus saved ones (default: keep all).")
    var keepDays: Int?

    @Option(
        name: .customLong("ca-file"),
        help: """
            A PEM file of a private CA to trust besides the system's, for a server whose certificate \
            it signed (default: $SSL_CERT_FILE); remembered by login. Verification is always on.
            """
    )
    var caFile: String?

    @Flag(
        name: .customLong("allow-insecure-http"),
        help: "Allow http:// to a server that is not on this machine (the session crosses the network unencrypted)."
    )
    var allowInsecureHTTP = false
}

/// A command that acts on one device home and reports failures in one line with an exit code.
protocol DeviceCommand: AsyncParsableCommand {
    var device: BriefDevice { get }
    func execute(_ home: DeviceHome) async throws
}

extension DeviceCommand {
    func run() async throws {
        do {
            try await execute(
                DeviceHome(
                    path: device.global.home,
                    keepDays: device.global.keepDays,
                    caFile: device.global.caFile,
                    allowInsecureHTTP: device.global.allowInsecureHTTP
                )
            )
        } catch let exit as ExitCode {
            throw exit
        } catch {
            let failure = explain(error)
            Terminal.error("brief-device: \(failure.message)")
            throw ExitCode(failure.code)
        }
    }
}

/// Parses a brief id argument, or fails with a clear message.
func briefID(_ text: String) throws -> BriefID {
    guard let id = BriefID(rawValue: text) else {
        throw CLIError(
            "\"\(text)\" is not a brief id: \(Identifier.problem(with: text, maxLength: BriefID.maxLength) ?? "invalid")"
        )
    }
    return id
}
