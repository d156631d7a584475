import BriefClient
import BriefModel
import BriefServer
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

#if canImport(Glibc)
    import Glibc
#endif

/// `brief-device` as scripts use it: the built executable, against a server on a real socket.
@Suite struct DeviceCommandTests {
    @Test func aDeviceLogsInSyncsReadsOfflineAndSendsItsChanges() async throws {
        try await LiveServer.run { url in
            let home = try TemporaryHome()
            // register, with the password from the environment
            let register = try await BriefDeviceProcess.run(
                ["--home", home.path, "register", "--server", url, "--user", "anna"],
                environment: ["BRIEFSYNC_PASSWORD": "correct horse battery"]
            )
            #expect(register.code == 0, "\(register.stderr)")

            let sync = try await BriefDeviceProcess.run(["--home", home.path, "sync", "--json"])
            #expect(sync.code == 0, "\(sync.stderr)")
            #expect(sync.json?["received"] == 2)
            #expect(sync.json?["pushed"] == 0)
            #expect(sync.json?["retracted"] == 0)

            let list = try await BriefDeviceProcess.run(["--home", home.path, "list", "--json"])
            let first = try #require(list.json?[0])
            for key in ["id", "title", "topic", "date", "isRead", "isSaved", "progress"] {
                #expect(first[key] != nil, "list --json lacks \(key)")
            }

            let read = try await BriefDeviceProcess.run(["--home", home.path, "read", "ai-tech-2026-06-26"])
            #expect(read.code == 0 && read.stdout.contains("queued"))
            let progress = try await BriefDeviceProcess.run([
                "--home", home.path, "progress", "ai-tech-2026-06-26", "0.5",
            ])
            #expect(progress.code == 0)
            let status = try await BriefDeviceProcess.run(["--home", home.path, "status", "--json"])
            #expect(status.json?["pendingMutations"] == 2)
            #expect(status.json?["briefCount"] == 2)
            #expect(status.json?["lastSyncAt"] != nil)

            let send = try await BriefDeviceProcess.run(["--home", home.path, "sync", "--json"])
            #expect(send.json?["pushed"] == 2)
            #expect(send.json?["complete"] == true)

            // a sync with a budget, as a background refresh runs it; a budget it cannot read is refused
            let budgeted = try await BriefDeviceProcess.run(["--home", home.path, "sync", "--budget", "25s", "--json"])
            #expect(budgeted.code == 0 && budgeted.json?["complete"] == true, "\(budgeted.stderr)")
            for bad in [["--budget", "soon"], ["--budget", "0s"], ["--budget", "5s", "--watch"]] {
                let refused = try await BriefDeviceProcess.run(["--home", home.path, "sync"] + bad)
                #expect(refused.code == 64 && refused.stderr.contains("budget"), "\(bad): \(refused.stderr)")
            }

            let show = try await BriefDeviceProcess.run(["--home", home.path, "show", "ai-tech-2026-06-26", "--json"])
            #expect(show.json?["brief"]?["title"] == "Anthropic warns Alibaba cloned US AI models")
            #expect(show.json?["readState"]?["isRead"] == true)
            #expect(show.json?["readState"]?["progress"] == 0.5)

            let text = try await BriefDeviceProcess.run(["--home", home.path, "show", "ai-tech-2026-06-26"])
            #expect(text.stdout.contains("Friday, June 26, 2026 · from 3 podcasts, 4 episodes"))
            #expect(!text.stdout.contains("\u{1B}["))  // not a terminal: plain text

            let search = try await BriefDeviceProcess.run(["--home", home.path, "search", "distillation", "--json"])
            #expect(search.json?[0]?["id"] == "ai-tech-2026-06-26")

            let topics = try await BriefDeviceProcess.run(["--home", home.path, "topics", "--json"])
            #expect(topics.json?[0]?["id"] == "ai-tech")
            let unsubscribe = try await BriefDeviceProcess.run(["--home", home.path, "unsubscribe", "climate"])
            #expect(unsubscribe.code == 0)
            _ = try await BriefDeviceProcess.run(["--home", home.path, "sync"])
            let after = try await BriefDeviceProcess.run(["--home", home.path, "list", "--json"])
            #expect(after.json?[0]?["id"] == "ai-tech-2026-06-26")
            #expect(after.json?[1] == nil)
        }
    }

