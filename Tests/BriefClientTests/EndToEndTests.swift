import BriefClient
import BriefHTTP
import BriefHTTPNIO
import BriefModel
import BriefServer
import BriefSimulation
import BriefTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// The deployment as shipped, end to end: PostgreSQL, two `brief-server` processes, the nginx
/// configuration of `deploy/nginx/` in front with HTTPS from a throwaway CA (made with openssl
/// now, never committed), a publisher, and two `brief-device` homes of one user that sync
/// through nginx and, at times, straight against each instance; at the end they agree.
///
/// Needs `BRIEFSYNC_TEST_POSTGRES` and `BRIEFSYNC_TEST_NGINX` (scripts/test provides both).
@Suite struct EndToEndTests {
    static let publisherKey = "end-to-end-publisher-key-0123456789"
    /// What the instances sign content passes with, and nginx checks them with.
    static let contentPassSecret = "end-to-end-content-pass-secret-0123456789"

    @Test(
        .enabled(if: TestServices.nginx, "needs nginx (BRIEFSYNC_TEST_NGINX; scripts/test finds it)"),
        .enabled(if: TestServices.postgres, "needs PostgreSQL (BRIEFSYNC_TEST_POSTGRES; scripts/test starts one)")
    ) func twoDevicesConvergeThroughNginxAndTwoInstancesOnPostgres() async throws {
        let nginx = try TestPostgres.required("nginx", variable: "BRIEFSYNC_TEST_NGINX", test: #function)
        try await TestPostgres.withDatabase { settings in
            let deployment = try await Deployment.start(database: settings.description, nginx: nginx)
            do {
                try await exercise(deployment)
            } catch {
                FileHandle.standardError.write(Data("nginx:\n\(deployment.nginx.output)\n".utf8))
                await deployment.stop()
                throw error
            }
            await deployment.stop()
        }
    }

    /// The simulator against the deployment as shipped: two instances on PostgreSQL behind
    /// nginx over HTTPS, with the faults injected between the devices and nginx. Every device of
    /// every user converges to the merge of that user's mutations.
    @Test(
        .enabled(if: TestServices.nginx, "needs nginx (BRIEFSYNC_TEST_NGINX; scripts/test finds it)"),
        .enabled(if: TestServices.postgres, "needs PostgreSQL (BRIEFSYNC_TEST_POSTGRES; scripts/test starts one)")
    ) func theSimulatorConvergesThroughNginxAndTwoInstancesOnPostgres() async throws {
        let nginx = try TestPostgres.required("nginx", variable: "BRIEFSYNC_TEST_NGINX", test: #function)
        try await TestPostgres.withDatabase { settings in
            let deployment = try await Deployment.start(database: settings.description, nginx: nginx)
            let requester = try NIOHTTPRequester(additionalCAFile: deployment.caFile)
            do {
                let server = HTTPSimulationServer(
                    baseURL: URL(string: "https://localhost:\(deployment.httpsPort)")!,
                    requester: requester,
                    allowInsecureHTTP: false,
                    publisherKey: Self.publisherKey
                )
                for brief in SimulationBriefs.make(from: [try Briefs.seed()], count: 12) {
                    #expect(try await server.publish(brief))
                }
                // why no copy or switch: each signs a phone in, and the shipped nginx takes about
                // ten sign-ins a minute from one address (the simulator then waits, as a phone would)
                let plan = SimulationPlan(
                    seed: 20_261_207,
                    devices: 6,
                    users: 2,
                    ops: 1_500,
                    faults: [.network, .skew, .crash]
                )
                let report = try await Simulation.run(plan, on: server)
                #expect(report.faults["answers lost", default: 0] > 0 && report.faults["crashes", default: 0] > 0)
                #expect(report.publisherChanges > 0, "the publisher corrected and retracted through nginx")
            } catch {
                FileHandle.standardError.write(Data("nginx:\n\(deployment.nginx.output)\n".utf8))
                try? await requester.shutdown()
                await deployment.stop()
                throw error
            }
            try? await requester.shutdown()
            await deployment.stop()
        }
    }

    private func exercise(_ deployment: Deployment) async throws {
        let https = "https://localhost:\(deployment.httpsPort)"
        let ca = deployment.caFile
        let publisher = try NIOHTTPRequester(additionalCAFile: ca)
        defer { Task { try? await publisher.shutdown() } }

        // Plain HTTP is redirected to HTTPS (curl, which does not follow redirects by itself).
        let redirect = try await BriefDeviceProcess.run(
            [
                "-s", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                "http://127.0.0.1:\(deployment.httpPort)/v1/changes",
            ],
            executable: URL(fileURLWithPath: "/usr/bin/curl")
        )
        #expect(redirect.stdout.hasPrefix("301 https://"), "\(redirect.stdout)")
        // to the server's own name, whatever Host the client sent
        let forged = try await BriefDeviceProcess.run(
            [
                "-s", "-o", "/dev/null", "-w", "%{redirect_url}", "-H", "Host: evil.example",
                "http://127.0.0.1:\(deployment.httpPort)/v1/changes",
            ],
            executable: URL(fileURLWithPath: "/usr/bin/curl")
        )
        #expect(forged.stdout.hasPrefix("https://localhost/"), "\(forged.stdout)")

        // HTTPS offers HTTP/2.
        let alpn = try await BriefDeviceProcess.run(
            ["s_client", "-connect", "127.0.0.1:\(deployment.httpsPort)", "-alpn", "h2", "-servername", "localhost"],
            stdin: "",
            executable: URL(fileURLWithPath: "/usr/bin/openssl")
        )
        #expect(alpn.stdout.contains("ALPN protocol: h2"), "\(alpn.stdout.suffix(400))")

        // A device that does not trust the CA is told so, with the host named, and exits 4.
        let stranger = try TemporaryHome()
        let refused = try await BriefDeviceProcess.run(
            ["--home", stranger.path, "register", "--server", https, "--user", "mallory"],
            environment: ["BRIEFSYNC_PASSWORD": "correct horse battery", "SSL_CERT_FILE": ""]
        )
        #expect(refused.code == 4, "\(refused.stderr)")
        #expect(refused.stderr.contains("localhost") && refused.stderr.contains("not trusted"), "\(refused.stderr)")

        // A certificate for another host is refused even with the CA trusted.
        let wrongHost = try await BriefDeviceProcess.run(
            [
                "--home", stranger.path, "--ca-file", ca, "register", "--server",
                "https://127.0.0.1:\(deployment.httpsPort)", "--user", "mallory",
            ],
            environment: ["BRIEFSYNC_PASSWORD": "correct horse battery"]
        )
        #expect(wrongHost.code == 4, "\(wrongHost.stderr)")
        #expect(
            wrongHost.stderr.contains("127.0.0.1") && wrongHost.stderr.contains("not trusted"),
            "\(wrongHost.stderr)"
        )

        // A publisher publishes through nginx.
        for id in ["e-1", "e-2", "e-3"] {
            let answer = try await publish(try Briefs.small(id, title: "Brief \(id)"), to: https, with: publisher)
            #expect(answer == 201 || answer == 200)
        }

        // Two homes of one user: A through nginx, B through nginx and straight to each instance.
        let (homeA, homeB) = (try TemporaryHome(), try TemporaryHome())
        let password = ["BRIEFSYNC_PASSWORD": "correct horse battery"]
        func device(_ home: TemporaryHome, _ arguments: [String]) async throws -> BriefDeviceProcess.Output {
            let output = try await BriefDeviceProcess.run(
                ["--home", home.path, "--ca-file", ca] + arguments,
                environment: password
            )
            #expect(output.code == 0, "brief-device \(arguments.joined(separator: " ")): \(output.stderr)")
            return output
        }
        _ = try await device(homeA, ["register", "--server", https, "--user", "anna"])
        #expect(try await device(homeA, ["sync", "--json"]).json?["received"] == .integer(3))
        _ = try await device(homeA, ["read", "e-1"])
        _ = try await device(homeA, ["save", "e-2"])
        _ = try await device(homeA, ["sync"])

        _ = try await device(
            homeB,
            ["login", "--server", "http://127.0.0.1:\(deployment.instancePorts[0])", "--user", "anna"]
        )
        _ = try await device(homeB, ["sync"])
        _ = try await device(homeB, ["progress", "e-3", "0.5"])
        _ = try await device(homeB, ["unread", "e-1"])
        _ = try await device(homeB, ["sync"])
        _ = try await device(
            homeB,
            ["login", "--server", "http://127.0.0.1:\(deployment.instancePorts[1])", "--user", "anna"]
        )
        _ = try await device(homeB, ["sync"])

        // The publisher corrects one brief, retracts the saved one and adds another.
        #expect(try await publish(try Briefs.small("e-1", title: "Corrected"), to: https, with: publisher) == 200)
        let retraction = try await send("DELETE", "\(https)/v1/briefs/e-2", with: publisher, token: Self.publisherKey)
        #expect(retraction.status == 200, "\(retraction.status) \(String(decoding: retraction.body, as: UTF8.self))")
        _ = try await publish(try Briefs.small("e-4", title: "Brief e-4"), to: https, with: publisher)

        _ = try await device(homeB, ["login", "--server", https, "--user", "anna"])
        for home in [homeA, homeB, homeA] {
            _ = try await device(home, ["sync"])
        }
        // A third device of the user, new, fetches every edition it needs from nginx's cache: the
        // others fetched them through nginx first, so none of its content requests reaches an
        // instance (only the session check does, auth_request being the default session mode).
        let homeC = try TemporaryHome()
        let logged = try deployment.accessLog().count
        _ = try await device(homeC, ["login", "--server", https, "--user", "anna"])
        #expect(try await device(homeC, ["sync", "--json"]).json?["received"] == .integer(3))
        let fetches = try deployment.accessLog().dropFirst(logged).filter { $0.contains(" /v1/content/") }
        #expect(fetches.count == 3, "\(fetches)")
        #expect(fetches.allSatisfy { $0.hasPrefix("GET ") && $0.hasSuffix(" 200 HIT") }, "\(fetches)")
        let listC = try await device(homeC, ["list", "--json"]).stdout

        // Content needs a session: without one, nginx answers 401 in the protocol's shape, even
        // for bytes it holds
        let digest = try #require(fetches.first?.split(separator: " ").dropFirst().first?.split(separator: "/").last)
        let anonymous = try await send("GET", "\(https)/v1/content/\(digest)", with: publisher)
        #expect(anonymous.status == 401 && anonymous.json?["error"]?["code"] == "unauthorized")

        let listA = try await device(homeA, ["list", "--json"]).stdout
        let listB = try await device(homeB, ["list", "--json"]).stdout
        let a = try JSONDecoder().decode([Row].self, from: Data(listA.utf8))
        let b = try JSONDecoder().decode([Row].self, from: Data(listB.utf8))
        #expect(Set(a) == Set(b), "A: \(listA)\nB: \(listB)")
        let c = try JSONDecoder().decode([Row].self, from: Data(listC.utf8))
        // C never held e-2, retracted before it came: the others keep it only because A saved it
        #expect(Set(c.map(\.id)) == Set(a.map(\.id)).subtracting(["e-2"]), "C: \(listC)")
        let byID = Dictionary(uniqueKeysWithValues: a.map { ($0.id, $0) })
        #expect(byID["e-1"]?.title == "Corrected" && byID["e-1"]?.isRead == false)
        #expect(byID["e-3"]?.progress == 0.5)
        #expect(byID["e-4"] != nil)
        #expect(byID["e-2"] == nil || byID["e-2"]?.isSaved == true, "a saved brief that is retracted keeps its mark")

        // A long-poll through nginx is answered as soon as an instance commits, not buffered.
        let session = try JSONDecoder().decode(
            [String: String?].self,
            from: Data(contentsOf: homeA.url.appendingPathComponent("session.json"))
        )
        let token = try #require(session["token"] ?? nil)
        let head = try await send("GET", "\(https)/v1/changes?limit=1000", with: publisher, token: token)
        #expect(
            head.headers["x-request-id"]?.count == 32,
            "nginx's request id reaches the instance and comes back: \(head.headers)"
        )
        #expect(head.headers["content-encoding"] == "gzip", "JSON is compressed")
        guard case .string(let since)? = head.json?["nextToken"] else {
            Issue.record("no nextToken in \(String(decoding: head.body, as: UTF8.self).prefix(300))")
            return
        }

        // A page naming content carries a pass, which nginx checks itself: with it, content comes
        // from nginx's cache without a session (none is asked for); forged or expired, the fetch
        // is checked for a session as any other, and has none.
        guard case .string(let pass)? = head.json?["contentPass"] else {
            Issue.record("no contentPass in \(String(decoding: head.body, as: UTF8.self).prefix(300))")
            return
        }
        let passed = try await send("GET", "\(https)/v1/content/\(digest)?\(pass)", with: publisher)
        #expect(passed.status == 200 && passed.headers["x-cache-status"] == "HIT", "\(passed.status) \(passed.headers)")
        let forgedPass = pass.replacingOccurrences(of: "expires=", with: "expires=1")
        #expect(try await send("GET", "\(https)/v1/content/\(digest)?\(forgedPass)", with: publisher).status == 401)
        let expired = ContentPass.query(now: 0, lifetime: 60_000, secret: Self.contentPassSecret)
        #expect(try await send("GET", "\(https)/v1/content/\(digest)?\(expired)", with: publisher).status == 401)
        let started = ContinuousClock.now
        async let held = send("GET", "\(https)/v1/changes?since=\(since)&wait=30", with: publisher, token: token)
        try await Task.sleep(for: .milliseconds(500))
        let direct = try NIOHTTPRequester(additionalCAFile: nil)
        _ = try await publish(
            try Briefs.small("e-5"),
            to: "http://127.0.0.1:\(deployment.instancePorts[1])",
            with: direct
        )
        try await direct.shutdown()
        let woken = try await held
        #expect(woken.status == 200)
        #expect(ContinuousClock.now - started < .seconds(20), "woken by the commit, not by the 30 s hold")

        // The edge: HSTS, no version, no metrics from outside (each instance still serves them)
        let topics = try await send("GET", "\(https)/v1/topics", with: publisher, token: token)
        #expect(topics.headers["strict-transport-security"]?.contains("max-age=31536000") == true)
        #expect(topics.headers["server"] == "nginx", "no version: \(topics.headers["server"] ?? "")")
        #expect(try await send("GET", "\(https)/metrics", with: publisher).status == 404)
        let scraper = try NIOHTTPRequester(additionalCAFile: nil)
        let scraped = try await send("GET", "http://127.0.0.1:\(deployment.instancePorts[0])/metrics", with: scraper)
        try await scraper.shutdown()
        #expect(scraped.status == 200)

        // A body above the limit is refused by nginx, in the protocol's shape
        let large = try await send(
            "PUT",
            "\(https)/v1/briefs/e-9",
            with: publisher,
            token: Self.publisherKey,
            body: Data(repeating: UInt8(ascii: " "), count: 2 << 20)
        )
        #expect(large.status == 413 && large.json?["error"]?["code"] == "payload_too_large")

        // A reader app through nginx: the Authorization header reaches the instances (what the
        // compatibility check tells), and its session lists anna's briefs and marks them read
        func reader(_ path: String, auth: String, form: String? = nil) async throws -> (status: Int, text: String) {
            var request = URLRequest(url: URL(string: "\(https)/greader/\(path)")!, timeoutInterval: 30)
            request.setValue("GoogleLogin auth=\(auth)", forHTTPHeaderField: "Authorization")
            if let form {
                request.httpMethod = "POST"
                request.httpBody = Data(form.utf8)
                request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            }
            let (data, response) = try await publisher.data(for: request)
            return (response.statusCode, String(decoding: data, as: UTF8.self))
        }
        let signedIn = try await reader(
            "accounts/ClientLogin",
            auth: "",
            form: "Email=anna&Passwd=correct+horse+battery"
        )
        let auth = signedIn.text.split(separator: "\n").first { $0.hasPrefix("Auth=") }.map { String($0.dropFirst(5)) }
        #expect(signedIn.status == 200 && auth != nil, "\(signedIn)")
        #expect(try await reader("check/compatibility", auth: auth ?? "").text == "PASS")
        let unread =
            "reader/api/0/stream/items/ids?s=user/-/state/com.google/reading-list"
            + "&xt=user/-/state/com.google/read&n=1000"
        let listed = try await reader(unread, auth: auth ?? "")
        let ids = (try? JSONDecoder().decode(JSONValue.self, from: Data(listed.text.utf8)))?["itemRefs"]
        #expect(listed.status == 200 && ids?[0]?["id"] != nil, "\(listed)")
        let writeToken = try await reader("reader/api/0/token", auth: auth ?? "").text
        if case .array(let refs)? = ids {
            let marks = refs.compactMap { ref -> String? in
                guard case .string(let id)? = ref["id"] else {
                    return nil
                }
                return "i=\(id)"
            }
            let marked = try await reader(
                "reader/api/0/edit-tag",
                auth: auth ?? "",
                form: (marks + ["a=user/-/state/com.google/read", "T=\(writeToken)"]).joined(separator: "&")
            )
            #expect(marked.status == 200)
        }
        #expect(try await reader(unread, auth: auth ?? "").text.contains(#""itemRefs":[]"#))
        _ = try await device(homeA, ["sync"])
        let rows = try JSONDecoder().decode(
            [Row].self,
            from: Data(try await device(homeA, ["list", "--json"]).stdout.utf8)
        )
        // all but e-2, which was retracted (A keeps it because it is saved; no stream lists it)
        #expect(rows.count == 5 && rows.filter { $0.id != "e-2" }.allSatisfy(\.isRead), "\(rows)")

        // Logins from one address beyond the burst are refused by nginx before any instance
        // runs bcrypt for them, in the protocol's error shape (its message is nginx's own). Sent
        // at once: one after another, each waiting for an instance's bcrypt, a loaded machine let
        // the limit refill (10 a minute) between them, and only 2 of 15 were refused.
        let refusedByNginx = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<15 {
                group.addTask {
                    let attempt = try await send(
                        "POST",
                        "\(https)/v1/sessions",
                        with: publisher,
                        body: Data(#"{"username":"flood\#(index)","password":"not the password","deviceId":"d"}"#.utf8)
                    )
                    guard attempt.status == 429, attempt.headers["retry-after"] == "60",
                        case .string(let message)? = attempt.json?["error"]?["message"],
                        message.hasPrefix("Too many logins or registrations from this address")
                    else {
                        return false
                    }
                    return attempt.json?["error"]?["code"] == "rate_limited"
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(refusedByNginx >= 3, "nginx refused \(refusedByNginx) of 15 logins")
    }

    struct Row: Decodable, Hashable {
        var id: String
        var title: String
        var isRead: Bool
        var isSaved: Bool
        var progress: Double
    }

    struct Answer {
        var status: Int
        var headers: [String: String]
        var body: Data
        var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: body) }
    }

    private func send(
        _ method: String,
        _ url: String,
        with requester: any HTTPRequester,
        token: String? = nil,
        body: Data? = nil
    )
        async throws -> Answer
    {
        var request = URLRequest(url: URL(string: url)!, timeoutInterval: 60)
        request.httpMethod = method
        request.setValue(String(WireProtocol.version), forHTTPHeaderField: WireProtocol.header)
        request.setValue("gzip", forHTTPHeaderField: "Accept-Encoding")
        if let token {
            request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        }
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await requester.data(for: request)
        var headers: [String: String] = [:]
        for (name, value) in response.allHeaderFields {
            headers[String(describing: name).lowercased()] = String(describing: value)
        }
        // the requester undoes gzip (as the devices' do); Content-Encoding says how it crossed
        return Answer(status: response.statusCode, headers: headers, body: data)
    }

    private func publish(_ brief: Brief, to base: String, with requester: any HTTPRequester) async throws -> Int {
        let answer = try await send(
            "PUT",
            "\(base)/v1/briefs/\(brief.id.rawValue)",
            with: requester,
            token: Self.publisherKey,
            body: try WireCoding.encoder().encode(brief)
        )
        return answer.status
    }
}

/// PostgreSQL (given), two brief-server processes, and nginx with the shipped configuration.
struct Deployment {
    let folder: URL
    let caFile: String
    let instancePorts: [Int]
    let httpsPort: Int
    let httpPort: Int
    let instances: [BackgroundProcess]
    let nginx: BackgroundProcess

