import ArgumentParser
import BriefClient
import BriefHTTP
import BriefModel
import BriefStore
import Foundation

/// Where the password comes from: --password, $BRIEFSYNC_PASSWORD, or standard input.
struct CredentialOptions: ParsableArguments {
    @Option(help: "The server, such as http://127.0.0.1:8080.") var server: String
    @Option(help: "The username.") var user: String
    @Option(help: "The password (prefer $BRIEFSYNC_PASSWORD or --password-stdin: a command line is visible to others).")
    var password: String?
    @Flag(help: "Read the password from the first line of standard input.") var passwordStdin = false

    func resolvedPassword() throws -> String {
        if let password {
            return password
        }
        if passwordStdin {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw CLIError("no password on standard input")
            }
            return line
        }
        if let password = ProcessInfo.processInfo.environment["BRIEFSYNC_PASSWORD"] {
            return password
        }
        throw CLIError("give a password with --password, $BRIEFSYNC_PASSWORD or --password-stdin")
    }

    func serverURL(allowingInsecureHTTP: Bool) throws -> URL {
        guard let url = URL(string: server), let scheme = url.scheme, ["http", "https"].contains(scheme),
            let host = url.host
        else {
            throw CLIError("--server \(server) is not an http:// or https:// address")
        }
        if scheme == "http" && !allowingInsecureHTTP && !LoopbackHost.contains(host) {
            throw CLIError(
                "--server \(server) is plain HTTP to another machine: the password and session would cross the "
                    + "network unencrypted. Use https://, or add --allow-insecure-http."
            )
        }
        return url
    }
}

struct Register: DeviceCommand {
    static let configuration = CommandConfiguration(abstract: "Create an account and log this device in.")
    @ParentCommand var device: BriefDevice
    @OptionGroup var credentials: CredentialOptions

    func execute(_ home: DeviceHome) async throws {
        let (session, server, outcome) = try await credentials.startSession(for: home, registering: true)
        print("Registered \(session.username); this device (\(session.deviceId)) is logged in to \(server).")
        outcome.report()
    }
}

struct Login: DeviceCommand {
    static let configuration = CommandConfiguration(abstract: "Log this device in.")
    @ParentCommand var device: BriefDevice
    @OptionGroup var credentials: CredentialOptions

    func execute(_ home: DeviceHome) async throws {
        let (session, server, outcome) = try await credentials.startSession(for: home, registering: false)
        print("Logged in as \(session.username) on \(server) (device \(session.deviceId)).")
        outcome.report()
    }
}

extension CredentialOptions {
    /// Registers or logs in the home's device, saves the session there and signs its account in
    /// on the store (sealing the queue of the account logged in before, if another).
    func startSession(for home: DeviceHome, registering: Bool) async throws -> (
        SessionV1, server: String, SignInOutcome
    ) {
        let library = try await home.library()
        let deviceID = library.store.deviceID
        let url = try serverURL(allowingInsecureHTTP: home.allowInsecureHTTP)
        let caFile = home.trustedCAFile(for: nil)
        let client = BriefServiceClient(
            baseURL: url,
            requester: try HTTPStack.requester(trusting: caFile),
            allowInsecureHTTP: home.allowInsecureHTTP
        )
        let (password, name) = (try resolvedPassword(), ProcessInfo.processInfo.hostName)
        let session =
            registering
            ? try await client.register(username: user, password: password, deviceID: deviceID, deviceName: name)
            : try await client.login(username: user, password: password, deviceID: deviceID, deviceName: name)
        let saved = DeviceHome.Session(
            server: url.absoluteString,
            username: session.username,
            token: session.token,
            caFile: home.caFile,
            allowInsecureHTTP: home.allowInsecureHTTP ? true : nil
        )
        // why the store first: were the process to die between the two, the old session would
        // still name the account whose queue the store holds
        let outcome = try await library.store.signIn(saved.account, now: library.now())
        try home.save(saved)
        return (session, url.absoluteString, outcome)
    }
}

extension SignInOutcome {
    /// Says what signing in did to queued changes, when it did something.
    func report() {
        if let sealed {
            print("The changes \(sealed.username) queued here are kept for when \(sealed.username) logs in again.")
        }
        if resumedMutations > 0 {
            print("\(resumedMutations) change(s) queued before logging out will be sent by the next sync.")
        }
    }
}

struct Logout: DeviceCommand {
    static let configuration = CommandConfiguration(
        abstract: "End this device's session, online or offline.",
        discussion: """
            Briefs stay on the device. The account's queued changes and reading state are sealed: \
            they are sent when the same account logs in here again, and never under another account. \
            --discard drops them instead.
            """
    )
    @ParentCommand var device: BriefDevice
    @Flag(help: "Drop the account's queued changes and reading state from this device; they are never sent.")
    var discard = false

    func execute(_ home: DeviceHome) async throws {
        let session = try home.session()
        let outcome = try await home.library().signOut(discardingPending: discard)
        do {
            try await home.serviceClient(for: session).logout(token: session.token)
        } catch {
            Terminal.error(
                "brief-device: the server was not told (\(explain(error).message)); the session is forgotten here"
            )
        }
        home.forgetSession()
        if outcome.discardedMutations > 0 {
            print("Logged out. Discarded \(outcome.discardedMutations) queued change(s) of \(session.username).")
        } else if outcome.sealedMutations > 0 {
            print(
                "Logged out. \(outcome.sealedMutations) queued change(s) of \(session.username) are kept, "
                    + "and sent when \(session.username) logs in here again."
            )
        } else {
            print("Logged out.")
        }
    }
}
