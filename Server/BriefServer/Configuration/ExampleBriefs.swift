import BriefModel
import Foundation

/// The example briefs of `Schema/examples` (`brief-<topic>-<date>.json`), validated, in file name
/// order: the demo data of `brief-server serve --demo` and of `brief-device simulate --in-process`.
public enum ExampleBriefs {
    /// The briefs in `folder`, relative to the working directory by default; `nil` when there is
    /// no such folder (the caller says to run from the repository's folder).
    /// - Throws: When a file there is not a valid brief.
    public static func load(from folder: URL = URL(fileURLWithPath: "Schema/examples")) throws -> [Brief]? {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else {
            return nil
        }
        return try files.sorted().filter { $0.hasPrefix("brief-") && $0.hasSuffix(".json") }.map { file in
            let data = try Data(contentsOf: folder.appendingPathComponent(file))
            return try Brief.validate(try JSONValue(json: data))
        }
    }
}