    @Test func aCopiedHomeAndASharedHomeLoseNoEditAndMixNoAccounts() async throws {
        try await LiveServer.run { url in
            let (phone, tablet) = (try TemporaryHome(), try TemporaryHome())
            func device(_ home: TemporaryHome, _ arguments: String...) async throws -> BriefDeviceProcess.Output {
                try await BriefDeviceProcess.succeed(home, arguments, password: "correct horse battery")
            }
            func states(_ home: TemporaryHome) async throws -> [String: JSONValue] {
                let list = try await device(home, "list", "--json")
                guard case .array(let lines)? = list.json else {
                    return [:]
                }
                return Dictionary(
                    uniqueKeysWithValues: lines.compactMap { line in
                        line["id"].flatMap { if case .string(let id) = $0 { (id, line) } else { nil } }
                    }
                )
            }
            let (tech, climate) = ("ai-tech-2026-06-26", "climate-2026-06-26")
            _ = try await device(phone, "register", "--server", url, "--user", "alice")
            _ = try await device(phone, "sync")
            _ = try await device(phone, "read", tech)
            _ = try await device(phone, "sync")

            // A copy of the phone's home (a restored backup): both edit and sync
            let copy = try TemporaryHome()
            try FileManager.default.removeItem(at: copy.url)
            try FileManager.default.copyItem(at: phone.url, to: copy.url)
            _ = try await device(phone, "save", climate)
            _ = try await device(copy, "progress", tech, "0.7")
            _ = try await device(phone, "sync")
            let copied = try await device(copy, "sync", "--json")
            #expect(copied.json?["renewedIncarnation"] == true)
            #expect(copied.json?["pushed"] == 1)
            _ = try await device(tablet, "login", "--server", url, "--user", "alice")
            _ = try await device(tablet, "sync")
            var seen = try await states(tablet)
            #expect(seen[tech]?["isRead"] == true && seen[tech]?["progress"] == 0.7)
            #expect(seen[climate]?["isSaved"] == true)

            // Alice queues two edits and logs out: they are sealed, not sent, not shown to Bob
            _ = try await device(phone, "progress", climate, "0.4")
            _ = try await device(phone, "unsave", climate)
            let logout = try await device(phone, "logout")
            #expect(logout.stdout.contains("2 queued change(s) of alice are kept"))
            _ = try await device(phone, "register", "--server", url, "--user", "bob")
            let bobsSync = try await device(phone, "sync", "--json")
            #expect(bobsSync.json?["pushed"] == 0)
            let bobsView = try await states(phone)
            #expect(bobsView.count == 2)
            for line in bobsView.values {
                #expect(line["isRead"] == false && line["isSaved"] == false && line["progress"] == 0)
            }
            let status = try await device(phone, "status", "--json")
            #expect(status.json?["pendingMutations"] == 0)
            #expect(status.json?["username"] == "bob")
            guard case .array(let queues)? = status.json?["accounts"] else {
                Issue.record("status --json has no accounts: \(status.stdout)")
                return
            }
            let alices = try #require(queues.first { $0["username"] == "alice" })
            #expect(alices["pendingMutations"] == 2 && alices["loggedIn"] == false)
            #expect(alices["oldestQueuedAgeSeconds"] != nil && alices["oldestQueuedAt"] != nil)

            // Bob reads one and leaves, discarding it; Alice comes back and her edits go out
            _ = try await device(phone, "read", climate)
            let discard = try await device(phone, "logout", "--discard")
            #expect(discard.stdout.contains("Discarded 1 queued change(s) of bob"))
            let back = try await device(phone, "login", "--server", url, "--user", "alice")
            #expect(back.stdout.contains("2 change(s) queued before logging out"))
            #expect(try await device(phone, "sync", "--json").json?["pushed"] == 2)
            _ = try await device(tablet, "sync")
            seen = try await states(tablet)
            #expect(seen[climate]?["progress"] == 0.4 && seen[climate]?["isSaved"] == false)
            #expect(seen[climate]?["isRead"] == false)  // Bob's read never reached Alice
        }
    }

