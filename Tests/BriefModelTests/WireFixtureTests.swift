import BriefModel
import Foundation
import Testing
import Yams

/// The golden fixtures under `Schema/examples/`: each decodes into its Swift type and encodes
/// back to equal JSON, and each satisfies the schema `Schema/openapi.yaml` gives it.
@Suite struct WireFixtureTests {
    /// How each schema's fixtures are read and written by the Swift types.
    static let swiftTypes: [String: @Sendable (Data) throws -> Data] = [
        "Brief": roundTrip(Brief.self),
        "ChangesPage": roundTrip(ChangesPageV2.self),
        "PushRequest": roundTrip(PushRequestV1.self),
        "PushResult": roundTrip(PushResultV1.self),
        "Error": roundTrip(ErrorResponseV1.self),
        "Credentials": roundTrip(CredentialsV1.self),
        "Session": roundTrip(SessionV1.self),
        "PublishResult": roundTrip(PublishResultV1.self),
        "TopicList": roundTrip(TopicListV1.self),
        "Health": roundTrip(HealthV1.self),
        "SessionList": roundTrip(SessionListV1.self),
        "PasswordChange": roundTrip(PasswordChangeV1.self),
        "AccountDeletion": roundTrip(AccountDeletionV1.self),
        "FeedKey": roundTrip(FeedKeyV1.self),
    ]

    let openAPI: JSONValue
    let validator: SchemaValidator

    init() throws {
        let yaml = try Repository.text("Schema/openapi.yaml")
        openAPI = try JSONValue(yaml: try #require(try Yams.load(yaml: yaml)))
        validator = SchemaValidator(documents: [
            "openapi": openAPI, "./brief.schema.json": try Repository.json("Schema/brief.schema.json"),
        ])
    }

    var fixturesBySchema: [(schema: String, file: String)] {
        guard case .object(let schemas)? = openAPI["components"]?["schemas"] else {
            return []
        }
        return schemas.sorted { $0.key < $1.key }.flatMap { name, schema -> [(String, String)] in
            guard case .array(let files)? = schema["x-fixtures"] else {
                return []
            }
            return files.compactMap { if case .string(let file) = $0 { (name, file) } else { nil } }
        }
    }

    @Test func everyFixtureDecodesAndReencodesToEqualJSON() throws {
        #expect(fixturesBySchema.count >= 13)
        for (schema, file) in fixturesBySchema {
            let roundTrip = try #require(Self.swiftTypes[schema], "no Swift type for schema \(schema)")
            let data = try Repository.data("Schema/examples/\(file)")
            let reencoded = try roundTrip(data)
            #expect(
                try JSONDecoder().decode(JSONValue.self, from: reencoded)
                    == JSONDecoder().decode(JSONValue.self, from: data),
                "\(file) changed in a round trip"
            )
        }
    }

    @Test func everyFixtureMatchesItsSchemaInTheOpenAPIDescription() throws {
        for (schema, file) in fixturesBySchema {
            let problems = validator.validate(
                try Repository.json("Schema/examples/\(file)"),
                against: .object(["$ref": .string("#/components/schemas/\(schema)")]),
                in: "openapi"
            )
            #expect(problems.isEmpty, "\(file) against \(schema): \(problems)")
        }
    }

    @Test func everyExampleFileIsDescribed() throws {
        let described = Set(fixturesBySchema.map(\.file))
        let examples = Repository.url("Schema/examples")
        let files =
            try FileManager.default.contentsOfDirectory(atPath: examples.path).filter { $0.hasSuffix(".json") }
            + FileManager.default.contentsOfDirectory(atPath: examples.appendingPathComponent("wire").path).map {
                "wire/\($0)"
            }
        #expect(!files.isEmpty)
        for file in files {
            #expect(described.contains(file), "\(file) is not named by any schema's x-fixtures")
        }
    }

    @Test func everyReferenceInTheDescriptionResolves() {
        var references: [String] = []
        func collect(_ value: JSONValue) {
            switch value {
            case .object(let members):
                if case .string(let reference)? = members["$ref"] {
                    references.append(reference)
                }
                members.values.forEach(collect)
            case .array(let elements): elements.forEach(collect)
            default: break
            }
        }
        collect(openAPI)
        #expect(references.count > 40)
        for reference in references where reference.hasPrefix("#/") {
            let problems = validator.validate(.null, against: .object(["$ref": .string(reference)]), in: "openapi")
            #expect(!problems.contains { $0.contains("unresolved") }, "\(reference)")
        }
    }

    @Test func theSchemaCheckCanFail() throws {
        // A fixture with a required key removed, a key added and a wrong type must be refused,
        // or the test above proves nothing.
        let page = try Repository.json("Schema/examples/wire/changes-page.json")
            .replacing(["hasMore"], with: nil)
            .replacing(["surprise"], with: .bool(true))
            .replacing(["readStates", 0, "progress"], with: .string("half"))
        let problems = validator.validate(
            page,
            against: .object(["$ref": .string("#/components/schemas/ChangesPage")]),
            in: "openapi"
        )
        #expect(
            Set(problems) == [
                "$.hasMore: missing", "$.surprise: not allowed",
                "$.readStates[0].progress: expected number, found string",
            ]
        )
        let brief = try Repository.json(Repository.exampleBriefPath).replacing(
            ["sources", 0, "date"],
            with: .string("June")
        )
        let briefProblems = validator.validate(
            brief,
            against: .object(["$ref": .string("#/components/schemas/Brief")]),
            in: "openapi"
        )
        #expect(briefProblems == ["$.sources[0].date: does not match ^[0-9]{4}-[0-9]{2}-[0-9]{2}$"])
    }

    @Test func derivedValuesOfAReadStateFollowItsStamps() throws {
        // The fixture's top-level values are informational; decoding recomputes them from "clock".
        let page = try Repository.json("Schema/examples/wire/changes-page.json")
            .replacing(["readStates", 0, "isRead"], with: .bool(false))
        let decoded = try WireCoding.decoder().decode(ChangesPageV2.self, from: JSONEncoder().encode(page))
        #expect(decoded.readStates[0].isRead)
    }

    private static func roundTrip<T: Codable & SendableMetatype>(_ type: T.Type) -> @Sendable (Data) throws -> Data {
        { data in try WireCoding.encoder().encode(try WireCoding.decoder().decode(T.self, from: data)) }
    }
}

extension JSONValue {
    /// Converts what Yams loads into a JSON value; YAML-only types are refused.
    init(yaml: Any) throws {
        switch yaml {
        case is NSNull: self = .null
        case let value as Bool: self = .bool(value)
        case let value as Int: self = .integer(Int64(value))
        case let value as Double: self = .number(value)
        case let value as String: self = .string(value)
        case let value as [Any]: self = .array(try value.map(JSONValue.init(yaml:)))
        case let value as [String: Any]: self = .object(try value.mapValues(JSONValue.init(yaml:)))
        case let value as [AnyHashable: Any]:
            self = .object(
                try Dictionary(
                    uniqueKeysWithValues: value.map { key, member in ("\(key)", try JSONValue(yaml: member)) }
                )
            )
        default:
            throw CocoaError(
                .coderInvalidValue,
                userInfo: [NSDebugDescriptionErrorKey: "YAML value of type \(type(of: yaml))"]
            )
        }
    }
}
