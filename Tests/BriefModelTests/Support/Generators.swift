import BriefModel
import PropertyBased

/// Generators of read-states and the actions that make them. Values are drawn from small ranges
/// on purpose: few devices, few wall times and few progress values make equal stamps, ties and
/// restarts between marks common, which is where merge rules go wrong.
enum Gens {
    static let devices = ["a", "b", "c"].compactMap(DeviceID.init(rawValue:))
    static let briefID = BriefID(rawValue: "brief-1")!
    static let values: [Double] = [0, 0.1, 0.25, 0.5, 0.5, 0.75, 0.9, 1]

    static var stamp: Generator<HybridTimestamp, some SendableSequenceType> {
        zip(Gen.int(in: 0...12), Gen.int(in: 0...2), Gen.int(in: 0...2)).map { wall, counter, device in
            HybridTimestamp(wall: Int64(wall), counter: UInt32(counter), device: devices[device])
        }
    }

    static var action: Generator<ReadAction, some SendableSequenceType> {
        zip(Gen.int(in: 0...8), Gen.int(in: 0...7)).map { kind, value in
            switch kind {
            case 0: ReadAction.markRead
            case 1: .markUnread
            case 2: .save
            case 3: .unsave
            case 4, 5: .progress(values[value])
            case 6: .restartProgress(values[value] / 2)
            default: .open
            }
        }
    }

    static var event: Generator<Event, some SendableSequenceType> {
        zip(action, stamp).map { Event(action: $0, stamp: $1) }
    }

    static var state: Generator<ReadState, some SendableSequenceType> {
        event.array(of: 0...8).map { events in ReadState(briefID: briefID).applying(events) }
    }

    static var events: Generator<[Event], some SendableSequenceType> {
        event.array(of: 1...12)
    }
}

/// One action at one stamp.
struct Event: Sendable, Hashable, CustomStringConvertible {
    var action: ReadAction
    var stamp: HybridTimestamp

    var description: String { "\(action.name)\(action.value.map { "(\($0))" } ?? "")@\(stamp)" }
}

extension ReadState {
    func applying(_ events: [Event]) -> ReadState {
        events.reduce(self) { $0.applying($1.action, at: $1.stamp) }
    }
}

/// A small deterministic generator (SplitMix64) for orders drawn from a seed the property check
/// chose, so that a failing order replays from the printed seed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