    @Test func aNewHomeItsStoreAndItsSessionAreTheOwnersOnly() async throws {
        try await LiveServer.run { url in
            let parent = try TemporaryHome()
            let home = parent.url.appendingPathComponent("new-home")
            let register = try await BriefDeviceProcess.run(
                ["--home", home.path, "register", "--server", url, "--user", "anna"],
                environment: ["BRIEFSYNC_PASSWORD": "correct horse battery"]
            )
            #expect(register.code == 0, "\(register.stderr)")
            func mode(_ name: String) throws -> Int? {
                let path = name.isEmpty ? home.path : home.appendingPathComponent(name).path
                return (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?
                    .intValue
            }
            #expect(try mode("") == 0o700)
            #expect(try mode("device.sqlite") == 0o600)
            #expect(try mode("session.json") == 0o600)
        }
    }

    @Test func aFeedKeyFromTheCommandLineLetsAReaderSubscribeUntilItIsRevoked() async throws {
        try await LiveServer.run { url in
            let phone = try TemporaryHome()
            _ = try await BriefDeviceProcess.succeed(
                phone,
                ["register", "--server", url, "--user", "anna"],
                password: "correct horse battery"
            )
            let made = try await BriefDeviceProcess.succeed(
                phone,
                ["feed-key", "--topic", "ai-tech", "--json"],
                password: ""
            )
            guard case .array(let feeds)? = made.json?["feeds"], case .string(let id)? = made.json?["id"] else {
                Issue.record("feed-key --json: \(made.stdout)")
                return
            }
            #expect(feeds.count == 2)
            // a reader with nothing but the address
            for case .string(let feed) in feeds {
                let (body, answer) = try await URLSession.shared.data(from: URL(string: feed)!)
                #expect((answer as? HTTPURLResponse)?.statusCode == 200, "\(feed)")
                #expect(String(decoding: body, as: UTF8.self).contains("ai-tech-2026-06-26"))
            }
            #expect(
                try await BriefDeviceProcess.succeed(phone, ["sessions"], password: "").stdout.contains("feed-reader")
            )
            _ = try await BriefDeviceProcess.succeed(phone, ["revoke", id], password: "")
            guard case .string(let feed)? = feeds.first else {
                return
            }
            let (_, revoked) = try await URLSession.shared.data(from: URL(string: feed)!)
            #expect((revoked as? HTTPURLResponse)?.statusCode == 401)
        }
    }

