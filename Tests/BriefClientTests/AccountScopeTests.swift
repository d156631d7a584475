import BriefClient
import BriefModel
import BriefServer
import BriefStore
import Foundation
import HTTPTypes
import Testing

/// One store, two accounts: each queued edit and each reading state belongs to the account that
/// made it, whatever signs in and out in between.
@Suite struct AccountScopeTests {
    let b1 = BriefID(rawValue: "b-1")!
    let b2 = BriefID(rawValue: "b-2")!

    @Test func anOfflineSwitchSealsAlicesEditsUntilSheComesBack() async throws {
        try await InProcessServer().run { server in
            try await server.publish(try Briefs.small("b-1"))
            try await server.publish(try Briefs.small("b-2"))
            let (shared, aliceTransport) = try await server.device("shared", user: "alice")
            try await shared.sync()

            // Given Alice saves and reads offline, then logs out with both edits queued
            try await shared.save(b1)
            try await shared.setProgress(b2, 0.6)
            let signedOut = try await shared.signOut()
            #expect(signedOut.sealedMutations == 2 && signedOut.discardedMutations == 0)
            await #expect(throws: DeviceStoreError.notSignedIn) { try await shared.markRead(b1) }

            // When Bob logs in on the same store and syncs
            let bob = InProcessServer.account("bob")
            let bobTransport = RouterTransport(
                handle: server,
                token: try await server.login("bob", device: shared.store.deviceID)
            )
            let signedIn = try await shared.signIn(bob, transport: bobTransport)
            #expect(signedIn.resyncs && signedIn.resumedMutations == 0)
            let report = try await shared.sync()

            // Then Bob's view shows nothing of Alice's, and nothing of hers was sent under him
            #expect(report.pushed == 0)
            let view = try await shared.briefs()
            #expect(view.count == 2 && view.allSatisfy { !$0.isSaved && !$0.isRead && $0.progress == 0 })
            let status = try await shared.status()
            #expect(status.pendingMutations == 0)
            let sealed = try #require(status.accounts.first { $0.username == "alice" })
            #expect(!sealed.isSignedIn && sealed.pendingMutations == 2 && sealed.oldestQueuedAt != nil)
            let (bobsTablet, _) = try await server.device("bobs-tablet", user: "bob")
            try await bobsTablet.sync()
            #expect(try await bobsTablet.store.readStates().isEmpty)

            // Bob reads one; his mark stays his
            try await shared.markRead(b2)
            try await shared.sync()

            // When Alice logs in again, her sealed edits come back and reach her account
            let back = try await shared.signIn(InProcessServer.account("alice"), transport: aliceTransport)
            #expect(back.sealed == bob && back.resumedMutations == 2)
            #expect(try await shared.brief(b1)?.readState.isSaved == true)  // hers again, before any sync
            #expect(try await shared.brief(b2)?.readState.isRead == false)  // not Bob's
            #expect(try await shared.sync().pushed == 2)
            let (alicesTablet, _) = try await server.device("alices-tablet", user: "alice")
            try await alicesTablet.sync()
            #expect(try await alicesTablet.brief(b1)?.readState.isSaved == true)
            #expect(try await alicesTablet.brief(b2)?.readState.progressValue == 0.6)
            #expect(try await alicesTablet.brief(b2)?.readState.isRead == false)
            try await bobsTablet.sync()
            #expect(try await bobsTablet.store.readStates().map(\.briefID) == [b2])
            #expect(try await bobsTablet.brief(b1)?.readState.isSaved == false)
        }
    }

    /// Found by `brief-device simulate --faults switch`: a home that comes back to its account
    /// starts over, and its own sealed marks are older than the server's. A brief saved there
    /// but unsaved since on another device, in a topic unfollowed meanwhile, must not stay
    /// saved; one still saved comes back even though its topic is unfollowed.
    @Test func aHomeComingBackToItsAccountKeepsNoStaleSavedMark() async throws {
        try await InProcessServer().run { server in
            try await server.publish(try Briefs.small("b-1"))
            try await server.publish(try Briefs.small("b-2"))
            let (shared, aliceTransport) = try await server.device("shared", user: "alice")
            let (phone, _) = try await server.device("alices-phone", user: "alice")
            try await shared.sync()
            try await shared.save(b1)
            try await shared.save(b2)
            try await shared.sync()

            // Bob borrows the home; meanwhile Alice unsaves b-1 on her phone and unfollows climate
            _ = try await shared.signOut()
            let bobTransport = RouterTransport(
                handle: server,
                token: try await server.login("bob", device: shared.store.deviceID)
            )
            _ = try await shared.signIn(InProcessServer.account("bob"), transport: bobTransport)
            try await shared.sync()
            try await phone.sync()
            try await phone.unsave(b1)
            try await phone.sync()
            let alice = try await server.login("alice", device: DeviceID(rawValue: "browser")!)
            #expect(try await server.request(.delete, "/v1/topics/climate/follow", token: alice).0 == .ok)

            // When Alice comes back to the home, it starts over
            _ = try await shared.signIn(InProcessServer.account("alice"), transport: aliceTransport)
            try await shared.sync()

            // Then b-1 is gone from it (unsaved, of a topic she no longer follows), and b-2,
            // still saved, is there, saved, as on her phone
            #expect(try await shared.brief(b1) == nil)
            #expect(try await shared.brief(b2)?.readState.isSaved == true)
            #expect(try await phone.brief(b2)?.readState.isSaved == true)
            let fresh = try await server.device("alices-new-phone", user: "alice").0
            try await fresh.sync()
            #expect(try await fresh.briefs().map(\.id) == [b2], "a device starting over gets her saved brief too")
        }
    }

    @Test func discardingDropsTheQueueAndTheReadingStateForGood() async throws {
        try await InProcessServer().run { server in
            try await server.publish(try Briefs.small("b-1"))
            let (shared, aliceTransport) = try await server.device("shared", user: "alice")
            try await shared.sync()
            try await shared.markRead(b1)
            try await shared.sync()
            try await shared.save(b1)
            let discarded = try await shared.signOut(discardingPending: true)
            #expect(discarded.discardedMutations == 1 && discarded.sealedMutations == 0)

            // Alice back: the save was never sent; the read, which the server has, comes back
            try await shared.signIn(InProcessServer.account("alice"), transport: aliceTransport)
            #expect(try await shared.brief(b1)?.readState == ReadState(briefID: b1))
            try await shared.sync()
            let state = try #require(try await shared.brief(b1)?.readState)
            #expect(state.isRead && !state.isSaved)
            #expect(try await shared.status().pendingMutations == 0)
        }
    }

    @Test func aPageForAnAccountSignedOutMeanwhileIsNotWritten() async throws {
        try await InProcessServer().run { server in
            try await server.publish(try Briefs.small("b-1"))
            let (shared, transport) = try await server.device("shared", user: "alice")
            let page = try await transport.changes(ChangesRequest(since: nil, limit: 10))
            try await shared.signOut()
            await #expect(throws: DeviceStoreError.accountChanged) {
                try await shared.store.apply(page, now: 1, account: InProcessServer.account("alice"))
            }
            #expect(try await shared.briefs().isEmpty)
        }
    }

    @Test func usernamesMatchWithoutCaseAndServersWithoutATrailingSlash() {
        #expect(
            AccountID(server: "https://b.example/", username: "Anna")
                == AccountID(server: "https://b.example", username: "anna")
        )
        #expect(
            AccountID(server: "https://b.example", username: "anna")
                != AccountID(server: "https://c.example", username: "anna")
        )
    }
}
