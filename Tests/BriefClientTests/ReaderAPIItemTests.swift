import BriefModel
import BriefTestSupport
import Foundation
import Testing

/// The items of the Reader API by hand, in the order NetNewsWire's `ReaderAPICaller` calls
/// them, and its refusals: 400 with a short text for a malformed parameter, 401 for a missing
/// session or write token, never 5xx.
@Suite struct ReaderAPIItemTests {
    /// A signed-in Reader API client.
    struct Reader {
        let url: String
        let auth: String
        var writeToken = ""

        static func signIn(_ url: String) async throws -> Reader {
            let (signedIn, _) = try await LiveHTTP.send(
                "POST",
                "\(url)/greader/accounts/ClientLogin",
                body: Data("Email=anna&Passwd=correct+horse+battery".utf8),
                type: "application/x-www-form-urlencoded"
            )
            let auth =
                String(decoding: signedIn, as: UTF8.self).split(separator: "\n")
                .first { $0.hasPrefix("Auth=") }.map { String($0.dropFirst(5)) } ?? ""
            var reader = Reader(url: url, auth: auth)
            reader.writeToken = String(decoding: try await reader.get("token").data, as: UTF8.self)
            return reader
        }

        func get(_ path: String, _ query: String = "") async throws -> (data: Data, status: Int) {
            try await LiveHTTP.send(
                "GET",
                "\(url)/greader/reader/api/0/\(path)\(query.isEmpty ? "" : "?" + query)",
                headers: ["Authorization": "GoogleLogin auth=\(auth)"]
            )
        }

        func post(_ path: String, _ form: [(String, String)], token: Bool = true) async throws -> (
            data: Data, status: Int
        ) {
            let fields = form + (token ? [("T", writeToken)] : [])
            let body = fields.map { "\($0.0)=\(Self.encode($0.1))" }.joined(separator: "&")
            return try await LiveHTTP.send(
                "POST",
                "\(url)/greader/reader/api/0/\(path)",
                headers: ["Authorization": "GoogleLogin auth=\(auth)"],
                body: Data(body.utf8),
                type: "application/x-www-form-urlencoded"
            )
        }

        /// The decimal item ids a stream lists.
        func ids(_ query: String) async throws -> [Int64] {
            let (data, status) = try await get("stream/items/ids", query)
            #expect(status == 200, "\(query): \(String(decoding: data, as: UTF8.self))")
            guard case .array(let refs)? = try JSONDecoder().decode(JSONValue.self, from: data)["itemRefs"] else {
                return []
            }
            return refs.compactMap {
                guard case .string(let id)? = $0["id"] else {
                    return nil
                }
                return Int64(id)
            }
        }

        static func encode(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~")))
                ?? text
        }
    }

    static let unread = "s=user/-/state/com.google/reading-list&xt=user/-/state/com.google/read&n=10000"
    static let starred = "s=user/-/state/com.google/starred&n=10000"

