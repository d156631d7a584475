import BriefModel
import Testing

@testable import BriefServer

/// The decisions both stores take from ``EditionPlan`` and ``FollowPlan``; the stores' own
/// conformance tests check that each carries them out.
@Suite struct FeedPlansTests {
    let digest: [UInt8] = Array(repeating: 7, count: 32)
    let other: [UInt8] = Array(repeating: 8, count: 32)

    @Test func publishing() {
        #expect(EditionPlan.publish(digest: digest, over: nil) == .write(version: 1))
        let live = EditionPlan.Held(version: 3, digest: digest, retracted: false)
        #expect(EditionPlan.publish(digest: digest, over: live) == .unchanged(version: 3), "an identical re-publish")
        #expect(EditionPlan.publish(digest: other, over: live) == .write(version: 4), "a correction")
        let tombstone = EditionPlan.Held(version: 4, digest: digest, retracted: true)
        #expect(EditionPlan.publish(digest: digest, over: tombstone) == .write(version: 5), "published again")
        let id = BriefID(rawValue: "b-1")!
        #expect(EditionPlan.Publish.unchanged(version: 3).result(id, digest: "d").changed == false)
        #expect(
            EditionPlan.Publish.write(version: 4).result(id, digest: "d")
                == PublishResultV1(id: id, version: 4, changed: true, digest: "d")
        )
    }

    @Test func retracting() {
        let id = BriefID(rawValue: "b-1")!
        #expect(EditionPlan.retract(nil) == .unknown && EditionPlan.Retract.unknown.result(id) == nil)
        #expect(
            EditionPlan.retract(EditionPlan.Held(version: 2, digest: nil, retracted: false)) == .tombstone(version: 3)
        )
        let again = EditionPlan.retract(EditionPlan.Held(version: 3, digest: nil, retracted: true))
        #expect(again == .unchanged(version: 3) && again.result(id)?.changed == false)
    }

    @Test func following() {
        let status = TopicStatusV1(id: TopicID(rawValue: "tech")!, name: "Tech", followed: true, briefCount: 4)
        #expect(FollowPlan(true, current: nil) == .unknownTopic && FollowPlan(true, current: nil).status == nil)
        #expect(FollowPlan(true, current: status) == .unchanged(status))
        var unfollowed = status
        unfollowed.followed = false
        #expect(FollowPlan(false, current: status) == .write(unfollowed))
        #expect(FollowPlan(false, current: status).status?.followed == false)
    }
}
