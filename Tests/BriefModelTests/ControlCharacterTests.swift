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
}