    @Test func netNewsWiresOrderMarksEveryIdReadBeforePullingTheUnreadList() async throws {
        try await LiveServer.run { url in
            let phone = try TemporaryHome()
            _ = try await BriefDeviceProcess.succeed(
                phone,
                ["register", "--server", url, "--user", "anna"],
                password: LiveHTTP.password
            )
            let reader = try await Reader.signIn(url)
            #expect(try await reader.get("subscription/list").status == 200)
            #expect(try await reader.get("tag/list").status == 200)
            // its first sync: the unread ids and the starred ids, then the contents of each, asked
            // with the hex unpadded
            let unread = try await reader.ids(Self.unread)
            #expect(unread.count == 2)
            #expect(try await reader.ids(Self.starred).isEmpty)
            let (contents, fetched) = try await reader.post(
                "stream/items/contents",
                unread.map { ("i", "tag:google.com,2005:reader/item/" + String(UInt64(bitPattern: $0), radix: 16)) },
                token: false
            )
            #expect(fetched == 200)
            let items = try JSONDecoder().decode(JSONValue.self, from: contents)["items"]
            #expect(items?[0]?["origin"]?["streamId"] != nil && items?[1] != nil && items?[2] == nil)
            for index in 0..<2 {
                guard case .string(let html)? = items?[index]?["content"]?["content"],
                    case .string(let title)? = items?[index]?["title"]
                else {
                    Issue.record("item \(index) lacks a title or content: \(String(decoding: contents, as: UTF8.self))")
                    continue
                }
                #expect(!title.isEmpty && html.contains("Key takeaways") && html.contains("Source Intelligence"))
            }

            // the user reads both in the app: it marks every id read, in the padded long form,
            // before it pulls the unread list again, which must then be empty
            let padded = unread.map { ReaderAPIItemTests.padded($0) }
            let (_, marked) = try await reader.post(
                "edit-tag",
                padded.map { ("i", $0) } + [("a", "user/-/state/com.google/read")]
            )
            #expect(marked == 200)
            #expect(try await reader.ids(Self.unread).isEmpty)
            #expect(Set(try await reader.ids("s=user/-/state/com.google/read&n=10000")) == Set(unread))
            let (counts, _) = try await reader.get("unread-count")
            #expect(
                String(decoding: counts, as: UTF8.self).contains(
                    #""count":0,"id":"user/-/state/com.google/reading-list""#
                )
            )

            // the phone shows them read after its next sync
            _ = try await BriefDeviceProcess.succeed(phone, ["sync"], password: "")
            let listed = try await BriefDeviceProcess.succeed(phone, ["list", "--json"], password: "")
            #expect(listed.json?[0]?["isRead"] == .bool(true) && listed.json?[1]?["isRead"] == .bool(true))
            #expect(listed.json?[2] == nil)
        }
    }

    static func padded(_ id: Int64) -> String {
        let hex = String(UInt64(bitPattern: id), radix: 16)
        return "tag:google.com,2005:reader/item/" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    @Test func malformedParametersGet400AndMissingCredentials401NeverA5xx() async throws {
        try await LiveServer.run { url in
            _ = try await LiveHTTP.register("anna", at: url)
            let reader = try await Reader.signIn(url)
            let item = try #require(try await reader.ids("s=user/-/state/com.google/reading-list").first)
            for (query, wanted) in [
                ("n=1", "s is missing"), ("s=bogus", "s must"), ("s=feed/climate&n=-3", "n must"),
                ("s=feed/climate&r=sideways", "r must"), ("s=feed/climate&ot=yesterday", "ot must"),
                ("s=feed/climate&c=%00", "c must"), ("s=feed/climate&xt=feed/ai-tech", "xt must"),
            ] {
                let (text, status) = try await reader.get("stream/items/ids", query)
                #expect(status == 400 && String(decoding: text, as: UTF8.self).hasPrefix(wanted), "\(query)")
            }
            for (path, form, token, status, wanted) in [
                ("stream/items/contents", [(String, String)](), false, 400, "i is missing"),
                ("stream/items/contents", [("i", "tag:google.com,2005:reader/item/zz")], false, 400, "i must"),
                ("stream/items/contents", [("i", "12345678901234567890")], false, 400, "i must"),
                (
                    "edit-tag", [("i", String(item)), ("a", "user/-/state/com.google/read")], false, 401,
                    "Bad write token"
                ),
                ("edit-tag", [("i", String(item))], true, 400, "a or r is missing"),
                (
                    "edit-tag", [("i", String(item)), ("a", "user/-/state/com.google/liked-by-cats/x")], true, 400,
                    "a and r"
                ),
                ("edit-tag", [("a", "user/-/state/com.google/read")], true, 400, "i is missing"),
                ("mark-all-as-read", [(String, String)](), true, 400, "s is missing"),
                ("mark-all-as-read", [("s", "feed/climate"), ("ts", "soon")], true, 400, "ts must"),
                ("mark-all-as-read", [("s", "feed/climate")], false, 401, "Bad write token"),
                ("mark-all-as-read", [("s", "feed/nowhere")], true, 404, "no such feed"),
            ] {
                let (text, got) = try await reader.post(path, form, token: token)
                #expect(got == status && String(decoding: text, as: UTF8.self).hasPrefix(wanted), "\(path) \(form)")
            }
            // an item that is not a brief is skipped, not refused: the app may list it from before
            let (skipped, status) = try await reader.post(
                "edit-tag",
                [("i", "77"), ("a", "user/-/state/com.google/starred")]
            )
            #expect(status == 200 && String(decoding: skipped, as: UTF8.self) == "OK")
            #expect(try await reader.ids(Self.starred).isEmpty)
            // no session at all
            let anonymous = Reader(url: url, auth: "bs1_forged")
            #expect(try await anonymous.get("stream/items/ids", "s=feed/climate").status == 401)
            #expect(try await anonymous.get("unread-count").status == 401)
            #expect(try await anonymous.post("stream/items/contents", [("i", "1")]).status == 401)
        }
    }
}