    static var serverExecutable: URL {
        BriefDeviceProcess.executable.deletingLastPathComponent().appendingPathComponent("brief-server")
    }

    static var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }

    static func start(database: String, nginx nginxPath: String) async throws -> Deployment {
        // "briefsync-nginx." in the name lets scripts/test clean up after a crashed run
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
            "briefsync-nginx.\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(
            at: folder.appendingPathComponent("logs"),
            withIntermediateDirectories: true
        )
        chmod(folder.path, 0o755)
        let caFile = try makeCertificates(in: folder)

        // why --port 0: a port found free here could be taken by another test before an instance binds it
        var instances: [BackgroundProcess] = []
        var instancePorts: [Int] = []
        for index in 0..<2 {
            let portFile = folder.appendingPathComponent("instance-\(index).port")
            let instance = try BackgroundProcess(
                serverExecutable,
                [
                    "serve", "--host", "127.0.0.1", "--port", "0", "--port-file", portFile.path, "--database", database,
                    "--publisher-key", EndToEndTests.publisherKey, "--trusted-proxies", "127.0.0.1",
                    "--content-pass-secret", EndToEndTests.contentPassSecret, "--log-level", "warning",
                ]
            )
            instances.append(instance)
            guard let port = try await PortFile.port(in: portFile, while: { instance.isRunning }) else {
                instances.forEach { $0.kill() }
                throw CLIFailure("brief-server did not start: \(instance.output)")
            }
            instancePorts.append(port)
        }
        for (port, instance) in zip(instancePorts, instances) {
            try await waitUntilReady("http://127.0.0.1:\(port)/readyz", requester: URLSessionRequester()) {
                "brief-server on \(port) did not start: \(instance.output)"
            }
        }
        let ports = instancePorts + [try LoopbackPort.free(), try LoopbackPort.free()]

