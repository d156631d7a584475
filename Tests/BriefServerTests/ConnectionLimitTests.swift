import BriefModel
import BriefServer
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOConcurrencyHelpers
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What one client can hold of the server: long-polls per user, a connection that never finishes
/// its request head, a body too large, JSON nested without end.
@Suite struct ConnectionLimitTests {
    @Test func longPollsBeyondTheUsersCapAreRefusedAtOnce() async throws {
        let server = try TestServer { $0.maxLongPollsPerUser = 3 }
        try await server.test { client in
            try #require(try await client.publish(try TestServer.brief("b-1")).status == .ok)
            let token = try await client.register("anna")
            let head = try await client.changes(token).decode(ChangesPageV1.self).nextToken
            let answers = NIOLockedValueBox<[HTTPResponse.Status]>([])
            let polls = (0..<10).map { _ in
                Task {
                    let status = try await client.changes(token, since: head, wait: 30).status
                    answers.withLockedValue { $0.append(status) }
                }
            }
            // The seven beyond the cap are answered at once; three are held
            while answers.withLockedValue({ $0.count }) < 7 {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(answers.withLockedValue { $0 } == Array(repeating: .tooManyRequests, count: 7))
            #expect(server.heldCount() == 3)
            // A change answers the held ones
            _ = try await client.push(token, [mutation(1, "b-1", .markRead, wall: 5)])
            for poll in polls {
                try await poll.value
            }
            #expect(answers.withLockedValue { $0.filter { $0 == .ok }.count } == 3)
        }
    }

    @Test func aRequestHeadSentByTheTrickleIsClosedInTime() async throws {
        let server = try TestServer { $0.requestHeadTimeout = .seconds(1) }
        try await server.test(.live) { client in
            let port = try #require(client.client.port)
            let socket = try RawSocket(port: port)
            // Half a request head, then one byte every 200 ms: never a whole head
            try socket.send("GET /healthz HTTP/1.1\r\nHost: b\r\n")
            var closed = false
            for _ in 0..<40 where !closed {
                try await Task.sleep(for: .milliseconds(200))
                closed = (try? socket.send("X")) == nil || socket.isClosed()
            }
            #expect(closed, "the connection stayed open for 8 s of trickled header")
        }
    }

    @Test func aLongPollLongerThanTheHeadTimeoutIsNotCut() async throws {
        let server = try TestServer { $0.requestHeadTimeout = .seconds(2) }
        try await server.test(.live) { client in
            let token = try await client.register("anna")
            let head = try await client.changes(token).decode(ChangesPageV1.self).nextToken
            // on a connection of its own, sent whole at once: the head timeout is for heads only
            let socket = try RawSocket(port: try #require(client.client.port))
            let started = ContinuousClock.now
            try socket.send(
                "GET /v1/changes?since=\(head)&wait=4 HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer \(token)\r\n\r\n"
            )
            let (answer, _) = try socket.readUntilClosed(within: .seconds(15))
            #expect(answer.hasPrefix("HTTP/1.1 200"), "\(answer.prefix(200))")
            #expect(ContinuousClock.now - started >= .seconds(3))
        }
    }

    @Test(arguments: [false, true])
    func anOversizedBodyIsAnsweredAndItsConnectionClosedWithoutReadingTheRest(chunked: Bool) async throws {
        try await TestServer().test(.live) { client in
            let socket = try RawSocket(port: try #require(client.client.port))
            let framing = chunked ? "Transfer-Encoding: chunked" : "Content-Length: \(5 << 20)"
            try socket.send(
                "POST /v1/sessions HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n\(framing)\r\n\r\n"
            )
            // a part of a 5 MiB body (the server takes 1 MiB at most), then read: no more is sent
            let piece = String(repeating: "a", count: (chunked ? 1_100 : 64) << 10)
            try socket.send(chunked ? "\(String(piece.utf8.count, radix: 16))\r\n\(piece)\r\n" : piece)
            let (answer, closed) = try socket.readUntilClosed(within: .seconds(10))
            #expect(answer.hasPrefix("HTTP/1.1 413"), "\(answer.prefix(200))")
            #expect(answer.contains("payload_too_large"))
            #expect(closed, "the connection stayed open after the 413")
        }
    }

    @Test func jsonNestedDeeperThanAnyDocumentIsRefusedBeforeDecoding() async throws {
        try await TestServer().test { client in
            let deep = String(repeating: "[", count: 1_000) + String(repeating: "]", count: 1_000)
            let answer = try await client.send(.post, "/v1/sessions", body: Data(deep.utf8))
            #expect(answer.status == .badRequest)
            #expect(answer.error?.code == .malformedRequest && answer.error?.message.contains("nests deeper") == true)
        }
        #expect(!JSONNesting.exceeds(2, in: Array(#"{"a": ["[[[[", "\"{{{{"]}"#.utf8)))
        #expect(JSONNesting.exceeds(2, in: Array(#"{"a": [{"b": 1}]}"#.utf8)))
        #expect(!JSONNesting.exceeds(3, in: Array(#"{"a": [{"b": 1}]}"#.utf8)))
    }
}

/// A TCP connection to 127.0.0.1 that writes and reads bytes as a test dictates.
final class RawSocket {
    private let descriptor: Int32

    init(port: Int) throws {
        descriptor = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            close(descriptor)
            throw CLIError("connect: \(errno)")
        }
    }

    deinit {
        close(descriptor)
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard Glibc.send(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else {
            throw CLIError("send: \(errno)")
        }
    }

    /// Whether the peer has closed (a read would return end of file), without waiting.
    func isClosed() -> Bool {
        var byte: UInt8 = 0
        let read = recv(descriptor, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return read == 0 || (read < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    /// Everything received until the peer closes (or `limit` passes), and whether it closed.
    func readUntilClosed(within limit: Duration) throws -> (String, Bool) {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let start = ContinuousClock.now
        while ContinuousClock.now - start < limit {
            let read = recv(descriptor, &chunk, chunk.count, 0)
            if read == 0 {
                return (String(decoding: received, as: UTF8.self), true)
            }
            if read < 0 {
                // a reset after the answer counts as closed too
                return (String(decoding: received, as: UTF8.self), errno == ECONNRESET)
            }
            received += chunk[0..<read]
        }
        return (String(decoding: received, as: UTF8.self), false)
    }
}

struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
