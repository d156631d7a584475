import ArgumentParser
import BriefClient
import BriefModel
import BriefStore
import Foundation

/// `brief-device explain ID`: per field of a brief's reading state, the value shown, the stamp
/// that won and the rule that chose it, the pending local mutations that still override the
/// server's, and when the server last confirmed it.
struct Explain: DeviceCommand {
    static let configuration = CommandConfiguration(
        abstract: "Why a brief shows the read, saved, progress and last-opened it shows on this device."
    )
    @ParentCommand var device: BriefDevice
    @Argument(help: "The brief's id.") var id: String
    @Flag(help: "Print a JSON object.") var json = false

    struct Output: Encodable {
        struct Field: Encodable {
            var field: String
            var value: JSONValue
            var stamp: HybridTimestamp?
            var rule: String
            /// The value the server last confirmed, before the pending mutations.
            var confirmedValue: JSONValue
            /// Pending mutations of this field, oldest first.
            var pending: [MutationV1]
        }

        var briefId: String
        var fields: [Field]
        var confirmedAt: Int64?
        var pendingMutations: Int
    }

    func execute(_ home: DeviceHome) async throws {
        let id = try briefID(id)
        let library = try await home.library()
        guard try await library.brief(id) != nil else {
            throw DeviceStoreError.unknownBrief(id)
        }
        let explanation = try await library.explain(id)
        let confirmed = Dictionary(
            uniqueKeysWithValues: (explanation.confirmed ?? ReadState(briefID: id)).explanation().map { ($0.field, $0) }
        )
        let output = Output(
            briefId: id.rawValue,
            fields: explanation.visible.explanation().map { field in
                Output.Field(
                    field: field.field.rawValue,
                    value: field.value,
                    stamp: field.stamp,
                    rule: field.rule,
                    confirmedValue: confirmed[field.field]?.value ?? .null,
                    pending: explanation.pending.filter { field.field.isChanged(by: $0.action) }
                )
            },
            confirmedAt: explanation.confirmedAt,
            pendingMutations: explanation.pending.count
        )
        if json {
            try printJSON(output)
            return
        }
        print(id.rawValue)
        for field in output.fields {
            let stamp = field.stamp.map { " · \(Self.describe($0))" } ?? ""
            print("\(field.field.padding(toLength: 11, withPad: " ", startingAt: 0))\(Self.text(field.value))\(stamp)")
            print("           \(field.rule)")
            for mutation in field.pending {
                print(
                    "           pending #\(mutation.id) \(mutation.action.name) · \(Self.describe(mutation.stamp)): not yet sent"
                )
            }
            if field.confirmedValue != field.value {
                print("           the server's: \(Self.text(field.confirmedValue))")
            }
        }
        let confirmedAt = output.confirmedAt.map { Date(timeIntervalSince1970: Double($0) / 1000).description }
        print("Server confirmed  \(confirmedAt ?? "never")")
    }

    static func describe(_ stamp: HybridTimestamp) -> String {
        "\(Date(timeIntervalSince1970: Double(stamp.wall) / 1000)) #\(stamp.counter) by \(stamp.device)"
    }

    static func text(_ value: JSONValue) -> String {
        switch value {
        case .bool(let flag): flag ? "yes" : "no"
        case .number(let fraction): String(format: "%.0f%%", fraction * 100)
        case .integer(let wall): Date(timeIntervalSince1970: Double(wall) / 1000).description
        case .null: "never"
        default: "\(value)"
        }
    }
}
