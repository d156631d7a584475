import BriefModel
import Hummingbird

/// Topics and what the user follows.
struct TopicRoutes {
    let environment: ServerEnvironment

    /// `GET /v1/topics`.
    func list(_ request: Request, context: BriefRequestContext) async throws -> Response {
        let session = try context.requireSession()
        return try jsonResponse(TopicListV1(topics: try await environment.store.topics(for: session.userID)))
    }

    /// `PUT /v1/topics/{id}/follow`.
    func follow(_ request: Request, context: BriefRequestContext) async throws -> Response {
        try await set(following: true, context: context)
    }

    /// `DELETE /v1/topics/{id}/follow`.
    func unfollow(_ request: Request, context: BriefRequestContext) async throws -> Response {
        try await set(following: false, context: context)
    }

    private func set(following: Bool, context: BriefRequestContext) async throws -> Response {
        let session = try context.requireSession()
        let text = context.parameters.get("id") ?? ""
        guard let topic = TopicID(rawValue: text),
            let status = try await environment.store.setFollowing(topic, following, for: session.userID)
        else {
            throw APIError.notFound("There is no topic \(text). GET /v1/topics lists them.")
        }
        environment.notifier.notify(user: session.userID)
        return try jsonResponse(status)
    }
}
