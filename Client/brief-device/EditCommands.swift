import ArgumentParser
import BriefClient
import BriefModel
import BriefStore
import Foundation

/// Shared by the editing commands: record locally, say it is queued.
protocol EditCommand: DeviceCommand {
    var id: String { get }
    var verb: String { get }
    func apply(_ library: BriefLibrary, _ id: BriefID) async throws
}

extension EditCommand {
    func execute(_ home: DeviceHome) async throws {
        let library = try await home.library()
        let id = try briefID(id)
        try await apply(library, id)
        let pending = try await library.status().pendingMutations
        print("\(verb) \(id) (queued: \(pending) change\(pending == 1 ? "" : "s") waiting; the next sync sends them).")
    }
}

struct Read: EditCommand {
    static let configuration = CommandConfiguration(abstract: "Mark a brief read (works offline).")
    @ParentCommand var device: BriefDevice
    @Argument(help: "The brief's id.") var id: String
    var verb: String { "Marked read" }
    func apply(_ library: BriefLibrary, _ id: BriefID) async throws { try await library.markRead(id) }
}

struct Unread: EditCommand {
    static let configuration = CommandConfiguration(abstract: "Mark a brief unread (works offline).")
    @ParentCommand var device: BriefDevice
    @Argument(help: "The brief's id.") var id: String
    var verb: String { "Marked unread" }
    func apply(_ library: BriefLibrary, _ id: BriefID) async throws { try await library.markUnread(id) }
}

struct Save: EditCommand {
    static let configuration = CommandConfiguration(abstract: "Save a brief (works offline).")
    @ParentCommand var device: BriefDevice
    @Argument(help: "The brief's id.") var id: String
    var verb: String { "Saved" }
    func apply(_ library: BriefLibrary, _ id: BriefID) async throws { try await library.save(id) }
}

struct Unsave: EditCommand {
    static let configuration = CommandConfiguration(abstract: "Remove a brief from the saved ones (works offline).")
    @ParentCommand var device: BriefDevice
    @Argument(help: "The brief's id.") var id: String
    var verb: String { "Unsaved" }
    func apply(_ library: BriefLibrary, _ id: BriefID) async throws { try await library.unsave(id) }
}

struct Progress: EditCommand {
    static let configuration = CommandConfiguration(
        abstract: "Set how far a brief is read, 0 to 1 (works offline). Going back is an explicit restart."
    )
    @ParentCommand var device: BriefDevice
    @Argument(help: "The brief's id.") var id: String
    @Argument(help: "A fraction from 0 to 1, such as 0.5.") var fraction: Double
    var verb: String { String(format: "Progress %.0f%% on", fraction * 100) }

    func validate() throws {
        guard fraction.isFinite, (0...1).contains(fraction) else {
            throw ValidationError("progress must be between 0 and 1, not \(fraction)")
        }
    }

    func apply(_ library: BriefLibrary, _ id: BriefID) async throws { try await library.setProgress(id, fraction) }
}
