import BriefClient
import BriefHTTP
import BriefModel
import Foundation
import NIOConcurrencyHelpers
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The HTTP transport appends the content pass of the last manifest page that had one to its
/// content fetches, and refuses a pass that could steer the request anywhere else.
@Suite struct ContentPassTests {
    /// Answers every request with `page` (for `/v1/changes`) or `{}`, and records the URLs asked.
    final class Server: HTTPRequester {
        let asked = NIOLockedValueBox<[URL]>([])
        let pages: NIOLockedValueBox<[ChangesPageV2]>

        init(pages: [ChangesPageV2]) {
            self.pages = NIOLockedValueBox(pages)
        }

        func data(for request: URLRequest) async throws -> (Data, HTTPURLResponse) {
            let url = try #require(request.url)
            asked.withLockedValue { $0.append(url) }
            var body = Data("{}".utf8)
            if url.path == "/v1/changes" {
                body = try WireCoding.encoder().encode(pages.withLockedValue { $0.removeFirst() })
            }
            return (body, try #require(HTTPURLResponse(url: url, statusCode: 200, httpVersion: nil, headerFields: [:])))
        }
    }

    static let digest = String(repeating: "ab", count: 32)

    static func transport(to server: Server) throws -> HTTPSyncTransport {
        HTTPSyncTransport(
            baseURL: try #require(URL(string: "http://127.0.0.1:9")),
            sessionToken: "s",
            requester: server
        )
    }

    static func page(pass: String?) -> ChangesPageV2 {
        ChangesPageV2(nextToken: "t", hasMore: false, contentPass: pass)
    }

    @Test func contentFetchesCarryThePassOfTheLastPageThatHadOne() async throws {
        let server = Server(pages: [
            Self.page(pass: nil), Self.page(pass: "expires=1782464400&pass=40WM1NMH5_F9xutuKuAseg"),
            Self.page(pass: nil),
        ])
        let transport = try Self.transport(to: server)
        _ = try await transport.changes(ChangesRequest(since: nil, limit: 10))
        _ = try await transport.content(Self.digest)
        _ = try await transport.changes(ChangesRequest(since: "t", limit: 10))
        _ = try await transport.content(Self.digest)
        // a page without one (nothing to fetch) leaves the pass as it was
        _ = try await transport.changes(ChangesRequest(since: "t", limit: 10))
        _ = try await transport.content(Self.digest)
        let fetches = server.asked.withLockedValue { $0 }.filter { $0.path.hasPrefix("/v1/content/") }
        #expect(
            fetches.map(\.query) == [
                nil, "expires=1782464400&pass=40WM1NMH5_F9xutuKuAseg", "expires=1782464400&pass=40WM1NMH5_F9xutuKuAseg",
            ]
        )
    }

    @Test(arguments: [
        "expires=1&pass=a/../../v1/sessions", "expires=1&pass=%2F", "expires=1#x", "pass", "a=1&b=2&c=3&d=4&e=5",
    ])
    func aPassThatIsNotPlainNameValuePairsIsIgnored(_ pass: String) async throws {
        let server = Server(pages: [Self.page(pass: pass)])
        let transport = try Self.transport(to: server)
        _ = try await transport.changes(ChangesRequest(since: nil, limit: 10))
        _ = try await transport.content(Self.digest)
        let fetch = try #require(server.asked.withLockedValue { $0 }.last)
        #expect(fetch.path == "/v1/content/\(Self.digest)" && fetch.query == nil, "\(fetch)")
    }
}
