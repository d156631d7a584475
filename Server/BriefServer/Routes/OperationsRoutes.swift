import BriefModel
import HTTPTypes
import Hummingbird
import Logging
import Prometheus

/// Health, readiness and metrics for operators.
struct OperationsRoutes {
    let environment: ServerEnvironment
    let registry: PrometheusCollectorRegistry?

    /// `GET /healthz`: the process answers.
    func health(_ request: Request, context: BriefRequestContext) async throws -> Response {
        try jsonResponse(HealthV1(status: "ok"))
    }

    /// `GET /readyz`: the database answers too.
    func ready(_ request: Request, context: BriefRequestContext) async throws -> Response {
        do {
            try await environment.store.ping()
            return try jsonResponse(HealthV1(status: "ok"))
        } catch {
            context.logger.info("Database does not answer", metadata: ["error": "\(error)"])
            return try jsonResponse(HealthV1(status: "unavailable"), status: .serviceUnavailable)
        }
    }

    /// `GET /metrics`: Prometheus text.
    func metrics(_ request: Request, context: BriefRequestContext) async throws -> Response {
        let text = registry?.emitToString() ?? ""
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: text))
        )
    }
}
