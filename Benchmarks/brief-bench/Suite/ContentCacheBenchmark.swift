import ArgumentParser
import BriefModel
import BriefServer
import BriefTestSupport
import Foundation

/// Figure 10: a second device's content fetches through the shipped nginx configuration
/// (`deploy/nginx/briefsync.conf`, its cache warm), next to the same nginx serving the same
/// bytes as a static file; in both `--content-access` modes, and in session mode with content
/// passes turned on. In session mode without passes every fetch first asks an instance whether
/// its session is live (`auth_request`), so that mode is bounded by the instance's session
/// check, not by the cache; with a pass, nginx checks the fetch itself.
struct ContentCacheBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "content-cache",
        abstract: "Content fetches from the shipped nginx cache against nginx's static file of the same bytes."
    )
    @OptionGroup var options: SuiteOptions
    @Option(help: "The shipped site configuration.") var site = "deploy/nginx/briefsync.conf"

    func run() async throws {
        ResultRow.printTable(try await measure())
    }

    func measure() async throws -> [ResultRow] {
        var rows: [ResultRow] = []
        for access in ["public", "session"] {
            rows.append(try await measure(access: access, pass: false))
        }
        rows.append(try await measure(access: "session", pass: true))
        return rows
    }

    /// What the instances sign content passes with in the pass rows, and nginx checks them with.
    static let passSecret = "bench-content-pass-secret-0123456789abcdef"

    private func measure(access: String, pass: Bool) async throws -> ResultRow {
        let fixture = try await Fixture.start(
            "content-\(access)",
            postgres: options.postgres,
            briefs: 3,
            serverArguments: ["--content-access", access] + (pass ? ["--content-pass-secret", Self.passSecret] : [])
        )
        var nginx: Nginx?
        defer { nginx?.stop() }
        do {
            let token = try await Bench.login(fixture.server)
            let page = try await Bench.request("GET", "\(fixture.server)/v1/changes?limit=10", token: token)
            let manifest = try WireCoding.decoder(unknownFields: .ignore).decode(ChangesPageV2.self, from: page.body)
            guard let digest = manifest.briefs.first?.digest else {
                throw BenchError("the first page names no content")
            }
            var path = "/v1/content/\(digest)"
            if pass {
                guard let query = manifest.contentPass else {
                    throw BenchError("the first page carries no content pass")
                }
                path += "?" + query
            }
            let gzip = try Bench.runData(
                "/usr/bin/curl",
                ["-sf", "-H", "Accept-Encoding: gzip", "-H", "Authorization: Bearer \(token)", fixture.server + path]
            )

            let (proxyPort, staticPort) = (try Bench.freePort(), try Bench.freePort())
            let folder = try Bench.folder("content-nginx")
            let shipped = try String(contentsOfFile: site, encoding: .utf8)
            nginx = try Nginx.start(
                port: staticPort,
                files: ["content.gz": gzip],
                extra: try Self.plainHTTP(
                    shipped,
                    instance: fixture.ports[0],
                    port: proxyPort,
                    folder: folder,
                    access: access,
                    pass: pass
                )
            )
            let headers = ["Authorization: Bearer \(token)", "Accept-Encoding: gzip"]
            let url = "http://127.0.0.1:\(proxyPort)\(path)"
            // warm: the first fetch fills the cache, later ones are hits
            for _ in 0..<3 {
                _ = try Bench.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-H", headers[0], "-H", headers[1], url])
            }
            var ours: [Wrk.Result] = []
            var theirs: [Wrk.Result] = []
            for _ in 0..<options.repeats {
                ours.append(
                    try Wrk.run(url, connections: options.connections, seconds: options.seconds, headers: headers)
                )
                theirs.append(
                    try Wrk.run(
                        "http://127.0.0.1:\(staticPort)/content.gz",
                        connections: options.connections,
                        seconds: options.seconds
                    )
                )
            }
            if let failed = ours.first(where: { $0.errors > 0 }) {
                throw BenchError("\(failed.errors) content fetches failed (\(access))")
            }
            let rate = Sample(values: ours.map(\.requestsPerSecond))
            let reference = Sample(values: theirs.map(\.requestsPerSecond))
            await fixture.stop()
            return ResultRow(
                benchmark:
                    "10. content fetches/s through the shipped nginx cache, --content-access \(access)"
                    + (pass ? " with content passes" : "")
                    + " (\(options.connections) connections, \(gzip.count) bytes)",
                store: fixture.database.kind,
                figure: rate.description,
                reference: "the same nginx, the same bytes as a static file: \(reference)",
                ratio: format(rate.median / reference.median)
            )
        } catch {
            await fixture.stop()
            throw error
        }
    }

    /// The shipped site on plain HTTP (so that TLS does not weigh on either side) with its
    /// upstream, port and cache folder swapped for this run's; in public mode without the
    /// session check, as the file says to do.
    static func plainHTTP(
        _ shipped: String,
        instance: Int,
        port: Int,
        folder: URL,
        access: String,
        pass: Bool = false
    ) throws -> String {
        var site = shipped
        var swaps = [
            ("server 127.0.0.1:8081 max_fails=3 fail_timeout=10s;", "server 127.0.0.1:\(instance);"),
            ("server 127.0.0.1:8082 max_fails=3 fail_timeout=10s;", ""),
            ("listen 443 ssl http2;", "listen 127.0.0.1:\(port);"),
            ("listen [::]:443 ssl http2;", ""),
            ("listen 80;", "listen 127.0.0.1:\(try Bench.freePort());"),
            ("listen [::]:80;", ""),
            ("ssl_certificate     /etc/ssl/briefsync/fullchain.pem;", ""),
            ("ssl_certificate_key /etc/ssl/briefsync/privkey.pem;", ""),
            ("/var/cache/nginx/briefsync", folder.appendingPathComponent("content-cache").path),
        ]
        if access == "public" {
            swaps.append(("        auth_request /_briefsync/session;\n", ""))
        }
        if pass {
            swaps += ShippedSite.contentPasses(secret: passSecret)
        }
        for (from, to) in swaps {
            guard site.contains(from) else {
                throw BenchError("\(ContentCacheBenchmark().site) no longer contains \"\(from)\"")
            }
            site = site.replacingOccurrences(of: from, with: to)
        }
        return site
    }
}