        // The shipped configuration, with throwaway addresses and certificate paths.
        var site = try String(
            contentsOf: repository.appendingPathComponent("deploy/nginx/briefsync.conf"),
            encoding: .utf8
        )
        for (shipped, local) in [
            ("127.0.0.1:8081", "127.0.0.1:\(instancePorts[0])"), ("127.0.0.1:8082", "127.0.0.1:\(instancePorts[1])"),
            ("listen 443 ssl http2;", "listen 127.0.0.1:\(ports[2]) ssl http2;"),
            ("listen 80;", "listen 127.0.0.1:\(ports[3]);"),
            ("listen [::]:443 ssl http2;", ""), ("listen [::]:80;", ""),
            ("server_name briefs.example.com;", "server_name localhost;"),
            ("/etc/ssl/briefsync/fullchain.pem", folder.appendingPathComponent("server.pem").path),
            ("/etc/ssl/briefsync/privkey.pem", folder.appendingPathComponent("server.key").path),
            ("/var/cache/nginx/briefsync", folder.appendingPathComponent("content-cache").path),
        ] + ShippedSite.contentPasses(secret: EndToEndTests.contentPassSecret) {  // passes on, as the file says
            guard site.contains(shipped) else {
                throw CLIFailure("deploy/nginx/briefsync.conf no longer contains \"\(shipped)\"")
            }
            site = site.replacingOccurrences(of: shipped, with: local)
        }
        try site.write(to: folder.appendingPathComponent("briefsync.conf"), atomically: true, encoding: .utf8)
        let main = """
            \(getuid() == 0 ? "user root;" : "")
            daemon off;
            master_process on;
            worker_processes 1;
            pid \(folder.path)/nginx.pid;
            error_log \(folder.path)/logs/error.log warn;
            events { worker_connections 256; }
            http {
                log_format briefsync_cache '$request_method $uri $status $upstream_cache_status';
                access_log \(folder.path)/logs/access.log briefsync_cache;
                client_body_temp_path \(folder.path)/body;
                proxy_temp_path \(folder.path)/proxy;
                fastcgi_temp_path \(folder.path)/fastcgi;
                uwsgi_temp_path \(folder.path)/uwsgi;
                scgi_temp_path \(folder.path)/scgi;
                include \(folder.path)/briefsync.conf;
            }
            """
        try main.write(to: folder.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
        let nginx = try BackgroundProcess(
            URL(fileURLWithPath: nginxPath),
            ["-p", folder.path, "-c", folder.appendingPathComponent("nginx.conf").path, "-e", "stderr"]
        )
        let trusting = try NIOHTTPRequester(additionalCAFile: caFile)
        try await waitUntilReady("https://localhost:\(ports[2])/healthz", requester: trusting) {
            "nginx did not start: \(nginx.output)"
        }
        try await trusting.shutdown()
        return Deployment(
            folder: folder,
            caFile: caFile,
            instancePorts: instancePorts,
            httpsPort: ports[2],
            httpPort: ports[3],
            instances: instances,
            nginx: nginx
        )
    }

