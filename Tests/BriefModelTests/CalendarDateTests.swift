import BriefModel
import Testing

@Suite struct CalendarDateTests {
    @Test func readerFormsOfTheSeedDate() throws {
        let date = try #require(CalendarDate(iso: "2026-06-26"))
        #expect(date.longText == "Friday, June 26, 2026")
        #expect(date.shortText == "Jun 26")
    }

    @Test(arguments: [
        ("1970-01-01", 4), ("2000-02-29", 2), ("2024-12-31", 2), ("2026-06-19", 5), ("2100-03-01", 1),
    ])
    func weekdays(iso: String, weekday: Int) throws {
        #expect(try #require(CalendarDate(iso: iso)).weekday == weekday)
    }

    @Test(arguments: ["2026-02-29", "2026-13-01", "2026-6-26", "26-06-2026", "2026-06-26T00:00", "", "１２３４-01-01"])
    func invalidDatesAreRefused(text: String) {
        #expect(CalendarDate(iso: text) == nil)
    }

    @Test func daysSinceEpochRoundTrip() throws {
        for days in stride(from: 0, to: 40_000, by: 13) {
            let date = try #require(CalendarDate(daysSinceEpoch: days))
            #expect(date.daysSinceEpoch == days)
        }
        #expect(CalendarDate(daysSinceEpoch: 20_630)?.iso == "2026-06-26")
        #expect(CalendarDate(daysSinceEpoch: -1) == nil)
    }
}
