import BriefModel
import Hummingbird
import Logging

/// `POST /v1/read-states`: a device pushes its queued mutations.
struct ReadStateRoutes {
    let environment: ServerEnvironment

    func push(_ request: Request, context: BriefRequestContext) async throws -> Response {
        var request = request
        let session = try context.requireSession()
        let push: PushRequestV1
        do {
            push = try PushRequestV1.validate(
                try await request.decodeJSON(limit: environment.configuration.maxBodyBytes)
            )
        } catch let error as DocumentValidationError {
            throw APIError.validation(error)
        }
        guard push.deviceID == session.deviceID else {
            throw APIError(
                .forbidden,
                .forbidden,
                "This session belongs to device \(session.deviceID); it cannot push for \(push.deviceID)."
            )
        }
        let outcome: PushApplier.Outcome
        do {
            outcome = try await environment.store.push(
                push,
                for: session.userID,
                applier: environment.applier,
                now: environment.clock.now()
            )
        } catch StoreError.unknownBriefs(let unknown) {
            throw APIError.validation(
                DocumentValidationError(
                    issues: unknown.map {
                        ValidationIssue(
                            path: "mutations[\($0.index)].briefId",
                            reason: "no brief \($0.briefID) exists",
                            code: ValidationIssue.unknownBrief
                        )
                    }
                )
            )
        } catch StoreError.incarnationConflict(let conflict) {
            context.logger.info(
                "Push from a copied store",
                metadata: ["sync.device": "\(push.deviceID)", "sync.mutation": "\(conflict.mutationID)"]
            )
            throw APIError(
                .conflict,
                .incarnationConflict,
                "Mutation \(conflict.mutationID) of device \(push.deviceID) was applied before with other content, "
                    + "or is older than this server can check (it has applied up to \(conflict.lastAppliedID)): "
                    + "another copy of this device's store pushed under incarnation \(push.incarnation ?? "(none)"). "
                    + "Nothing was applied; push again under a new incarnation.",
                details: [
                    ValidationIssue(
                        path: "mutations[\(conflict.index)].id",
                        reason: "already used by another copy of this store"
                    )
                ]
            )
        }
        if outcome.appliedCount > 0 {
            environment.notifier.notify(user: session.userID)
        }
        environment.metrics.mutationsMerged(outcome.appliedCount)
        context.logger.debug(
            "Applied push",
            metadata: ["sync.applied": "\(outcome.appliedCount)", "sync.last_applied": "\(outcome.lastAppliedID)"]
        )
        return try jsonResponse(PushResultV1(lastAppliedId: outcome.lastAppliedID, states: outcome.states))
    }
}
