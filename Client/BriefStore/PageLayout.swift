import Foundation

/// Where the briefs are in the JSON of a changes page: the contents of its `briefs` array, and in
/// each record of it the bytes of the `brief` document and its `version`.
///
/// A device keeps each document as the bytes the server sent, instead of encoding the parsed
/// brief again (an eighth of a first sync's time, BENCHMARKS.md). This reads the page as a server
/// writes it: a top-level `briefs` key written plainly, and records of exactly `brief` and
/// `version`, in any order, with an integer version. For any other shape it gives `nil`, and the
/// page is decoded whole instead. It checks the JSON it reads itself: the array, the records
/// and the versions; the documents and the rest of the page are checked by the parsers that read
/// them (``PreparedPage/init(json:)``).
struct PageLayout {
    struct Record {
        /// The document's bytes, as indices of the page's `Data`.
        var brief: Range<Data.Index>
        var version: Int
    }

    /// Between the `[` and `]` of the `briefs` array.
    var recordsSpan: Range<Data.Index>
    var records: [Record]

    init?(_ data: Data) {
        guard let found = data.withUnsafeBytes({ PageLayout.read(Scanner(bytes: $0)) }) else {
            return nil
        }
        let base = data.startIndex
        recordsSpan = base + found.span.lowerBound..<base + found.span.upperBound
        records = found.records.map {
            Record(brief: base + $0.brief.lowerBound..<base + $0.brief.upperBound, version: $0.version)
        }
    }

    private static func read(_ start: Scanner) -> (span: Range<Int>, records: [Record])? {
        var scanner = start
        var found: (span: Range<Int>, records: [Record])?
        guard scanner.take(UInt8(ascii: "{")) else {
            return nil
        }
        if scanner.take(UInt8(ascii: "}")) {
            return nil
        }
        repeat {
            guard let key = scanner.string(), !scanner.bytes[key].contains(UInt8(ascii: "\\")),
                scanner.take(UInt8(ascii: ":"))
            else {
                return nil
            }
            if scanner.bytes[key].elementsEqual("\"briefs\"".utf8) {
                guard found == nil, let briefs = readRecords(&scanner) else {
                    return nil
                }
                found = briefs
            } else {
                // checked by the decoder that reads the rest of the page
                guard scanner.skipValue() else {
                    return nil
                }
            }
        } while scanner.take(UInt8(ascii: ","))
        guard scanner.take(UInt8(ascii: "}")), scanner.atEnd else {
            return nil
        }
        return found
    }

    private static func readRecords(_ scanner: inout Scanner) -> (span: Range<Int>, records: [Record])? {
        guard scanner.take(UInt8(ascii: "[")) else {
            return nil
        }
        let first = scanner.index
        var records: [Record] = []
        if !scanner.take(UInt8(ascii: "]")) {
            repeat {
                guard let record = readRecord(&scanner) else {
                    return nil
                }
                records.append(record)
            } while scanner.take(UInt8(ascii: ","))
            guard scanner.take(UInt8(ascii: "]")) else {
                return nil
            }
        }
        // up to the closing bracket, space included
        return (first..<scanner.lastTaken, records)
    }

    private static func readRecord(_ scanner: inout Scanner) -> Record? {
        guard scanner.take(UInt8(ascii: "{")) else {
            return nil
        }
        var brief: Range<Int>?
        var version: Int?
        repeat {
            guard let key = scanner.string(), scanner.take(UInt8(ascii: ":")) else {
                return nil
            }
            let name = scanner.bytes[key]
            if name.elementsEqual("\"brief\"".utf8), brief == nil {
                scanner.skipSpace()
                let start = scanner.index
                guard scanner.skipValue() else {
                    return nil
                }
                brief = start..<scanner.index
            } else if name.elementsEqual("\"version\"".utf8), version == nil, let value = scanner.integer() {
                version = value
            } else {
                return nil
            }
        } while scanner.take(UInt8(ascii: ","))
        guard scanner.take(UInt8(ascii: "}")), let brief, let version else {
            return nil
        }
        return Record(brief: brief, version: version)
    }
}

/// Reads JSON's structure from bytes, without building values.
private struct Scanner {
    let bytes: UnsafeRawBufferPointer
    var index = 0
    /// Where the last byte ``take(_:)`` consumed is.
    var lastTaken = 0

    var atEnd: Bool {
        mutating get {
            skipSpace()
            return index == bytes.count
        }
    }

    mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
            default: return
            }
        }
    }

    /// Consumes `byte` after any space, if it comes next.
    mutating func take(_ byte: UInt8) -> Bool {
        skipSpace()
        guard index < bytes.count, bytes[index] == byte else {
            return false
        }
        lastTaken = index
        index += 1
        return true
    }

    /// A string after any space, quotes included.
    mutating func string() -> Range<Int>? {
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
            return nil
        }
        let start = index
        index += 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"):
                index += 2
            case UInt8(ascii: "\""):
                index += 1
                return start..<index
            default:
                index += 1
            }
        }
        return nil
    }

    /// A JSON integer after any space: `-`, then `0` or digits not starting with `0`.
    mutating func integer() -> Int? {
        skipSpace()
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        let start = index
        var value = 0
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            let digit = Int(bytes[index] - UInt8(ascii: "0"))
            let (times, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(digit)
            guard !overflow, !overflow2 else {
                return nil
            }
            value = sum
            index += 1
        }
        let digits = index - start
        guard digits > 0, digits == 1 || bytes[start] != UInt8(ascii: "0") else {
            return nil
        }
        if index < bytes.count {
            // a fraction or an exponent: not an integer as written
            switch bytes[index] {
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): return nil
            default: break
            }
        }
        return negative ? -value : value
    }

    /// Passes over one value after any space: a string, an object or array with everything in
    /// it, or a scalar up to the next delimiter. It checks only that brackets and strings close.
    mutating func skipValue() -> Bool {
        skipSpace()
        guard index < bytes.count else {
            return false
        }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            return string() != nil
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    guard string() != nil else {
                        return false
                    }
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 {
                        index += 1
                        return true
                    }
                default:
                    break
                }
                index += 1
            }
            return false
        default:
            let start = index
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), UInt8(ascii: " "), UInt8(ascii: "\t"),
                    UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                    return index > start
                default:
                    index += 1
                }
            }
            return index > start
        }
    }
}
