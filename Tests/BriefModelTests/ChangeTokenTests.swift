import BriefModel
import BriefToken
import Foundation
import PropertyBased
import Testing

@Suite struct ChangeTokenTests {
    let codec: ChangeTokenCodec
    let otherCodec: ChangeTokenCodec

    init() throws {
        codec = try ChangeTokenCodec(secret: Array(repeating: 7, count: 32))
        otherCodec = try ChangeTokenCodec(secret: Array(repeating: 8, count: 32))
    }

    @Test func roundTrips() async {
        await propertyCheck(
            count: 2_000,
            input: Gen.uint32(in: 0...UInt32.max),
            Gen.uint64(in: 0...UInt64.max),
            Gen.uint64(in: 0...UInt64.max),
            Gen.int(in: 0...5),
            Gen.letterOrNumber.string(of: 1...20)
        ) { epoch, content, state, shape, user in
            // shape: 0 no catch-up; 1–5 catch-ups of every topic or one, with or without a window and a mark
            var cursor = FeedCursor(content: content, state: state)
            if shape > 0 {
                let day = Int(state % 40_000)
                cursor.catchUp = CatchUp(
                    topic: shape.isMultiple(of: 2) ? TopicID(rawValue: String(repeating: "t", count: 64)) : nil,
                    through: content / 2,
                    window: shape > 2 ? CalendarDate(daysSinceEpoch: day) : nil,
                    after: shape > 3 ? CatchUp.Mark(date: CalendarDate(daysSinceEpoch: day + 3)!, position: state) : nil
                )
            }
            let token = ChangeToken(epoch: epoch, cursor: cursor)
            let text = codec.encode(token, for: user)
            #expect(text.utf8.count <= ChangeTokenCodec.maximumTextLength)
            #expect(text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            #expect((try? codec.decode(text, for: user)) == token)
        }
    }

    @Test func aTokenOfProtocolOneIsAnUnsupportedFormat() throws {
        // format 1: the format byte, epoch and one position, then the code
        var bytes: [UInt8] = [1, 0, 0, 0, 1] + Array(repeating: 0, count: 8)
        bytes += Array(repeating: 0, count: 32)
        #expect(throws: ChangeTokenError.unsupportedFormat(1)) { try codec.decode(Data(bytes).base64URL, for: "anna") }
    }

    @Test func everyAlteredByteIsRefused() throws {
        let text = codec.encode(
            ChangeToken(
                epoch: 3,
                cursor: FeedCursor(
                    content: 12_345,
                    state: 7,
                    catchUp: CatchUp(topic: nil, through: 12_000, window: nil)
                )
            ),
            for: "anna"
        )
        let bytes = try #require(Data(base64Encoded: text.base64Padded))
        for index in bytes.indices {
            for bit in [0, 3, 7] {
                var altered = bytes
                altered[index] ^= 1 << bit
                let forged = altered.base64URL
                #expect(throws: ChangeTokenError.self, "byte \(index) bit \(bit)") {
                    try codec.decode(forged, for: "anna")
                }
            }
        }
    }

    @Test func anotherUsersOrServersTokenIsForged() {
        let text = codec.encode(ChangeToken(epoch: 1, cursor: FeedCursor(content: 99, state: 3)), for: "anna")
        #expect(throws: ChangeTokenError.forged) { try codec.decode(text, for: "bob") }
        #expect(throws: ChangeTokenError.forged) { try otherCodec.decode(text, for: "anna") }
        // Scopes are length-prefixed: "ab" + … cannot pass for "a" + "b…".
        let ab = codec.encode(ChangeToken(epoch: 1, cursor: FeedCursor(content: 99, state: 3)), for: "ab")
        #expect(throws: ChangeTokenError.forged) { try codec.decode(ab, for: "a") }
    }

    @Test(arguments: ["", "not a token", "AAAA", String(repeating: "A", count: 500), "AQ==", "😀"])
    func malformedTextIsRefused(text: String) {
        #expect(throws: ChangeTokenError.malformed) { try codec.decode(text, for: "anna") }
    }

    @Test func unknownFormatIsNamed() throws {
        let text = codec.encode(ChangeToken(epoch: 1, cursor: FeedCursor(content: 1, state: 1)), for: "anna")
        var bytes = try #require(Data(base64Encoded: text.base64Padded))
        bytes[0] = 9
        #expect(throws: ChangeTokenError.unsupportedFormat(9)) { try codec.decode(bytes.base64URL, for: "anna") }
    }

    @Test func shortSecretsAreRefused() {
        #expect(throws: ChangeTokenError.weakSecret) { try ChangeTokenCodec(secret: Array(repeating: 1, count: 31)) }
    }
}

extension String {
    fileprivate var base64Padded: String {
        let base = replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        return base + String(repeating: "=", count: (4 - base.utf8.count % 4) % 4)
    }
}

extension Data {
    fileprivate var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