    @Test func sessionsAreListedRevokedAndTheAccountDeletedFromTheCommandLine() async throws {
        try await LiveServer.run { url in
            let (phone, tablet) = (try TemporaryHome(), try TemporaryHome())
            func device(_ home: TemporaryHome, _ arguments: String...) async throws -> BriefDeviceProcess.Output {
                try await BriefDeviceProcess.succeed(home, arguments, password: "correct horse battery")
            }
            _ = try await device(phone, "register", "--server", url, "--user", "anna")
            _ = try await device(tablet, "login", "--server", url, "--user", "anna")
            let listed = try await device(phone, "sessions", "--json")
            guard case .array(let sessions)? = listed.json else {
                Issue.record("sessions --json: \(listed.stdout)")
                return
            }
            #expect(sessions.count == 2)
            #expect(!listed.stdout.contains("bs1_"))  // never a token
            let other = try #require(sessions.first { $0["current"] == false })
            guard case .string(let id)? = other["id"] else {
                Issue.record("no id in \(other)")
                return
            }
            #expect(try await device(phone, "sessions").stdout.contains("← this device"))
            _ = try await device(phone, "revoke", id)
            let refused = try await BriefDeviceProcess.run(["--home", tablet.path, "sync"])
            #expect(refused.code == 3)

            // A new password logs the other devices out and is the one to log in with
            _ = try await device(tablet, "login", "--server", url, "--user", "anna")
            let changed = try await BriefDeviceProcess.run(
                ["--home", phone.path, "passwd", "--password-stdin"],
                stdin: "correct horse battery\na longer new passphrase\n"
            )
            #expect(changed.code == 0, "\(changed.stderr)")
            #expect(try await BriefDeviceProcess.run(["--home", tablet.path, "sync"]).code == 3)
            #expect(try await BriefDeviceProcess.run(["--home", phone.path, "sync"]).code == 0)

            // Deleting the account needs --yes and the password, and logs this device out
            _ = try await device(phone, "sync")
            _ = try await device(phone, "read", "ai-tech-2026-06-26")
            let unconfirmed = try await BriefDeviceProcess.run(
                ["--home", phone.path, "delete-account"],
                environment: ["BRIEFSYNC_PASSWORD": "a longer new passphrase"]
            )
            #expect(unconfirmed.code == 1 && unconfirmed.stderr.contains("--yes"))
            let deleted = try await BriefDeviceProcess.run(
                ["--home", phone.path, "delete-account", "--yes"],
                environment: ["BRIEFSYNC_PASSWORD": "a longer new passphrase"]
            )
            #expect(deleted.code == 0, "\(deleted.stderr)")
            #expect(deleted.stdout.contains("Deleted anna") && deleted.stdout.contains("1 queued change(s) discarded"))
            #expect(
                try await BriefDeviceProcess.run(["--home", phone.path, "status", "--json"]).json?["username"] == nil
            )
            let gone = try await BriefDeviceProcess.run(
                ["--home", tablet.path, "login", "--server", url, "--user", "anna"],
                environment: ["BRIEFSYNC_PASSWORD": "a longer new passphrase"]
            )
            #expect(gone.code == 3)
        }
    }

    @Test func explainSaysWhichStampWonAndWhatIsStillPending() async throws {
        try await LiveServer.run { url in
            let (phone, tablet) = (try TemporaryHome(), try TemporaryHome())
            func device(_ home: TemporaryHome, _ arguments: String...) async throws -> BriefDeviceProcess.Output {
                try await BriefDeviceProcess.succeed(home, arguments, password: "correct horse battery")
            }
            let brief = "ai-tech-2026-06-26"
            _ = try await device(phone, "register", "--server", url, "--user", "anna")
            _ = try await device(tablet, "login", "--server", url, "--user", "anna")
            _ = try await device(phone, "sync")
            _ = try await device(tablet, "sync")
            _ = try await device(tablet, "read", brief)
            _ = try await device(tablet, "sync")
            _ = try await device(phone, "sync")
            // The tablet's read is confirmed on the phone; the phone then unreads it offline
            _ = try await device(phone, "unread", brief)
            let explained = try await device(phone, "explain", brief, "--json")
            guard case .array(let fields)? = explained.json?["fields"] else {
                Issue.record("explain --json: \(explained.stdout)")
                return
            }
            let read = try #require(fields.first { $0["field"] == "read" })
            #expect(read["value"] == false && read["confirmedValue"] == true)
            let phoneID = try await device(phone, "status", "--json").json?["deviceId"]
            #expect(phoneID != nil && read["stamp"]?["device"] == phoneID)  // the phone's own unread won
            guard case .string(let rule)? = read["rule"] else {
                Issue.record("no rule in \(read)")
                return
            }
            #expect(rule.hasPrefix("mark unread is newer"))
            guard case .array(let pending)? = read["pending"] else {
                Issue.record("no pending in \(read)")
                return
            }
            #expect(pending.count == 1 && pending.first?["action"] == "unread")
            #expect(explained.json?["confirmedAt"] != nil && explained.json?["pendingMutations"] == 1)
            let text = try await device(phone, "explain", brief)
            #expect(text.stdout.contains("pending #") && text.stdout.contains("the server's: yes"))
            // After a sync nothing is pending, and the server agrees
            _ = try await device(phone, "sync")
            let synced = try await device(phone, "explain", brief, "--json")
            #expect(synced.json?["pendingMutations"] == 0)
            let unknown = try await BriefDeviceProcess.run(["--home", phone.path, "explain", "no-such-brief"])
            #expect(unknown.code == 1)
        }
    }

    @Test func errorsSayWhatToDoWithExitCodes() async throws {
        let home = try TemporaryHome()
        // Not logged in
        let notLoggedIn = try await BriefDeviceProcess.run(["--home", home.path, "sync"])
        #expect(notLoggedIn.code == 3)
        #expect(notLoggedIn.stderr.contains("not logged in"))
        // Unknown brief
        let unknown = try await BriefDeviceProcess.run(["--home", home.path, "read", "no-such-brief"])
        #expect(unknown.code == 1)
        #expect(unknown.stderr.contains("did you sync?"))
        // Progress out of range
        let range = try await BriefDeviceProcess.run(["--home", home.path, "progress", "x", "1.5"])
        #expect(range.code != 0)
        #expect(range.stderr.contains("between 0 and 1"))
        // None of them is a stack trace
        for output in [notLoggedIn, unknown, range] {
            #expect(!output.stderr.contains("Fatal error") && output.stderr.split(separator: "\n").count <= 4)
        }
    }

    @Test func unreachableServerKeepsTheChangeAndExpiredSessionsSaySo() async throws {
        let home = try TemporaryHome()
        try await LiveServer.run { url in
            _ = try await BriefDeviceProcess.run(
                ["--home", home.path, "login", "--server", url, "--user", "anna", "--password-stdin"],
                stdin: "correct horse battery\n"
            )
            let registered = try await BriefDeviceProcess.run(
                ["--home", home.path, "register", "--server", url, "--user", "anna", "--password-stdin"],
                stdin: "correct horse battery\n"
            )
            #expect(registered.code == 0, "\(registered.stderr)")
            _ = try await BriefDeviceProcess.run(["--home", home.path, "sync"])
        }
        // The server is gone: edits still work, sync says the change is kept
        let read = try await BriefDeviceProcess.run(["--home", home.path, "read", "ai-tech-2026-06-26"])
        #expect(read.code == 0)
        let offline = try await BriefDeviceProcess.run(["--home", home.path, "sync"])
        #expect(offline.code == 4)
        #expect(offline.stderr.contains("unreachable") && offline.stderr.contains("kept"))
        let status = try await BriefDeviceProcess.run(["--home", home.path, "status", "--json"])
        #expect(status.json?["pendingMutations"] == 1)

        // A new server that does not know the session
        try await LiveServer.run { url in
            var session = try JSONDecoder().decode(
                [String: String].self,
                from: Data(contentsOf: home.url.appendingPathComponent("session.json"))
            )
            session["server"] = url
            try JSONEncoder().encode(session).write(to: home.url.appendingPathComponent("session.json"))
            let expired = try await BriefDeviceProcess.run(["--home", home.path, "sync"])
            #expect(expired.code == 3)
            #expect(expired.stderr.contains("log in again"))
        }
    }

    @Test func watchSyncsOnNewsAndStopsCleanlyOnInterrupt() async throws {
        let home = try TemporaryHome()
        let server = try InProcessServer()
        var configuration = server.configuration
        configuration.port = 0
        let app = try await buildApplication(
            configuration: configuration,
            store: server.store,
            logger: Logger(label: "watch")
        )
        try await app.test(.live) { client in
            let url = "http://127.0.0.1:\(try #require(client.port))"
            let registered = try await BriefDeviceProcess.run(
                [
                    "--home", home.path, "register", "--server", url, "--user", "anna", "--password",
                    "correct horse battery",
                ])
            #expect(registered.code == 0, "\(registered.stderr)")

            // Given a device watching
            let watcher = try BackgroundProcess(["--home", home.path, "sync", "--watch"])
            defer { watcher.kill() }
            #expect(try await watcher.waitForOutput(containing: "Watching"), "\(watcher.output)")

            // When a brief is published, it arrives without another command
            let brief = try Briefs.small("b-watch")
            _ = try await client.execute(
                uri: "/v1/briefs/b-watch",
                method: .put,
                headers: [.authorization: "Bearer \(InProcessServer.publisherKey)"],
                body: ByteBuffer(bytes: try WireCoding.encoder().encode(brief))
            )
            var arrived = false
            for _ in 0..<300 where !arrived {
                try await Task.sleep(for: .milliseconds(100))
                let list = try await BriefDeviceProcess.run(["--home", home.path, "list", "--json"])
                arrived = list.json?[0]?["id"] == "b-watch"
            }
            #expect(arrived)

            // And Ctrl-C stops it cleanly, even while a long-poll is held
            // (the device holds 25-second long-polls: stopping well before that means the held
            // request was cancelled, not waited out)
            let interruptedAt = ContinuousClock.now
            watcher.interrupt()
            let status = try await watcher.exitStatus(within: .seconds(60))
            #expect(status == 0, "\(watcher.output)")
            #expect(ContinuousClock.now - interruptedAt < .seconds(15))
            #expect(watcher.output.contains("Stopped."))
        }
    }

    @Test func simulateConvergesAndReportsASummary() async throws {
        try await LiveServer.run { url in
            let run = try await BriefDeviceProcess.run([
                "simulate", "--server", url, "--devices", "4", "--ops", "120", "--users", "2", "--seed", "7",
                "--publisher-key", LiveServer.publisherKey,
            ])
            #expect(run.code == 0, "\(run.stderr)")
            #expect(run.stdout.contains("OK:") && run.stdout.contains("seed 7"))
        }
    }

    @Test func simulateInProcessInjectsFaultsAndCountsThem() async throws {
        let run = try await BriefDeviceProcess.run([
            "simulate", "--in-process", "--devices", "4", "--ops", "400", "--users", "2", "--seed", "3",
            "--faults", "network,crash,switch",
        ])
        #expect(run.code == 0, "\(run.stderr)")
        #expect(run.stdout.contains("OK: 400 operations") && run.stdout.contains("faults injected: "), "\(run.stdout)")
        // --replay K stops the same run after its operation K
        let replayed = try await BriefDeviceProcess.run([
            "simulate", "--in-process", "--devices", "4", "--ops", "400", "--users", "2", "--seed", "3",
            "--faults", "network,crash,switch", "--replay", "150",
        ])
        #expect(replayed.code == 0, "\(replayed.stderr)")
        #expect(replayed.stdout.contains("replaying operations 1…150 of 400"), "\(replayed.stdout)")
        #expect(replayed.stdout.contains("OK: 150 operations"), "\(replayed.stdout)")
        let beyond = try await BriefDeviceProcess.run([
            "simulate", "--in-process", "--devices", "2", "--ops", "10", "--replay", "11",
        ])
        #expect(beyond.code != 0 && beyond.stderr.contains("--replay K needs 1 ≤ K ≤ --ops"), "\(beyond.stderr)")
        let refused = try await BriefDeviceProcess.run([
            "simulate", "--in-process", "--devices", "2", "--ops", "1", "--faults", "gremlins",
        ])
        #expect(refused.code != 0 && refused.stderr.contains("unknown fault gremlins"), "\(refused.stderr)")
    }

    @Test func simulateStartsAChildServerWhenGivenNone() async throws {
        let run = try await BriefDeviceProcess.run([
            "simulate", "--devices", "3", "--ops", "200", "--users", "2", "--seed", "4", "--faults", "network,restart",
        ])
        #expect(run.code == 0, "\(run.stderr)")
        #expect(run.stdout.contains("against a child brief-server") && run.stdout.contains("OK: 200 operations"))
        let both = try await BriefDeviceProcess.run([
            "simulate", "--in-process", "--server", "http://127.0.0.1:1", "--devices", "2", "--ops", "1",
        ])
        #expect(both.code != 0 && both.stderr.contains("not both"), "\(both.stderr)")
        let missing = try await BriefDeviceProcess.run([
            "simulate", "--server-executable", "/nonexistent/brief-server", "--devices", "2", "--ops", "1",
        ])
        #expect(missing.code != 0 && missing.stderr.contains("/nonexistent/brief-server"), "\(missing.stderr)")
    }
}

