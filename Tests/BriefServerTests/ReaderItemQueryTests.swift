import BriefModel
import HTTPTypes
import Testing

@testable import BriefServer

/// How the Reader API reads item ids and a stream's parameters, with the forms and names its
/// clients send (NetNewsWire's ReaderAPICaller, google-reader, FreshRSS's documentation).
@Suite struct ReaderItemQueryTests {
    @Test func itemIDsAreReadInEveryFormClientsSend() throws {
        let id = ReaderItemID(rawValue: 1_782_460_800_000_123)
        #expect(id.longForm == "tag:google.com,2005:reader/item/000655237ecf607b")
        #expect(id.shortForm == "1782460800000123")
        for form in [
            "tag:google.com,2005:reader/item/000655237ecf607b",  // padded, as edit-tag sends it
            "tag:google.com,2005:reader/item/655237ecf607b",  // unpadded, as items/contents does
            "tag:google.com,2005:reader/item/655237ECF607B", "1782460800000123",
        ] {
            #expect(ReaderItemID(form) == id, "\(form)")
        }
        // the 64 bits are two's complement: a negative short form is the same item as its hex
        let negative = try #require(ReaderItemID("-2"))
        #expect(negative.longForm == "tag:google.com,2005:reader/item/fffffffffffffffe")
        #expect(ReaderItemID(negative.longForm) == negative)
        for malformed in [
            "", "-", "+12", "12a", "tag:google.com,2005:reader/item/", "tag:google.com,2005:reader/item/+1",
            "tag:google.com,2005:reader/item/00000000000000001", "tag:google.com,2005:reader/item/xyz",
            "99999999999999999999", " 12",
        ] {
            #expect(ReaderItemID(malformed) == nil, "\(malformed)")
        }
    }

    func query(_ text: String, stream: String = ReaderStreams.readingList) throws(ReaderError) -> ReaderItemQuery {
        try ReaderItemQuery(readerForm: Form(query: text), stream: stream)
    }

    @Test func streamsAndStatesNarrowTheQuery() throws {
        let reading = try query("")
        #expect(reading.scope == .followed && reading.read == nil && reading.limit == 20 && !reading.oldestFirst)
        #expect(try query("", stream: "feed/climate").scope == .topic(TopicID(rawValue: "climate")!))
        let starred = try query("", stream: "user/-/state/com.google/starred")
        #expect(starred.scope == .all && starred.saved == true)
        // the user's own id may stand for "-"
        #expect(try query("", stream: "user/1234/state/com.google/read").read == true)
        // NetNewsWire's unread list: the reading list without the read ones
        let unread = try query("xt=user%2F-%2Fstate%2Fcom.google%2Fread&n=10000")
        #expect(unread.read == false && unread.limit == 10_000)
        #expect(try query("it=user/-/state/com.google/starred").saved == true)
        #expect(try query("n=50000").limit == ReaderItemQuery.maxCount)
        // read and unread at once, or only a label (BriefSync has none): nothing
        #expect(try query("xt=user/-/state/com.google/read", stream: ReaderStreams.read).matchesNothing)
        #expect(try query("", stream: "user/-/label/Tech").matchesNothing)
        #expect(try query("it=user/-/label/Tech").matchesNothing)
        #expect(try !query("xt=user/-/label/Tech").matchesNothing)
        #expect(try !query("xt=user/-/state/com.google/kept-unread").matchesNothing)
    }

    @Test func timesAndContinuationsBoundTheItemIDs() throws {
        // ot and nt are in seconds; item ids are microseconds of receipt
        let since = try query("ot=1782460800&nt=1782547200")
        #expect(since.lowest == 1_782_460_800_000_000 && since.highest == 1_782_547_199_999_999)
        // a continuation is the last item id of the page: the next page starts past it
        #expect(try query("c=500").highest == 499)
        let oldest = try query("r=o&c=500")
        #expect(oldest.oldestFirst && oldest.lowest == 501 && oldest.highest == .max)
        #expect(try query("c=\(Int64.min)").matchesNothing)
        #expect(try query("r=o&c=\(Int64.max)").matchesNothing)
        #expect(try !query("c=").matchesNothing)
    }

    @Test func malformedParametersAreRefusedWithTheirName() {
        for (text, stream, name) in [
            ("n=0", ReaderStreams.readingList, "n"), ("n=ten", ReaderStreams.readingList, "n"),
            ("r=x", ReaderStreams.readingList, "r"), ("ot=-1", ReaderStreams.readingList, "ot"),
            ("ot=99999999999999999", ReaderStreams.readingList, "ot"), ("nt=soon", ReaderStreams.readingList, "nt"),
            ("c=abc", ReaderStreams.readingList, "c"), ("xt=feed/climate", ReaderStreams.readingList, "xt"),
            ("it=bogus", ReaderStreams.readingList, "it"), ("", "bogus", "s"), ("", "feed/Not A Topic", "s"),
            ("", "user/-/state/other/read", "s"),
        ] {
            #expect(throws: ReaderError.self, "\(text) \(stream)") { try query(text, stream: stream) }
            do {
                _ = try query(text, stream: stream)
            } catch {
                #expect(error.status == .badRequest && error.text.hasPrefix(name + " "), "\(error.text)")
            }
        }
    }
}
