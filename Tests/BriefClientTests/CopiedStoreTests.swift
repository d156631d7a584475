import BriefClient
import BriefModel
import BriefServer
import BriefStore
import Foundation
import GRDB
import HTTPTypes
import Testing

/// A device store copied with everything in it (a phone backup restored onto a new phone, a
/// `cp -r` of a home): the copy shares the device id and the mutation counter, and its edits
/// must be applied, never acknowledged as the original's duplicates.
@Suite struct CopiedStoreTests {
    let b1 = BriefID(rawValue: "b-1")!
    let b2 = BriefID(rawValue: "b-2")!
    let b3 = BriefID(rawValue: "b-3")!

    func publishThree(_ server: ServerHandle) async throws {
        for id in ["b-1", "b-2", "b-3"] {
            try await server.publish(try Briefs.small(id))
        }
    }

    @Test func theOriginalAndItsCopyBothKeepEditingAndEveryEditArrives() async throws {
        try await InProcessServer().run { server in
            try await publishThree(server)
            let (phone, _) = try await server.device("phone")
            try await phone.sync()
            try await phone.markRead(b1)
            try await phone.sync()

            // Given a copy of the phone's store, taken after some syncs, carrying on as a phone
            let (copy, _) = try await server.restore(try phone.backup())
            #expect(try await copy.status().incarnation == phone.status().incarnation)

            // When both edit the same briefs and different ones, and sync in turns
            server.server.clock.advance(by: 1_000)
            try await phone.save(b2)
            try await phone.setProgress(b1, 0.3)
            try await copy.markRead(b3)
            try await copy.setProgress(b1, 0.8)
            try await copy.recordOpen(b2)
            try await phone.sync()
            let copyReport = try await copy.sync()
            server.server.clock.advance(by: 1_000)
            try await phone.unsave(b2)
            try await copy.markUnread(b1)
            try await copy.sync()
            try await phone.sync()
            try await copy.sync()

            // Then the copy found out and took an incarnation of its own; nothing is left queued
            #expect(copyReport.renewedIncarnation)
            #expect(try await copy.status().incarnation != phone.status().incarnation)
            #expect(try await phone.status().pendingMutations == 0)
            #expect(try await copy.status().pendingMutations == 0)

            // And a third device of the account has every edit, merged by the model's rules
            let (tablet, _) = try await server.device("tablet")
            try await tablet.sync()
            let states = Dictionary(uniqueKeysWithValues: try await tablet.store.readStates().map { ($0.briefID, $0) })
            let first = try #require(states[b1])
            #expect(!first.isRead)  // the copy's unread is the newest explicit action
            #expect(first.progressValue == 0.8)  // the furthest point, whichever store reached it
            let second = try #require(states[b2])
            #expect(!second.isSaved && second.lastOpenedAt != nil)
            #expect(states[b3]?.isRead == true)
            #expect(try await tablet.store.readStates() == phone.store.readStates())
            #expect(try await tablet.store.readStates() == copy.store.readStates())
        }
    }

    @Test func aBackupOlderThanTheServersCursorLosesNoEditMadeOnIt() async throws {
        try await InProcessServer().run { server in
            try await publishThree(server)
            let (phone, _) = try await server.device("phone")
            try await phone.sync()
            try await phone.markRead(b1)  // queued when the backup is taken
            let backup = try phone.backup()

            // Given the phone goes on pushing, well past the backup's counter
            try await phone.sync()
            for fraction in [0.2, 0.4, 0.6] {
                server.server.clock.advance(by: 1_000)
                try await phone.setProgress(b2, fraction)
                try await phone.sync()
            }

            // When the backup is restored on a new phone, edited and synced
            let (restored, _) = try await server.restore(backup)
            server.server.clock.advance(by: 1_000)
            try await restored.markRead(b3)
            try await restored.save(b1)
            let report = try await restored.sync()

            // Then every edit made on it reached the account, and the phone's are intact
            #expect(report.renewedIncarnation)
            #expect(try await restored.status().pendingMutations == 0)
            let (tablet, _) = try await server.device("tablet")
            try await tablet.sync()
            let states = Dictionary(uniqueKeysWithValues: try await tablet.store.readStates().map { ($0.briefID, $0) })
            #expect(states[b3]?.isRead == true)
            #expect(states[b1]?.isSaved == true && states[b1]?.isRead == true)
            #expect(states[b2]?.progressValue == 0.6)
        }
    }

    @Test func aCursorAboveEverythingSentRemovesNothingUnsent() async throws {
        try await InProcessServer().run { server in
            try await publishThree(server)
            let (phone, transport) = try await server.device("phone") { $0.sync.pushChunk = 1 }
            try await phone.sync()
            try await phone.markRead(b1)
            try await phone.save(b2)
            try await phone.setProgress(b3, 0.5)
            let before = try await phone.status().incarnation

            // Given an answer to the first push (mutation 1) that reports a cursor of 101
            try await phone.connect(InflatingTransport(transport, inflation: 100))
            await #expect(throws: SyncError.self) { try await phone.sync() }

            // Then only the mutation sent is gone: the two never sent stay queued, and the store
            // takes the high cursor for a copy's and renews its incarnation
            #expect(try await phone.status().pendingMutations == 2)
            #expect(try await phone.status().incarnation != before)

            // And they arrive with the next sync
            try await phone.connect(transport)
            try await phone.sync()
            let (tablet, _) = try await server.device("tablet")
            try await tablet.sync()
            #expect(try await tablet.store.readStates() == phone.store.readStates())
            #expect(try await tablet.brief(b3)?.readState.progressValue == 0.5)
        }
    }

    @Test func aPushUnderTheSameIncarnationWithOtherContentIsRefusedWithNothingApplied() async throws {
        try await InProcessServer().run { server in
            try await publishThree(server)
            let token = try await server.login("anna", device: DeviceID(rawValue: "phone")!)
            func push(_ action: ReadAction, on brief: String) async throws -> (Int, ErrorResponseV1?) {
                let device = DeviceID(rawValue: "phone")!
                let request = PushRequestV1(
                    deviceID: device,
                    incarnation: "i-shared",
                    mutations: [
                        MutationV1(
                            id: 1,
                            briefID: BriefID(rawValue: brief)!,
                            action: action,
                            stamp: HybridTimestamp(wall: 5, device: device)
                        )
                    ]
                )
                let (status, _, body) = try await server.request(
                    .post,
                    "/v1/read-states",
                    token: token,
                    body: try WireCoding.encoder().encode(request)
                )
                return (status.code, try? WireCoding.decoder().decode(ErrorResponseV1.self, from: body))
            }
            #expect(try await push(.markRead, on: "b-1").0 == 200)
            #expect(try await push(.markRead, on: "b-1").0 == 200)  // the exact retry
            let (status, error) = try await push(.save, on: "b-2")  // a copy's mutation 1
            #expect(status == 409)
            #expect(error?.error.code == .incarnationConflict)
            #expect(error?.error.details?.first?.path == "mutations[0].id")
            let (tablet, _) = try await server.device("tablet")
            try await tablet.sync()
            #expect(try await tablet.store.readStates().map(\.briefID) == [b1])
        }
    }
}
