import ArgumentParser
import BriefClient
import BriefModel
import BriefStore
import Foundation

/// Reads a brief document from a path, or from standard input for `-`, and validates it.
func loadBrief(_ path: String) throws -> Brief {
    let data: Data
    do {
        data =
            path == "-"
            ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
        throw ValidationError("cannot read \(path): \(error.localizedDescription)")
    }
    let document: JSONValue
    do {
        document = try JSONValue(json: data)
    } catch {
        throw ValidationError("\(path) is not JSON")
    }
    do {
        return try Brief.validate(document)
    } catch {
        throw ValidationError(
            "\(path) is not a valid brief:\n" + error.issues.map { "  \($0)" }.joined(separator: "\n")
        )
    }
}

struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a brief document (a file) as the reader lays it out."
    )

    @Argument(help: "A brief document (JSON), or - for standard input.")
    var file: String

    @Option(help: "Wrap lines at this column (default: the terminal's width).")
    var width: Int?

    func run() throws {
        print(
            BriefTextRenderer(width: width ?? Terminal.width, emphasis: Terminal.emphasis).render(try loadBrief(file)),
            terminator: ""
        )
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a brief document; prints every issue with its path and exits 1 when there is one."
    )

    @Argument(help: "A brief document (JSON), or - for standard input.")
    var file: String

    func run() throws {
        let brief = try loadBrief(file)
        print("\(brief.id): valid (\(brief.sources.count) sources, \(brief.body.count) body blocks)")
    }
}
