import ArgumentParser
import Foundation
import Hummingbird
import Synchronization

/// The framework's ceiling: Hummingbird answering every request with the same bytes from memory,
/// with no middleware, store or token. `poll` measures it beside brief-server, so that the table
/// tells the share of an up-to-date poll's cost that is BriefSync's from the share that any
/// Hummingbird service pays. `GET /hold` answers after 60 s, and `GET /held` says how many are
/// held: `longpoll` measures a held request's memory the same way.
struct FrameworkReference: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "framework-reference",
        abstract: "Serves one file's bytes from memory with a bare Hummingbird router (a reference for poll)."
    )
    @Option(help: "The port to listen on (127.0.0.1).") var port: Int
    @Option(help: "The file whose bytes every GET answers.") var file: String

    func run() async throws {
        let body = ByteBuffer(bytes: try Data(contentsOf: URL(fileURLWithPath: file)))
        let router = Router()
        let held = Held()
        router.get("held") { _, _ in
            "\(held.count.load(ordering: .relaxed))"
        }
        router.get("hold") { _, _ -> Response in
            held.count.add(1, ordering: .relaxed)
            try? await Task.sleep(for: .seconds(60))
            held.count.subtract(1, ordering: .relaxed)
            return Response(status: .ok)
        }
        router.get("**") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "application/json; charset=utf-8"],
                body: .init(byteBuffer: body)
            )
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)))
        try await app.runService()
    }
}

/// Requests held by `/hold` now.
private final class Held: Sendable {
    let count = Atomic<Int>(0)
}