@Suite struct ConvergenceCheckTests {
    @Test func namesTheFirstDivergingBriefAndField() {
        let device = DeviceID(rawValue: "d")!
        let id = BriefID(rawValue: "b-1")!
        let mutations = [
            MutationV1(id: 1, briefID: id, action: .markRead, stamp: HybridTimestamp(wall: 1, device: device)),
            MutationV1(id: 2, briefID: id, action: .progress(0.5), stamp: HybridTimestamp(wall: 2, device: device)),
        ]
        let expected = ConvergenceCheck.expectedStates(mutations)
        #expect(ConvergenceCheck.firstDivergence(expected: expected, actual: expected) == nil)
        let lagging = ConvergenceCheck.expectedStates(Array(mutations.prefix(1)))
        #expect(
            ConvergenceCheck.firstDivergence(expected: expected, actual: lagging)
                == "brief b-1 field progress: expected 0.5, found 0.0"
        )
    }

    /// A state carrying a stamp that none of the user's mutations has came from elsewhere: the
    /// check names the brief and, when it knows, the account it came from.
    @Test func namesAStateFromAnotherAccount() {
        let phone = DeviceID(rawValue: "phone")!
        let id = BriefID(rawValue: "b-1")!
        let mine = HybridTimestamp(wall: 1, device: phone)
        let theirs = HybridTimestamp(wall: 2, device: DeviceID(rawValue: "theirs")!)
        let state = ReadState(briefID: id).applying(.markRead, at: mine)
        #expect(ConvergenceCheck.firstForeignStamp(in: [id: state], own: [mine], others: [:]) == nil)
        let mixed = state.applying(.save, at: theirs)
        #expect(
            ConvergenceCheck.firstForeignStamp(in: [id: mixed], own: [mine], others: [theirs: "bob"])
                == "brief b-1 shows a state stamped \(theirs), from a mutation of bob"
        )
        #expect(
            ConvergenceCheck.firstForeignStamp(in: [id: mixed], own: [mine], others: [:])?
                .hasSuffix("from no mutation of any user") == true
        )
    }
}