    /// The lines nginx logged so far: method, path, status and cache status.
    func accessLog() throws -> [String] {
        let text = try String(contentsOf: folder.appendingPathComponent("logs/access.log"), encoding: .utf8)
        return text.split(separator: "\n").map(String.init)
    }

    func stop() async {
        await nginx.stop()
        for instance in instances {
            await instance.stop()
        }
        try? FileManager.default.removeItem(at: folder)
    }

    /// A CA and a certificate for localhost that it signed; returns the CA's file.
    static func makeCertificates(in folder: URL) throws -> String {
        let path = folder.path
        let steps: [[String]] = [
            [
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=BriefSync throwaway CA",
                "-keyout", "\(path)/ca.key", "-out", "\(path)/ca.pem",
            ],
            [
                "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "\(path)/server.key",
                "-out", "\(path)/server.csr",
            ],
            [
                "x509", "-req", "-in", "\(path)/server.csr", "-CA", "\(path)/ca.pem", "-CAkey", "\(path)/ca.key",
                "-CAcreateserial", "-days", "2", "-out", "\(path)/server.pem", "-extfile", "\(path)/san.ext",
            ],
        ]
        // why localhost only: https://127.0.0.1 then shows a certificate for the wrong host
        try "subjectAltName=DNS:localhost\n".write(
            toFile: "\(path)/san.ext",
            atomically: true,
            encoding: .utf8
        )
        for step in steps {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = step
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw CLIFailure("openssl \(step.joined(separator: " ")) failed")
            }
        }
        for file in ["server.key", "server.pem", "ca.pem"] {
            chmod("\(path)/\(file)", 0o644)
        }
        return "\(path)/ca.pem"
    }

    static func waitUntilReady(
        _ url: String,
        requester: any HTTPRequester,
        failure: () -> String
    ) async throws {
        let started = ContinuousClock.now
        while ContinuousClock.now - started < .seconds(60) {
            if let (_, response) = try? await requester.data(
                for: URLRequest(url: URL(string: url)!, timeoutInterval: 5)
            ),
                response.statusCode == 200
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw CLIFailure(failure())
    }
}

struct CLIFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) {
        self.description = description
    }
}
