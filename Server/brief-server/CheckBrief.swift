import ArgumentParser
import BriefModel
import Foundation

struct CheckBrief: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-brief",
        abstract: "Validate brief documents as PUT /v1/briefs/{id} will; prints every issue with its path."
    )

    @Argument(help: "Brief documents (JSON).")
    var files: [String]

    func run() throws {
        var failed = false
        for path in files {
            guard let data = FileManager.default.contents(atPath: path) else {
                print("\(path): cannot read")
                failed = true
                continue
            }
            do {
                let brief = try Brief.validate(try JSONValue(json: data))
                print("\(path): valid brief \(brief.id)")
            } catch let error as DocumentValidationError {
                failed = true
                print("\(path): \(error.issues.count) issue(s)")
                error.issues.forEach { print("  \($0)") }
            } catch {
                failed = true
                print("\(path): not JSON")
            }
        }
        if failed {
            throw ExitCode(1)
        }
    }
}
