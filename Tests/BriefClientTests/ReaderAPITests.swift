import BriefModel
import BriefTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The Google Reader API at `/greader`, driven by a client nobody here wrote (PyPI's
/// google-reader, `scripts/lib/reader_api_flow.py`) and by hand: sign-in makes a session of its
/// own that works there only; subscriptions are the topics the user follows, and their changes
/// are the user's follows that every device sees.
@Suite struct ReaderAPITests {
    @Test(
        .enabled(
            if: TestServices.readerClient,
            "needs python3 with google-reader (BRIEFSYNC_TEST_READER_CLIENT; scripts/test installs it)"
        )
    )
    func aReaderClientNobodyHereWroteSignsInListsAndMarksAndADeviceSeesItAndBack() async throws {
        let python = try TestPostgres.required(
            "google-reader",
            variable: "BRIEFSYNC_TEST_READER_CLIENT",
            test: #function
        )
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/lib/reader_api_flow.py")
        try await LiveServer.run { url in
            let phone = try TemporaryHome()
            func device(_ arguments: String...) async throws -> BriefDeviceProcess.Output {
                try await BriefDeviceProcess.succeed(phone, arguments, password: LiveHTTP.password)
            }
            func reader(_ mode: String) async throws -> BriefDeviceProcess.Output {
                let run = try await BriefDeviceProcess.run(
                    [script.path, "\(url)/greader", "anna", LiveHTTP.password, mode],
                    executable: URL(fileURLWithPath: python)
                )
                #expect(run.code == 0, "\(mode): \(run.stdout)\(run.stderr)")
                return run
            }
            func shown() async throws -> [String: (read: Bool, saved: Bool)] {
                _ = try await device("sync")
                var states: [String: (read: Bool, saved: Bool)] = [:]
                guard case .array(let briefs)? = try await device("list", "--json").json else {
                    Issue.record("brief-device list --json is not a list")
                    return states
                }
                for brief in briefs {
                    if case .string(let id)? = brief["id"], case .bool(let read)? = brief["isRead"],
                        case .bool(let saved)? = brief["isSaved"]
                    {
                        states[id] = (read, saved)
                    }
                }
                return states
            }
            _ = try await device("register", "--server", url, "--user", "anna")
            #expect(try await shown().values.allSatisfy { !$0.read && !$0.saved })

            // sign-in, subscriptions, ids with each filter and paging, contents, edit-tag in
            // every id form, mark-all-as-read: ai-tech is left read, climate starred
            let flow = try await reader("items")
            #expect(flow.stdout.hasSuffix("ok\n"), "\(flow.stdout)")
            let marked = try await shown()
            #expect(marked["ai-tech-2026-06-26"]?.read == true && marked["ai-tech-2026-06-26"]?.saved == false)
            #expect(marked["climate-2026-06-26"]?.read == false && marked["climate-2026-06-26"]?.saved == true)

            // and the other way round: the phone's marks reach the reader app
            _ = try await device("unread", "ai-tech-2026-06-26")
            _ = try await device("read", "climate-2026-06-26")
            _ = try await device("unsave", "climate-2026-06-26")
            _ = try await device("sync")
            let state = try await reader("state")
            #expect(
                state.stdout == #"{"read": ["feed/climate"], "starred": [], "unread": ["feed/ai-tech"]}"# + "\n",
                "\(state.stdout)"
            )

            // the reader app is a device of its own in the account's sessions
            let sessions = try await device("sessions", "--json")
            #expect(sessions.stdout.contains("reader-"), "\(sessions.stdout)")
        }
    }

    @Test func aReaderSessionWorksAtTheReaderAPIOnlyAndItsWritesNeedTheWriteToken() async throws {
        try await LiveServer.run { url in
            let device = try await LiveHTTP.register("anna", at: url)
            let form = Data("Email=anna&Passwd=correct+horse+battery&client=Tests".utf8)
            let (signedIn, status) = try await LiveHTTP.send(
                "POST",
                "\(url)/greader/accounts/ClientLogin",
                body: form,
                type: "application/x-www-form-urlencoded"
            )
            #expect(status == 200)
            let lines = String(decoding: signedIn, as: UTF8.self).split(separator: "\n")
            #expect(lines.map { $0.prefix(4) } == ["SID=", "LSID", "Auth"])
            let auth = try #require(lines.last.map { String($0.dropFirst("Auth=".count)) })
            let reader = ["Authorization": "GoogleLogin auth=\(auth)"]

            #expect(try await LiveHTTP.send("GET", "\(url)/greader/reader/api/0/user-info", headers: reader).1 == 200)
            // not the rest of the API, and a device's session is not a Reader API session
            #expect(
                try await LiveHTTP.send("GET", "\(url)/v1/changes", headers: ["Authorization": "Bearer \(auth)"]).1
                    == 403
            )
            let deviceAsReader = ["Authorization": "GoogleLogin auth=\(device)"]
            #expect(
                try await LiveHTTP.send("GET", "\(url)/greader/reader/api/0/user-info", headers: deviceAsReader).1
                    == 401
            )

            // a write without the write token changes nothing
            let unsubscribe = Data("ac=unsubscribe&s=feed%2Fclimate".utf8)
            let (refused, code) = try await LiveHTTP.send(
                "POST",
                "\(url)/greader/reader/api/0/subscription/edit",
                headers: reader,
                body: unsubscribe,
                type: "application/x-www-form-urlencoded"
            )
            #expect(code == 401 && String(decoding: refused, as: UTF8.self).contains("write token"))
            let (topics, _) = try await LiveHTTP.send(
                "GET",
                "\(url)/v1/topics",
                headers: ["Authorization": "Bearer \(device)"]
            )
            let listed = try WireCoding.decoder(unknownFields: .ignore).decode(TopicListV1.self, from: topics)
            #expect(listed.topics.allSatisfy { $0.followed })

            // with it, the device sees the unfollow
            let (writeToken, _) = try await LiveHTTP.send("GET", "\(url)/greader/reader/api/0/token", headers: reader)
            let (_, edited) = try await LiveHTTP.send(
                "POST",
                "\(url)/greader/reader/api/0/subscription/edit",
                headers: reader,
                body: unsubscribe + Data("&T=\(String(decoding: writeToken, as: UTF8.self))".utf8),
                type: "application/x-www-form-urlencoded"
            )
            #expect(edited == 200)
            let (after, _) = try await LiveHTTP.send(
                "GET",
                "\(url)/v1/topics",
                headers: ["Authorization": "Bearer \(device)"]
            )
            let now = try WireCoding.decoder(unknownFields: .ignore).decode(TopicListV1.self, from: after)
            #expect(now.topics.first { $0.id.rawValue == "climate" }?.followed == false)

            // bad credentials and malformed forms: 401 and 400 with a short text, never 5xx
            let wrong = Data("Email=anna&Passwd=nope".utf8)
            #expect(
                try await LiveHTTP.send(
                    "POST",
                    "\(url)/greader/accounts/ClientLogin",
                    body: wrong,
                    type: "application/x-www-form-urlencoded"
                ).1 == 401
            )
            #expect(try await LiveHTTP.send("POST", "\(url)/greader/accounts/ClientLogin", body: Data()).1 == 400)
            let (_, noAction) = try await LiveHTTP.send(
                "POST",
                "\(url)/greader/reader/api/0/subscription/edit",
                headers: reader,
                body: Data("s=feed%2Fclimate&T=\(String(decoding: writeToken, as: UTF8.self))".utf8),
                type: "application/x-www-form-urlencoded"
            )
            #expect(noAction == 400)
        }
    }

    @Test func theCompatibilityCheckSaysWhetherTheAuthorizationHeaderArrives() async throws {
        try await LiveServer.run { url in
            let (without, _) = try await LiveHTTP.send("GET", "\(url)/greader/check/compatibility")
            #expect(String(decoding: without, as: UTF8.self) == "FAIL")
            let (with, _) = try await LiveHTTP.send(
                "GET",
                "\(url)/greader/check/compatibility",
                headers: ["Authorization": "GoogleLogin auth=x"]
            )
            #expect(String(decoding: with, as: UTF8.self) == "PASS")
        }
    }
}

