import BriefModel
import Foundation
import Testing

@Suite struct ProtocolTests {
    @Test func versionNegotiation() throws {
        #expect(try WireProtocol.negotiate(nil).get() == 2)
        #expect(try WireProtocol.negotiate(" 2 ").get() == 2)
        #expect(try WireProtocol.negotiate("\t 2\t").get() == 2)
        // version 1 (documents inside pages) is retired; only HTTP's optional whitespace (spaces,
        // tabs) is allowed around the number
        for header in ["1", "3", "0", "one", "", " ", "2 2", "\u{A0}2", "2\n", "02x"] {
            guard case .failure(let error) = WireProtocol.negotiate(header) else {
                Issue.record("\(header) accepted")
                continue
            }
            #expect(error.error.code == .unsupportedProtocol)
        }
    }

    @Test func pushValidationNamesEveryBadMutationByIndex() throws {
        let push: JSONValue = .object([
            "protocol": .integer(1),
            "deviceId": .string("phone"),
            "mutations": .array([
                mutation(id: 5, action: "progress", value: .number(1.5)),
                mutation(id: 4, action: "read"),
                mutation(id: 6, action: "shout"),
                mutation(id: 7, action: "read", device: "tablet"),
                mutation(id: 8, action: "save", value: .number(0.5)),
                mutation(id: 9, action: "restart"),
                mutation(id: 10, action: "open", brief: "../x"),
            ]),
        ])
        let error = try #require(throws: DocumentValidationError.self) { try PushRequestV1.validate(push) }
        #expect(
            error.issues.map(\.description) == [
                "mutations[0].value: progress must be between 0 and 1",
                "mutations[1].id: not above the previous mutation's id 5",
                "mutations[2].action: unknown action \"shout\"",
                "mutations[3].stamp.device: is not the pushing device phone",
                "mutations[4].value: \"save\" takes no value",
                "mutations[5].action: \"restart\" needs a value",
                "mutations[6].briefId: may contain only letters, digits, '.', '_' and '-'",
            ]
        )
    }

    @Test func pushRefusesNaNAndHugeBatches() throws {
        let many = (1...(PushRequestV1.maxMutations + 1)).map { mutation(id: $0, action: "open") }
        let push: JSONValue = .object([
            "protocol": .integer(1), "deviceId": .string("phone"), "mutations": .array(many),
        ])
        let error = try #require(throws: DocumentValidationError.self) { try PushRequestV1.validate(push) }
        #expect(error.issues.map(\.description) == ["mutations: more than 500 elements"])
        #expect(
            ReadAction.make(name: "progress", value: .nan)
                == .failure(ReadActionError(reason: "progress must be between 0 and 1"))
        )
    }

    @Test func validationErrorBecomesTheErrorShape() throws {
        let issues = [ValidationIssue(path: "title", reason: "missing")]
        let response = ErrorResponseV1(DocumentValidationError(issues: issues))
        let json = try JSONDecoder().decode(JSONValue.self, from: WireCoding.encoder().encode(response))
        #expect(json["error"]?["code"] == .string("validation_failed"))
        #expect(json["error"]?["details"]?[0]?["path"] == .string("title"))
    }

    private func mutation(
        id: Int,
        action: String,
        value: JSONValue? = nil,
        device: String = "phone",
        brief: String = "b-1"
    ) -> JSONValue {
        var members: [String: JSONValue] = [
            "id": .integer(Int64(id)), "briefId": .string(brief), "action": .string(action),
            "stamp": .object(["wall": .integer(1000), "counter": .integer(0), "device": .string(device)]),
        ]
        members["value"] = value
        return .object(members)
    }
}
