import Foundation

/// wrk on loopback: requests per second and latency percentiles.
struct Wrk {
    struct Result {
        var requestsPerSecond: Double
        var p50: Double  // milliseconds
        var p99: Double
        var errors: Int
    }

    static func run(
        _ url: String,
        connections: Int,
        seconds: Int,
        headers: [String] = []
    ) throws -> Result {
        var arguments = ["-t", "2", "-c", String(connections), "-d", "\(seconds)s", "--latency", "--timeout", "10s"]
        for header in headers {
            arguments += ["-H", header]
        }
        let output = try Bench.run(Bench.wrk, arguments + [url])
        func value(after label: String) -> String? {
            output.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(label) }
                .flatMap { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first }
                .map(String.init)
        }
        guard let rps = value(after: "Requests/sec:").flatMap(Double.init) else {
            throw BenchError("wrk printed no rate:\n\(output)")
        }
        var errors = 0
        if let line = output.split(separator: "\n").first(where: { $0.contains("Non-2xx or 3xx responses") }) {
            errors = Int(line.split(separator: " ").last ?? "") ?? 0
        }
        return Result(
            requestsPerSecond: rps,
            p50: milliseconds(value(after: "50%") ?? ""),
            p99: milliseconds(value(after: "99%") ?? ""),
            errors: errors
        )
    }

    /// `812.00us`, `1.23ms`, `2.00s` → milliseconds.
    static func milliseconds(_ text: String) -> Double {
        for (suffix, factor) in [("us", 0.001), ("ms", 1.0), ("s", 1000.0)] where text.hasSuffix(suffix) {
            if let number = Double(text.dropLast(suffix.count)) {
                return number * factor
            }
        }
        return .nan
    }
}

/// nginx on loopback, with a configuration of its own in a temporary folder.
struct Nginx {
    let child: Child
    let folder: URL

    /// Serves `files` (name → bytes) statically on `port`, plus the `extra` server blocks.
    static func start(port: Int, files: [String: Data], extra: String = "") throws -> Nginx {
        let folder = try Bench.folder("nginx")
        let root = folder.appendingPathComponent("static")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for (name, data) in files {
            try data.write(to: root.appendingPathComponent(name))
        }
        let configuration = """
            \(getuid() == 0 ? "user root;" : "")
            daemon off;
            worker_processes 2;
            pid \(folder.path)/nginx.pid;
            error_log \(folder.path)/error.log warn;
            events { worker_connections 4096; }
            http {
                access_log off;
                client_body_temp_path \(folder.path)/body;
                proxy_temp_path \(folder.path)/proxy;
                fastcgi_temp_path \(folder.path)/fastcgi;
                uwsgi_temp_path \(folder.path)/uwsgi;
                scgi_temp_path \(folder.path)/scgi;
                default_type application/json;
                server {
                    listen 127.0.0.1:\(port);
                    keepalive_requests 100000;
                    root \(root.path);
                }
                \(extra)
            }
            """
        try configuration.write(to: folder.appendingPathComponent("nginx.conf"), atomically: true, encoding: .utf8)
        let child = try Child(
            "nginx",
            Bench.nginx,
            ["-p", folder.path, "-c", folder.appendingPathComponent("nginx.conf").path, "-e", "stderr"]
        )
        usleep(300_000)
        // why: nginx retries a port taken by another process for seconds, and until it gives up
        // that process would be measured in its place
        let errors = (try? String(contentsOf: folder.appendingPathComponent("error.log"), encoding: .utf8)) ?? ""
        guard child.process.isRunning, !errors.contains("bind()") else {
            child.forceStop()
            throw BenchError("nginx did not start: \(errors.suffix(500))")
        }
        return Nginx(child: child, folder: folder)
    }

    /// A server block proxying to brief-server instances as `deploy/nginx/briefsync.conf` does
    /// (keep-alive upstream, no buffering), on plain HTTP so that TLS does not weigh on the figures.
    ///
    /// With `upstream` named otherwise, the same proxy in front of other servers: the benchmark
    /// of figure 7 puts it in front of nginx's own static file too, as the proxy's ceiling.
    static func proxy(to instances: [Int], listening port: Int, upstream: String = "briefsync") -> String {
        let servers = instances.map { "server 127.0.0.1:\($0);" }.joined(separator: " ")
        return """
            upstream \(upstream) { \(servers) keepalive 64; }
            server {
                listen 127.0.0.1:\(port);
                keepalive_requests 100000;
                client_max_body_size 1m;
                location / {
                    proxy_pass http://\(upstream);
                    proxy_http_version 1.1;
                    proxy_set_header Connection "";
                    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                    proxy_set_header X-Request-Id $request_id;
                    proxy_buffering off;
                    proxy_read_timeout 75s;
                }
            }
            """
    }

    func stop() {
        child.stop()
        try? FileManager.default.removeItem(at: folder)
    }
}

/// The gzip size of some bytes (`gzip -6`, as nginx compresses by default at level 1: the
/// reference is the better of the two).
func gzipSize(_ data: Data) throws -> Int {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString)")
    try data.write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/gzip")
    process.arguments = ["-6", "-c", file.path]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let compressed = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return compressed.count
}
