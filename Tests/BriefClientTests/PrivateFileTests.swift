import BriefModel
import BriefSchema
import BriefServer
import BriefStore
import Foundation
import Testing

/// The files that hold secrets and reading history are their owner's alone from the moment they
/// exist: the device's home, store and session, the server's data folder and database.
@Suite struct PrivateFileTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("private-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func mode(_ path: String) throws -> Int {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
    }

    @Test func aDeviceStoreAndItsLogAreTheOwnersOnly() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("device.sqlite").path
        let store = try DeviceStore.open(path: path)
        try await store.signIn(AccountID(server: "https://b.example", username: "anna"), now: 1)  // a write: the WAL exists
        #expect(try mode(path) == 0o600)
        #expect(try mode(path + "-wal") == 0o600)
    }

    @Test func aServerDatabaseAndANewDataFolderAreTheOwnersOnly() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = folder.appendingPathComponent("data")
        let path = data.appendingPathComponent("briefsync.sqlite").path
        let store = try openStore(.sqlite(path: path))
        _ = try await store.createUser(username: "anna", passwordHash: "h", now: 1)
        #expect(try mode(data.path) == 0o700)
        #expect(try mode(path) == 0o600)
        #expect(try mode(path + "-wal") == 0o600)
    }

    @Test func anExistingFileKeepsItsModeAndContents() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("kept").path
        try Data("kept".utf8).write(to: URL(fileURLWithPath: path))
        try FileManager.default.setAttributes([.posixPermissions: 0o640], ofItemAtPath: path)
        try PrivateFile.create(atPath: path)
        #expect(try mode(path) == 0o640)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("kept".utf8))
        try PrivateFile.write(Data("new".utf8), atomicallyTo: path)
        #expect(try mode(path) == 0o600)  // replaced by a new, private file
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("new".utf8))
    }
}