/// The feeds read by parsers nobody here wrote: jsonfeed-util and feedparser find every element
/// of the example brief (`scripts/lib/check_feeds.py`), newest first.
@Suite struct FeedParserTests {
    @Test(
        .enabled(
            if: TestServices.feedParsers,
            "needs python3 with feedparser and jsonfeed-util (BRIEFSYNC_TEST_FEED_PARSERS; scripts/test installs them)"
        )
    )
    func feedReadersParsersFindEveryElementOfTheBrief() async throws {
        let python = try TestPostgres.required(
            "feedparser and jsonfeed-util",
            variable: "BRIEFSYNC_TEST_FEED_PARSERS",
            test: #function
        )
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("feeds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        try await LiveServer.run { url in
            let token = try await LiveHTTP.register("anna", at: url)
            // the seed brief is published; one of the day before goes behind it
            var older = try Briefs.seed()
            older.id = BriefID(rawValue: "ai-tech-2026-06-25")!
            older.date = CalendarDate(iso: "2026-06-25")!
            let (_, published) = try await LiveHTTP.send(
                "PUT",
                "\(url)/v1/briefs/\(older.id.rawValue)",
                headers: ["Authorization": "Bearer \(LiveServer.publisherKey)"],
                body: try WireCoding.encoder().encode(older),
                type: "application/json"
            )
            #expect(published == 200)
            for format in ["json", "atom"] {
                let (feed, status) = try await LiveHTTP.send(
                    "GET",
                    "\(url)/v1/topics/ai-tech/feed.\(format)",
                    headers: ["Authorization": "Bearer \(token)"]
                )
                #expect(status == 200)
                try feed.write(to: folder.appendingPathComponent("feed.\(format)"))
            }
        }
        let run = try await BriefDeviceProcess.run(
            [
                repository.appendingPathComponent("scripts/lib/check_feeds.py").path,
                folder.appendingPathComponent("feed.json").path, folder.appendingPathComponent("feed.atom").path,
                repository.appendingPathComponent("Schema/examples/brief-ai-tech-2026-06-26.json").path,
                "ai-tech-2026-06-26", "ai-tech-2026-06-25",
            ],
            executable: URL(fileURLWithPath: python)
        )
        #expect(run.code == 0 && run.stdout == "ok\n", "\(run.stdout)\(run.stderr)")
    }
}

/// Requests to a live server, for the tests of clients that speak HTTP themselves.
enum LiveHTTP {
    static let password = "correct horse battery"

    /// Registers `user` and returns a device's session token.
    static func register(_ user: String, at url: String) async throws -> String {
        let body = try WireCoding.encoder().encode(
            CredentialsV1(username: user, password: password, deviceId: DeviceID(rawValue: "phone")!)
        )
        let (data, _) = try await send("POST", "\(url)/v1/accounts", body: body, type: "application/json")
        return try WireCoding.decoder(unknownFields: .ignore).decode(SessionV1.self, from: data).token
    }

    static func send(
        _ method: String,
        _ url: String,
        headers: [String: String] = [:],
        body: Data? = nil,
        type: String? = nil
    ) async throws -> (Data, Int) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.httpBody = body
        request.setValue(type, forHTTPHeaderField: "Content-Type")
        request.setValue(String(WireProtocol.version), forHTTPHeaderField: WireProtocol.header)
        for (name, value) in headers {
            request.setValue(value, forHTTPHeaderField: name)
        }
        let (data, answer) = try await URLSession.shared.data(for: request)
        return (data, (answer as? HTTPURLResponse)?.statusCode ?? 0)
    }
}
