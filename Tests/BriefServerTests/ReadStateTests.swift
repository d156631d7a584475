import BriefModel
import Foundation
import HTTPTypes
import Testing

@testable import BriefServer

@Suite struct ReadStateTests {
    @Test func retriedPushesAreAppliedOnce() async throws {
        try await TestServer().test { client in
            let token = try await client.register("anna")
            try await client.publish(try TestServer.brief("b-1"))
            let batch = [mutation(1, "b-1", .markRead, wall: 10), mutation(2, "b-1", .progress(0.4), wall: 11)]

            let first = try await client.push(token, batch).decode(PushResultV1.self)
            #expect(first.lastAppliedId == 2)
            #expect(first.states.first?.isRead == true && first.states.first?.progressValue == 0.4)
            let page = try await client.changes(token).decode(ChangesPageV2.self)

            // The same batch again (its answer was lost): acknowledged, not applied, no new change
            let retry = try await client.push(token, batch).decode(PushResultV1.self)
            #expect(retry == first)
            let after = try await client.changes(token, since: page.nextToken).decode(ChangesPageV2.self)
            #expect(after.readStates.isEmpty)

            // A later batch that overlaps applies only its new tail
            let tail = try await client.push(token, [batch[1], mutation(3, "b-1", .markUnread, wall: 12)])
            #expect(try tail.decode(PushResultV1.self).lastAppliedId == 3)
            #expect(try tail.decode(PushResultV1.self).states.first?.isRead == false)
        }
    }

    @Test func aBadMutationRejectsTheWholeBatchWithItsIndex() async throws {
        try await TestServer().test { client in
            let token = try await client.register("anna")
            try await client.publish(try TestServer.brief("b-1"))
            let unknown = try await client.push(
                token,
                [mutation(1, "b-1", .markRead, wall: 10), mutation(2, "nope", .save, wall: 11)]
            )
            #expect(unknown.status == .unprocessableContent)
            #expect(unknown.error?.details?.map(\.description) == ["mutations[1].briefId: no brief nope exists"])

            // Nothing of the batch was applied
            let page = try await client.changes(token).decode(ChangesPageV2.self)
            #expect(page.readStates.isEmpty)
            let ok = try await client.push(token, [mutation(1, "b-1", .markRead, wall: 10)])
            #expect(try ok.decode(PushResultV1.self).lastAppliedId == 1)

            let outOfRange: JSONValue = .object([
                "protocol": 1, "deviceId": "phone",
                "mutations": .array([
                    .object([
                        "id": 2, "briefId": "b-1", "action": "progress", "value": 1.5,
                        "stamp": .object(["wall": 1, "counter": 0, "device": "phone"]),
                    ])
                ]),
            ])
            let refused = try await client.send(.post, "/v1/read-states", token: token, json: outOfRange)
            #expect(refused.status == .unprocessableContent)
            #expect(
                refused.error?.details?.map(\.description) == ["mutations[0].value: progress must be between 0 and 1"]
            )
        }
    }

    @Test func aSessionPushesOnlyForItsOwnDevice() async throws {
        try await TestServer().test { client in
            let token = try await client.register("anna", device: "phone")
            try await client.publish(try TestServer.brief("b-1"))
            let answer = try await client.push(
                token,
                device: "tablet",
                [mutation(1, "b-1", .markRead, wall: 1, device: "tablet")]
            )
            #expect(answer.status == .forbidden)
        }
    }

    @Test func usersAreIsolated() async throws {
        try await TestServer().test { client in
            let anna = try await client.register("anna")
            let bob = try await client.register("bob")
            try await client.publish(try TestServer.brief("b-1"))
            _ = try await client.push(anna, [mutation(1, "b-1", .save, wall: 5)])

            let bobs = try await client.allPages(bob)
            #expect(bobs.flatMap(\.readStates).isEmpty)
            let annas = try await client.allPages(anna)
            #expect(annas.flatMap(\.readStates).map(\.isSaved) == [true])
            // Bob's device ids are his own: his mutation 1 is not anna's mutation 1
            let bobsPush = try await client.push(bob, [mutation(1, "b-1", .markRead, wall: 6)])
            #expect(try bobsPush.decode(PushResultV1.self).states.first?.isSaved == false)
        }
    }

    @Test func concurrentPushesFromSeveralDevicesConvergeToTheirMerge() async throws {
        try await TestServer().test { client in
            try await client.register("anna", device: "d0")
            var tokens: [String] = []
            for device in 0..<4 {
                tokens.append(try await client.login("anna", device: "d\(device)").decode(SessionV1.self).token)
            }
            try await client.publish(try TestServer.brief("b-1"))
            let actions: [ReadAction] = [
                .markRead, .markUnread, .save, .unsave, .progress(0.3), .progress(0.8), .open, .restartProgress(0.1),
            ]
            // Each device pushes its own sequence, all at once
            var expected = ReadState(briefID: BriefID(rawValue: "b-1")!)
            var batches: [(String, [MutationV1])] = []
            for device in 0..<4 {
                let mutations = (0..<6).map { step in
                    mutation(
                        UInt64(step + 1),
                        "b-1",
                        actions[(device * 3 + step) % actions.count],
                        wall: Int64(1_000 + step * 10 + device),
                        device: "d\(device)"
                    )
                }
                mutations.forEach { expected = expected.applying($0.action, at: $0.stamp) }
                batches.append(("d\(device)", mutations))
            }
            let sessions = tokens
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, (device, mutations)) in batches.enumerated() {
                    group.addTask {
                        for chunk in stride(from: 0, to: mutations.count, by: 2) {
                            let answer = try await client.push(
                                sessions[index],
                                device: device,
                                Array(mutations[chunk..<chunk + 2])
                            )
                            #expect(answer.status == .ok)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let states = try await client.allPages(tokens[0]).flatMap(\.readStates)
            #expect(states == [expected])
        }
    }
}