// MARK: - Support

/// A server with the example briefs on a real socket, for the executable to reach.
enum LiveServer {
    static let publisherKey = "cli-tests-publisher-key-0123456"

    static func run(_ body: @escaping @Sendable (String) async throws -> Void) async throws {
        var configuration = ServerConfiguration()
        configuration.port = 0
        configuration.publisherKey = publisherKey
        configuration.bcryptCost = 4
        configuration.logLevel = .warning
        let store = try openStore(.sqliteInMemory)
        for brief in [try Briefs.seed(), try Briefs.example("brief-climate-2026-06-26.json")] {
            // received at a time of this century, as the Reader API's times (ot, ts) assume
            _ = try await store.publish(brief, now: 1_782_460_800_000)
        }
        let app = try await buildApplication(configuration: configuration, store: store, logger: Logger(label: "cli"))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            try await body("http://127.0.0.1:\(port)")
        }
    }
}

struct TemporaryHome {
    let url: URL
    var path: String { url.path }

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("brief-device-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
}

/// Runs the built `brief-device` (from `swift build`; `$BRIEF_DEVICE` overrides the path).
enum BriefDeviceProcess {
    struct Output: Sendable {
        var code: Int32
        var stdout: String
        var stderr: String
        var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(stdout.utf8)) }
    }

    static var executable: URL {
        if let path = ProcessInfo.processInfo.environment["BRIEF_DEVICE"] {
            return URL(fileURLWithPath: path)
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/debug/brief-device")
    }

    /// Runs `brief-device --home HOME ARGUMENTS` with `password` in `$BRIEFSYNC_PASSWORD`, and
    /// records an issue (at the caller) unless it exits 0.
    static func succeed(
        _ home: TemporaryHome,
        _ arguments: [String],
        password: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> Output {
        let output = try await run(["--home", home.path] + arguments, environment: ["BRIEFSYNC_PASSWORD": password])
        #expect(output.code == 0, "\(arguments): \(output.stderr)", sourceLocation: sourceLocation)
        return output
    }

    /// Runs on a thread of its own: the test's cooperative threads stay free for the in-process server.
    static func run(
        _ arguments: [String],
        environment: [String: String] = [:],
        stdin: String? = nil,
        executable: URL = executable
    ) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(
                    with: Result {
                        try runBlocking(arguments, environment: environment, stdin: stdin, executable: executable)
                    }
                )
            }
        }
    }

    private static func runBlocking(
        _ arguments: [String],
        environment: [String: String],
        stdin: String?,
        executable: URL
    ) throws -> Output {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        env.removeValue(forKey: "BRIEFSYNC_PASSWORD")
        environment.forEach { env[$0.key] = $0.value }
        process.environment = env
        let (out, err, input) = (Pipe(), Pipe(), Pipe())
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin {
            input.fileHandleForWriting.write(Data(stdin.utf8))
        }
        try input.fileHandleForWriting.close()
        // Both pipes are drained at once: a child that fills one while the other is read would block.
        let errorText = OutputBuffer()
        let errorRead = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            errorText.append(err.fileHandleForReading.readDataToEndOfFile())
            errorRead.signal()
        }
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        errorRead.wait()
        let stderr = errorText.data
        return Output(
            code: process.terminationStatus,
            stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self)
        )
    }
}

