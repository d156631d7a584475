import BriefClient
import BriefModel
import BriefStore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failure to report in one line, with the exit code scripts can test.
///
/// Codes: 1 bad input (unknown brief, value out of range), 2 local trouble (store, files),
/// 3 login needed, 4 server unreachable (changes kept), 5 refused by the server, 6 divergence
/// found by `simulate`.
struct CLIError: Error {
    let message: String
    let code: Int32

    init(_ message: String, code: Int32 = 1) {
        self.message = message
        self.code = code
    }
}

enum Terminal {
    static var isInteractive: Bool { isatty(STDOUT_FILENO) == 1 }
    static var errorIsInteractive: Bool { isatty(STDERR_FILENO) == 1 }

    /// Emphasis on a terminal, unless NO_COLOR is set.
    static var emphasis: BriefTextRenderer.Emphasis {
        isInteractive && ProcessInfo.processInfo.environment["NO_COLOR"] == nil ? .ansi : .plain
    }

    /// The terminal's width, or `COLUMNS`, or none when the output is not a terminal.
    static var width: Int? {
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init) {
            return columns
        }
        guard isInteractive else {
            return nil
        }
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else {
            return 80
        }
        return Int(size.ws_col)
    }

    static func error(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// Prints a value as JSON with sorted keys.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// A brief as `list` and `search` print it with --json.
struct BriefLine: Encodable {
    var id: String
    var title: String
    var topic: String
    var topicName: String
    var date: String
    var version: Int
    var isRead: Bool
    var isSaved: Bool
    var progress: Double
    var lastOpenedAt: Int64?
    var isRetracted: Bool
    var snippet: String?

    init(_ summary: BriefSummary, snippet: String? = nil) {
        id = summary.id.rawValue
        title = summary.title
        topic = summary.topic.rawValue
        topicName = summary.topicName
        date = summary.date.iso
        version = summary.version
        isRead = summary.isRead
        isSaved = summary.isSaved
        progress = summary.progress
        lastOpenedAt = summary.lastOpenedAt
        isRetracted = summary.isRetracted
        self.snippet = snippet
    }

    var text: String {
        let marks = (isRead ? " " : "•") + (isSaved ? "★" : " ")
        let percent = progress > 0 ? String(format: " %3.0f%%", progress * 100) : "     "
        return "\(marks) \(date) \(id)  \(title)\(percent)\(isRetracted ? "  [retracted]" : "")"
    }
}

/// Turns what the library throws into a one-line message and exit code.
func explain(_ error: any Error) -> CLIError {
    switch error {
    case let error as CLIError:
        return error
    case let error as SyncError:
        switch error.kind {
        case .offline: return CLIError("server unreachable: \(error.message)", code: 4)
        case .loginRequired:
            return CLIError("session expired: log in again (brief-device login). Changes are kept.", code: 3)
        case .updateRequired: return CLIError("this brief-device is too old for the server: \(error.message)", code: 5)
        case .rejected: return CLIError("the server refused: \(error.message)", code: 5)
        case .untrustedServer: return CLIError(error.message, code: 4)
        }
    case let error as TransportError:
        switch error.kind {
        case .unreachable, .timedOut: return CLIError("server unreachable: \(error.message)", code: 4)
        case .status(401): return CLIError(error.message, code: 3)
        case .untrustedServer: return CLIError(error.message, code: 4)
        default: return CLIError(error.message, code: 5)
        }
    case let error as DeviceStoreError:
        switch error {
        case .unknownBrief(let id):
            return CLIError("unknown brief \(id): did you sync? (brief-device sync)", code: 1)
        case .notSignedIn:
            return CLIError("this device is not logged in: log in to edit (brief-device login)", code: 3)
        case .accountChanged, .missingContent:
            return CLIError(error.description, code: 2)
        case .contentMismatch:
            return CLIError(error.description, code: 5)
        case .progressOutOfRange: break
        }
        return CLIError(error.description, code: 1)
    default:
        return CLIError("\(error)", code: 2)
    }
}
