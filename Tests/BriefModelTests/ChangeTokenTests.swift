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
            Gen.letterOrNumber.string(of: 1...20)
        ) { epoch, position, user in
            let token = ChangeToken(epoch: epoch, position: position)
            let text = codec.encode(token, for: user)
            #expect(text.utf8.count == 60)
            #expect(text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            #expect((try? codec.decode(text, for: user)) == token)
        }
    }

    @Test func everyAlteredByteIsRefused() throws {
        let text = codec.encode(ChangeToken(epoch: 3, position: 12_345), for: "anna")
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
        let text = codec.encode(ChangeToken(epoch: 1, position: 99), for: "anna")
        #expect(throws: ChangeTokenError.forged) { try codec.decode(text, for: "bob") }
        #expect(throws: ChangeTokenError.forged) { try otherCodec.decode(text, for: "anna") }
        // Scopes are length-prefixed: "ab" + … cannot pass for "a" + "b…".
        let ab = codec.encode(ChangeToken(epoch: 1, position: 99), for: "ab")
        #expect(throws: ChangeTokenError.forged) { try codec.decode(ab, for: "a") }
    }

    @Test(arguments: ["", "not a token", "AAAA", String(repeating: "A", count: 500), "AQ==", "😀"])
    func malformedTextIsRefused(text: String) {
        #expect(throws: ChangeTokenError.malformed) { try codec.decode(text, for: "anna") }
    }

    @Test func unknownFormatIsNamed() throws {
        let text = codec.encode(ChangeToken(epoch: 1, position: 1), for: "anna")
        var bytes = try #require(Data(base64Encoded: text.base64Padded))
        bytes[0] = 2
        #expect(throws: ChangeTokenError.unsupportedFormat(2)) { try codec.decode(bytes.base64URL, for: "anna") }
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
