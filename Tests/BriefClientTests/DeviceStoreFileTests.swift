import BriefModel
import Foundation
import GRDB
import Testing

@testable import BriefStore

/// A store file made by `DeviceStore.open` has 16 KiB pages; a file made with other pages keeps
/// them, and its briefs.
@Suite struct DeviceStoreFileTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("device-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    private func pageSize(_ store: DeviceStore) async throws -> Int? {
        try await store.writer.read { db in try Int.fetchOne(db, sql: "PRAGMA page_size") }
    }

    @Test func aNewFileHasPagesOf16KiB() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try DeviceStore.open(path: folder.appendingPathComponent("new.sqlite").path)
        #expect(try await pageSize(store) == 16384)
        #expect(try await store.writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") } == "wal")
    }

    @Test func aFileWithOtherPagesKeepsThemAndItsBriefs() async throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        // Given a store file made with SQLite's 4 KiB pages, holding a brief
        let path = folder.appendingPathComponent("old.sqlite").path
        let brief = try Briefs.small("b-1", title: "Kept across opening")
        do {
            let old = try DeviceStore(DatabasePool(path: path))
            #expect(try await pageSize(old) == 4096)
            _ = try await old.apply(briefs: [brief], token: "t-1", now: 0)
        }
        // When it is opened as an app opens it
        let reopened = try DeviceStore.open(path: path)
        // Then its pages and its brief are as they were, and it takes more
        #expect(try await pageSize(reopened) == 4096)
        #expect(try await reopened.search("opening").map(\.summary.id) == [brief.id])
        _ = try await reopened.apply(briefs: [try Briefs.small("b-2")], token: "t-2", now: 1)
        #expect(try await reopened.briefs().count == 2)
    }
}
