import BriefModel
import Foundation
import HTTPTypes
import Testing

@testable import BriefServer

@Suite struct PublishTests {
    @Test func publishCorrectAndRepublishIdentically() async throws {
        try await TestServer().test { client in
            let token = try await client.register("anna")
            let brief = try TestServer.example()

            let first = try await client.publish(brief)
            #expect(first.status == .ok)
            let result = try first.decode(PublishResultV1.self)
            #expect(result.id == BriefID(rawValue: "ai-tech-2026-06-26")! && result.version == 1 && result.changed)
            #expect(result.digest?.utf8.count == 64)
            let page = try await client.changes(token).decode(ChangesPageV2.self)

            // Re-publishing the same document changes nothing and feeds nothing
            let same = try await client.publish(brief).decode(PublishResultV1.self)
            #expect(same.version == 1 && !same.changed)
            let afterSame = try await client.changes(token, since: page.nextToken).decode(ChangesPageV2.self)
            #expect(afterSame.published.isEmpty)

            // A correction bumps the version and is fed again
            let corrected = brief.setting("title", .string("Anthropic says Alibaba cloned US AI models"))
            let second = try await client.publish(corrected).decode(PublishResultV1.self)
            #expect(second.version == 2 && second.changed)
            let afterCorrection = try await client.changes(token, since: page.nextToken).decode(ChangesPageV2.self)
            #expect(afterCorrection.briefs.map(\.version) == [2])
            let ref = try #require(afterCorrection.briefs.first)
            #expect(ref.digest == second.digest && ref.digest != result.digest)
            #expect(
                try await client.content(of: ref, token: token)["title"] == "Anthropic says Alibaba cloned US AI models"
            )
        }
    }

    @Test func everyElementOfTheSeedSurvivesTheServer() async throws {
        try await TestServer().test { client in
            let token = try await client.register("anna")
            let document = try TestServer.example()
            try await client.publish(document)
            let page = try await client.changes(token).decode(ChangesPageV2.self)
            let ref = try #require(page.briefs.first)
            #expect(try await client.content(of: ref, token: token) == document)
        }
    }

    @Test func invalidDocumentsGet422WithEveryIssue() async throws {
        try await TestServer().test { client in
            let broken = try TestServer.example()
                .setting("date", .string("yesterday"))
                .setting("title", nil)
            let answer = try await client.send(
                .put,
                "/v1/briefs/ai-tech-2026-06-26",
                token: TestServer.publisherKey,
                json: broken
            )
            #expect(answer.status == .unprocessableContent)
            #expect(answer.error?.code == .validationFailed)
            #expect(
                Set(answer.error?.details?.map(\.description) ?? []) == [
                    "date: expected a date as YYYY-MM-DD", "title: missing",
                ]
            )

            let mismatch = try await client.send(
                .put,
                "/v1/briefs/other-id",
                token: TestServer.publisherKey,
                json: try TestServer.example()
            )
            #expect(mismatch.status == .unprocessableContent)
            #expect(mismatch.error?.details?.map(\.path) == ["id"])
        }
    }

    @Test func onlyThePublisherKeyPublishes() async throws {
        try await TestServer().test { client in
            let user = try await client.register("anna")
            let brief = try TestServer.example()
            let path = "/v1/briefs/ai-tech-2026-06-26"
            #expect(try await client.send(.put, path, json: brief).status == .unauthorized)
            #expect(try await client.send(.put, path, token: user, json: brief).status == .forbidden)
            #expect(
                try await client.send(.put, path, token: "wrong-key-wrong-key", json: brief).status == .unauthorized
            )
            // and the publisher key reads no one's read-state
            let asPublisher = try await client.changes(TestServer.publisherKey)
            #expect(asPublisher.status == .forbidden)
            #expect(asPublisher.error?.code == .forbidden)
        }
    }

    @Test func publishingIsOffWithoutAKey() async throws {
        try await TestServer { $0.publisherKey = nil }.test { client in
            let answer = try await client.send(
                .put,
                "/v1/briefs/x",
                token: "anything-at-all-x",
                json: try TestServer.example()
            )
            #expect(answer.status == .forbidden)
        }
    }

    @Test func retractionLeavesATombstoneForDevicesThatHoldTheBrief() async throws {
        try await TestServer().test { client in
            let token = try await client.register("anna")
            try await client.publish(try TestServer.example())
            let held = try await client.changes(token).decode(ChangesPageV2.self)

            let retracted = try await client.send(
                .delete,
                "/v1/briefs/ai-tech-2026-06-26",
                token: TestServer.publisherKey
            )
            #expect(try retracted.decode(PublishResultV1.self).version == 2)
            let again = try await client.send(.delete, "/v1/briefs/ai-tech-2026-06-26", token: TestServer.publisherKey)
            #expect(try again.decode(PublishResultV1.self).changed == false)
            #expect(
                try await client.send(.delete, "/v1/briefs/no-such", token: TestServer.publisherKey).status == .notFound
            )

            let page = try await client.changes(token, since: held.nextToken).decode(ChangesPageV2.self)
            #expect(page.retractions.map(\.id.rawValue) == ["ai-tech-2026-06-26"])
            #expect(page.published.isEmpty)
            // A device starting from nothing is not told about what it never had
            let fresh = try await client.changes(token).decode(ChangesPageV2.self)
            #expect(fresh.published.isEmpty && fresh.retractions.isEmpty)
        }
    }
}
