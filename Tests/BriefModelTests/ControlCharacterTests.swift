import Testing

@testable import BriefModel

@Suite struct ControlCharacterTests {
    /// The fast check by value answers what the general-category lookup it replaced answered.
    @Test func theValueCheckMatchesTheGeneralCategory() {
        var mismatches: [String] = []
        for value in UInt32(0)...0xFFFF {
            guard let scalar = Unicode.Scalar(value) else {
                continue  // surrogates
            }
            let byCategory = scalar.properties.generalCategory == .control && scalar != "\n" && scalar != "\t"
            if FieldReader.isForbiddenControl(scalar) != byCategory {
                mismatches.append("U+\(String(value, radix: 16))")
            }
        }
        #expect(mismatches.isEmpty)
    }

    /// The check of a whole text on its bytes finds what the check of each scalar finds, alone
    /// or among others (every scalar of the Basic Multilingual Plane and some beyond it).
    @Test func theTextCheckOnBytesMatchesTheScalarCheck() {
        var mismatches: [String] = []
        for value in Array(UInt32(0)...0xFFFF) + [0x1_0000, 0x1_F600, 0x10_FFFF] {
            guard let scalar = Unicode.Scalar(value) else {
                continue  // surrogates
            }
            let forbidden = FieldReader.isForbiddenControl(scalar)
            for text in [String(scalar), "é\(scalar)x", "\u{C2}\(scalar)"] {
                if FieldReader.containsForbiddenControl(text) != forbidden {
                    mismatches.append("U+\(String(value, radix: 16)) in \(text.debugDescription)")
                }
            }
        }
        #expect(mismatches.isEmpty)
        #expect(!FieldReader.containsForbiddenControl("A line\nand a\ttab, Â, ©, \u{A0}"))
        #expect(FieldReader.containsForbiddenControl("ends with NEL\u{85}"))
    }

    /// The white-space checks on a text's first and last bytes answer what asking its first and
    /// last characters answers: every scalar of the Basic Multilingual Plane at either end, after
    /// or before ASCII, and every ASCII byte after the scalars that prepend to the next character
    /// (grapheme rule GB9b), where a trailing space is not a character of its own.
    @Test func theWhitespaceChecksMatchTheCharacterProperty() {
        let prepended: [UInt32] = [
            0x600, 0x601, 0x602, 0x603, 0x604, 0x605, 0x6DD, 0x70F, 0x890, 0x891, 0x8E2, 0xD4E,
            0x110BD, 0x110CD, 0x111C2, 0x111C3, 0x1193F, 0x11941, 0x11A3A, 0x11A84, 0x11D46,
        ]
        var texts = ["", " ", "\r\n", "x\r\n", "\r\nx", "e\u{301}", " \u{301}", "x \u{301}", "\u{A0}x", "x\u{3000}"]
        for value in UInt32(0)...0xFFFF {
            guard let scalar = Unicode.Scalar(value) else {
                continue  // surrogates
            }
            texts += [String(scalar), "\(scalar)x", "x\(scalar)", "\(scalar) ", " \(scalar)"]
        }
        for value in prepended {
            let scalar = Unicode.Scalar(value)!
            for byte in UInt8(0)..<0x80 {
                texts += ["\(scalar)\(Unicode.Scalar(byte))", "a\(scalar)\(Unicode.Scalar(byte))"]
            }
        }
        var mismatches: [String] = []
        for text in texts {
            if FieldReader.startsWithWhitespace(text) != (text.first?.isWhitespace == true) {
                mismatches.append("first of \(text.debugDescription)")
            }
            if FieldReader.endsWithWhitespace(text) != (text.last?.isWhitespace == true) {
                mismatches.append("last of \(text.debugDescription)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(20))")
        // the case the last byte alone would get wrong: one character, an Arabic number sign
        // with the space it prepends to, is not white space
        #expect(!FieldReader.endsWithWhitespace("1\u{600} "))
        #expect(FieldReader.endsWithWhitespace("1\u{600}\t"))
    }
}
