import Foundation
import Testing
import Yams

@testable import BriefServer

/// `Schema/openapi.yaml` and the router describe the same paths and methods.
@Suite struct OpenAPIRouteTests {
    @Test func descriptionAndRouterAgree() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Schema/openapi.yaml")
        let document = try #require(try Yams.load(yaml: String(contentsOf: url, encoding: .utf8)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: Any])
        var described: Set<String> = []
        for (path, item) in paths {
            let methods =
                (item as? [String: Any])?.keys.filter { ["get", "put", "post", "delete", "patch"].contains($0) } ?? []
            methods.forEach { described.insert("\($0.uppercased()) \(path)") }
        }
        var routed: Set<String> = []
        for route in routeTable.routes {
            route.methods.forEach { routed.insert("\($0) /" + route.pattern.joined(separator: "/")) }
        }
        #expect(described == routed)
        #expect(described.count >= 13)
    }
}
