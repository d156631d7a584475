import ArgumentParser
import BriefModel
import BriefServer
import Foundation

/// Figure 12: what following a topic costs, with 100 briefs in it and with 10,000 (issue 15's
/// aim: the same). Following writes one row whatever the topic holds, and the next manifest
/// page finds the topic's briefs by query; so both are timed: `PUT /v1/topics/{id}/follow`, and
/// the first page of `GET /v1/changes` after it (50 changes, newest first, on both topics), each
/// repeated with an unfollow between, against the same on the small topic.
struct FollowCostBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "follow-cost",
        abstract: "The cost of following a topic of 10,000 briefs, against a topic of 100."
    )
    @OptionGroup var options: SuiteOptions
    @Option(help: "Follows timed per topic and run.") var follows = 50

    func run() async throws {
        ResultRow.printTable(try await measure())
    }

    func measure() async throws -> [ResultRow] {
        let small = options.scaled(100, tiny: 5)
        let large = options.scaled(10_000, tiny: 50)
        let topics = [("follow-small", small), ("follow-large", large)]
        let fixture = try await Fixture.start("follow", postgres: options.postgres, briefs: 0) { store, _ in
            var generator = BriefGenerator(seed: 1, template: try BriefGenerator.seedBrief())
            var index = 0
            for (topic, count) in topics {
                for _ in 0..<count {
                    var brief = generator.brief(index)
                    brief.id = BriefID(rawValue: "\(topic)-\(index)")!
                    brief.topic = Topic(id: TopicID(rawValue: topic)!, name: topic.uppercased())
                    _ = try await store.publish(brief, now: Int64(index))
                    index += 1
                }
            }
        }
        do {
            let token = try await Bench.login(fixture.server)
            var follow: [String: [Double]] = [:]
            var page: [String: [Double]] = [:]
            let rounds = options.tiny ? 2 : follows
            for _ in 0..<options.repeats {
                for (topic, _) in topics {
                    var follows: [Double] = []
                    var pages: [Double] = []
                    for _ in 0..<rounds {
                        let since = try await Bench.upToDateToken(fixture.server, token: token)
                        let url = "\(fixture.server)/v1/topics/\(topic)/follow"
                        var started = ContinuousClock.now
                        let followed = try await Bench.request("PUT", url, token: token)
                        follows.append(milliseconds(since: started))
                        started = ContinuousClock.now
                        let first = try await Bench.request(
                            "GET",
                            "\(fixture.server)/v1/changes?limit=50&since=\(since)",
                            token: token
                        )
                        pages.append(milliseconds(since: started))
                        let unfollowed = try await Bench.request("DELETE", url, token: token)
                        guard followed.status == 200, first.status == 200, unfollowed.status == 200 else {
                            throw BenchError(
                                "follow \(followed.status), first page \(first.status), unfollow \(unfollowed.status)"
                            )
                        }
                    }
                    // each run's median, so the spread is across runs as elsewhere in the suite
                    follow[topic, default: []].append(Sample(values: follows).median)
                    page[topic, default: []].append(Sample(values: pages).median)
                }
            }
            await fixture.stop()
            let (smallFollow, largeFollow) = (
                Sample(values: follow["follow-small"]!), Sample(values: follow["follow-large"]!)
            )
            let (smallPage, largePage) = (Sample(values: page["follow-small"]!), Sample(values: page["follow-large"]!))
            return [
                ResultRow(
                    benchmark: "12. follow a topic of \(large) briefs (ms)",
                    store: fixture.database.kind,
                    figure: "\(largeFollow)",
                    reference: "a topic of \(small): \(smallFollow)",
                    ratio: format(largeFollow.median / smallFollow.median)
                ),
                ResultRow(
                    benchmark: "12. first manifest page after following a topic of \(large) briefs (ms)",
                    store: fixture.database.kind,
                    figure: "\(largePage)",
                    reference: "a topic of \(small): \(smallPage)",
                    ratio: format(largePage.median / smallPage.median)
                ),
            ]
        } catch {
            await fixture.stop()
            throw error
        }
    }

    private func milliseconds(since start: ContinuousClock.Instant) -> Double {
        (ContinuousClock.now - start) / .milliseconds(1)
    }
}
