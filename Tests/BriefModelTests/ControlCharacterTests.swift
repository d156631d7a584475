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
}
