import Foundation
import Testing

@testable import BriefModel

/// `JSONValue(json:)` (Foundation's parser) must give the tree that decoding a `JSONValue` with
/// `JSONDecoder` gives, or fail where it fails: devices read pages with the first, publishers'
/// documents are read with the second, and both are validated by the same rules.
@Suite struct JSONValueParsingTests {
    /// The tree each way; `nil` where that way fails.
    private func bothWays(_ text: String) -> (parsed: JSONValue?, decoded: JSONValue?) {
        let data = Data(text.utf8)
        return (try? JSONValue(json: data), try? JSONDecoder().decode(JSONValue.self, from: data))
    }

    static let numbers = [
        "0", "-0", "1", "-1", "3.0", "3.5", "-0.0", "1e3", "1E3", "1.5e1", "2e-1", "1e-400", "0.1", "100.0",
        "9007199254740993", "9007199254740993.0", "9223372036854775807", "-9223372036854775808",
        "9223372036854775808", "-9223372036854775809", "18446744073709551615", "123456789012345678901234567890",
        "1.7976931348623157e308", "5e-324", "1e308", "12.000000000000001",
        // doubles as Swift prints them that JSONSerialization misreads on Linux (by 2 ulps)
        "0.8775887180790606", "0.35136932614943583", "1.6166785305173048e+107",
    ]

    @Test(arguments: numbers)
    func aNumberIsTheSameValueEitherWay(_ number: String) {
        for text in [number, "[\(number)]", #"{"n":\#(number)}"#] {
            let (parsed, decoded) = bothWays(text)
            #expect(parsed == decoded, "\(text)")
        }
    }

    static let documents = [
        #"{"a":true,"b":false,"c":null,"d":[1,"1",true,null,{}],"e":{"f":[]}}"#,
        #"["é", "\u00e9", "\ud83d\ude00", "😀", "\"\\\/\b\f\n\r\t", "", " "]"#,
        #"{"a":1,"a":2}"#, #"  [ 1 , 2 ]  "#, "\"top\"", "true", "null", "[1,]", #"{"a":1,}"#,
        // invalid, both must refuse
        #"["\ud800"]"#, "[\"\u{7}\"]", "[01]", "[NaN]", "[1] x", "[1e400]", "{", "", #"{"a"}"#, "[tru]", "[+1]",
        "[.5]", #"{'a':1}"#,
    ]

    @Test(arguments: documents)
    func aDocumentIsTheSameTreeOrRefusedEitherWay(_ text: String) {
        let (parsed, decoded) = bothWays(text)
        #expect(parsed == decoded, "\(text)")
    }

    @Test func invalidUTF8IsRefusedEitherWay() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x5B, 0x22, 0xC3, 0x22, 0x5D], [0x22, 0xED, 0xA0, 0x80, 0x22]] {
            let data = Data(bytes)
            #expect((try? JSONValue(json: data)) == nil)
            #expect((try? JSONDecoder().decode(JSONValue.self, from: data)) == nil)
        }
    }

    @Test func otherEncodingsAreReadAsTheDecoderReadsThem() throws {
        // the member count reads UTF-8 only: a key twice must not hide behind other bytes
        let encoded = [#"{"a":"\#u{223A}","b":[1,2]}"#, #"{"a":"\#u{2200}","a":1,"b":[1,2]}"#].flatMap {
            text -> [Data?] in
            [
                text.data(using: .utf16LittleEndian), text.data(using: .utf16BigEndian), text.data(using: .utf16),
                Data([0xEF, 0xBB, 0xBF] + Array(text.utf8)),
            ]
        }
        for data in encoded {
            let data = try #require(data)
            #expect(JSONValue.parsedByFoundation(data) == nil)
            #expect((try? JSONValue(json: data)) == (try? JSONDecoder().decode(JSONValue.self, from: data)))
        }
    }

    @Test func everyExampleIsTheSameTreeEitherWay() throws {
        let folder = Repository.url("Schema/examples")
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }
        let wire = try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("wire").path)
            .map { "wire/\($0)" }
        #expect(names.count >= 2 && wire.count >= 5)
        for name in names + wire {
            let data = try Data(contentsOf: folder.appendingPathComponent(name))
            let parsed = try JSONValue(json: data)
            #expect(parsed == (try JSONDecoder().decode(JSONValue.self, from: data)), "\(name)")
            // and a cut document is refused
            #expect((try? JSONValue(json: data.prefix(data.count / 2))) == nil, "\(name)")
        }
    }

    @Test func foundationReadsDocumentsOfIntegersAndLeavesTheRestToTheDecoder() throws {
        // the fast way is taken for what servers send: briefs hold strings, integers and booleans
        let seed = try Repository.data(Repository.exampleBriefPath)
        #expect(JSONValue.parsedByFoundation(seed) != nil)
        #expect(JSONValue.parsedByFoundation(Data(#"{"a":[1,-2,true,null,"x:\"y"]}"#.utf8)) != nil)
        // and not where JSONSerialization could differ
        for text in [#"{"a":1,"a":2}"#, #"{"a":{"b":1,"b":1}}"#, "[3.0]", "[1e3]", "[9223372036854775808]", "[1,"] {
            #expect(JSONValue.parsedByFoundation(Data(text.utf8)) == nil, "\(text)")
        }
    }

    @Test func theSeedIsTheSameBriefEitherWay() throws {
        let data = try Repository.data(Repository.exampleBriefPath)
        #expect(try Brief.validate(JSONValue(json: data)) == Repository.exampleBrief())
    }
}
