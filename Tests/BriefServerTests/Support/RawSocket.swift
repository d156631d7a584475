import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP connection to 127.0.0.1 that writes and reads bytes as a test dictates.
final class RawSocket {
    private let descriptor: Int32

    /// - Parameter timeout: How long a read waits, in seconds.
    init(port: Int, timeout seconds: Int = 10) throws {
        descriptor = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
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
            throw SocketFailure("connect: \(errno)")
        }
    }

    deinit {
        close(descriptor)
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        guard Glibc.send(descriptor, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else {
            throw SocketFailure("send: \(errno)")
        }
    }

    /// What arrives next; empty at end of file, on a reset or when the read times out.
    func receive() -> [UInt8] {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let read = recv(descriptor, &chunk, chunk.count, 0)
        return read > 0 ? Array(chunk[0..<read]) : []
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

    /// One request on a connection of its own, with `Connection: close`: the answer's body, as
    /// text, once the server has closed. The request is sent whole at once, so no head timeout
    /// can fall between the opening and the request.
    static func exchange(port: Int, _ head: String, body: String = "") throws -> (status: String, body: String) {
        let socket = try RawSocket(port: port, timeout: 20)
        let length = body.isEmpty ? "" : "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n"
        try socket.send("\(head)\r\nHost: b\r\nConnection: close\r\n\(length)\r\n\(body)")
        let (answer, _) = try socket.readUntilClosed(within: .seconds(20))
        let parts = answer.components(separatedBy: "\r\n\r\n")
        let status = parts.first?.components(separatedBy: "\r\n").first ?? ""
        return (status, parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

}

struct SocketFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }

}
