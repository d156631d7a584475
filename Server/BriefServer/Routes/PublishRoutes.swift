import BriefModel
import Hummingbird
import Logging

/// Publishing, correcting and retracting briefs, with the publisher key.
struct PublishRoutes {
    let environment: ServerEnvironment

    /// `PUT /v1/briefs/{id}`: the body is the whole brief; its `id` must be the path's.
    func put(_ request: Request, context: BriefRequestContext) async throws -> Response {
        var request = request
        let id = try Self.briefID(context)
        let document = try await request.decodeJSON(limit: environment.configuration.maxBodyBytes)
        var issues: [ValidationIssue] = []
        var brief: Brief?
        do {
            brief = try Brief.validate(document)
        } catch {
            issues = error.issues
        }
        if case .string(let bodyID)? = document["id"], bodyID != id.rawValue {
            issues.append(ValidationIssue(path: "id", reason: "is \"\(bodyID)\" but the path says \"\(id)\""))
        }
        guard let brief, issues.isEmpty else {
            throw APIError.validation(DocumentValidationError(issues: issues))
        }
        let result = try await environment.store.publish(brief, now: environment.clock.now())
        if result.changed {
            environment.notifier.notifyAll()
        }
        context.logger.info(
            "Published brief",
            metadata: ["brief.id": "\(id)", "brief.version": "\(result.version)", "brief.changed": "\(result.changed)"]
        )
        return try jsonResponse(result)
    }

    /// `DELETE /v1/briefs/{id}`: leaves a tombstone that devices receive until the retention ends.
    func delete(_ request: Request, context: BriefRequestContext) async throws -> Response {
        let id = try Self.briefID(context)
        guard let result = try await environment.store.retract(id, now: environment.clock.now()) else {
            throw APIError.notFound("There is no brief \(id).")
        }
        if result.changed {
            environment.notifier.notifyAll()
        }
        context.logger.info("Retracted brief", metadata: ["brief.id": "\(id)", "brief.version": "\(result.version)"])
        return try jsonResponse(result)
    }

    static func briefID(_ context: BriefRequestContext) throws -> BriefID {
        let text = context.parameters.get("id") ?? ""
        guard let id = BriefID(rawValue: text) else {
            let problem = Identifier.problem(with: text, maxLength: BriefID.maxLength) ?? "invalid"
            throw APIError(.badRequest, .malformedRequest, "The brief id in the path \(problem).")
        }
        return id
    }
}