/// Output that a reader thread appends to while a test reads it.
final class OutputBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var collected = Data()

    func append(_ chunk: Data) {
        lock.withLock { collected.append(chunk) }
    }

    var data: Data { lock.withLock { collected } }
    var text: String { String(decoding: data, as: UTF8.self) }
}

/// A program left running (`brief-device sync --watch`, `brief-server`, nginx), its standard
/// output and error collected as they come, so that a test can wait for a line, interrupt it, and
/// wait for its exit without ever asking a running process for its status.
final class BackgroundProcess: @unchecked Sendable {
    private let process = Process()
    private let collected = OutputBuffer()

    /// A `brief-device` with these arguments.
    convenience init(_ arguments: [String]) throws {
        try self.init(BriefDeviceProcess.executable, arguments)
    }

    init(_ executable: URL, _ arguments: [String], environment: [String: String] = [:]) throws {
        process.executableURL = executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        environment.forEach { env[$0.key] = $0.value }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        process.standardInput = FileHandle.nullDevice
        let collected = self.collected
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            if chunk.isEmpty {
                handle.readabilityHandler = nil
            } else {
                collected.append(chunk)
            }
        }
        try process.run()
        // why listed: if this test run crashes, scripts/test stops what it left running by this id
        if let listing {
            try? executable.path.write(toFile: listing, atomically: true, encoding: .utf8)
        }
    }

    deinit {
        // one still running stays listed, for scripts/test to stop
        if !process.isRunning {
            unlist()
        }
    }

    /// The file naming this process in `$BRIEFSYNC_TEST_PIDS` (see `scripts/test-services`).
    private var listing: String? {
        ProcessInfo.processInfo.environment["BRIEFSYNC_TEST_PIDS"].map { "\($0)/\(process.processIdentifier)" }
    }

    var output: String { collected.text }

    /// Waits until the output holds `text`; false when it has not appeared within `limit`.
    func waitForOutput(containing text: String, within limit: Duration = .seconds(60)) async throws -> Bool {
        let start = ContinuousClock.now
        while !output.contains(text) {
            guard ContinuousClock.now - start < limit, process.isRunning else {
                return output.contains(text)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return true
    }

    func interrupt() {
        process.interrupt()
    }

    /// The exit status, or nil (after killing it) when the process has not ended within `limit`.
    func exitStatus(within limit: Duration) async throws -> Int32? {
        let start = ContinuousClock.now
        while process.isRunning {
            guard ContinuousClock.now - start < limit else {
                kill()
                return nil
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        unlist()
        // The last output may still be in the pipe when the process has just ended.
        try await Task.sleep(for: .milliseconds(200))
        return process.terminationStatus
    }

    func kill() {
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        unlist()
    }

    private func unlist() {
        if let listing {
            try? FileManager.default.removeItem(atPath: listing)
        }
    }

    /// Asks it to stop (SIGTERM) and waits; kills it if it does not stop within `limit`.
    func stop(within limit: Duration = .seconds(20)) async {
        if process.isRunning {
            process.terminate()
        }
        _ = try? await exitStatus(within: limit)
    }

    var isRunning: Bool { process.isRunning }
}
