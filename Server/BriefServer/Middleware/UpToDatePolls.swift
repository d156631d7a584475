import BriefModel
import HTTPTypes
import Logging
import NIOHTTP1

/// What every connection's ``UpToDatePollHandler`` shares; built once per server.
final class UpToDatePolls: Sendable {
    /// The route's name in metrics and logs, as the router names it for the routes' answers.
    static let route = "/v1/changes"
    static let pathPrefix = "/v1/changes?"

    // why the environment's parts one by one: copying the environment retains each of them (perf)
    let responder: UpToDatePollResponder
    let sessions: SessionCache
    let metrics: ServerMetrics
    let publisherKeyHash: [UInt8]?
    let configuration: ServerConfiguration
    let logger: Logger
    let dates = HTTPDateCache()
    /// The fields the edge middleware adds to every answer after its request id, then the
    /// `Server` field Hummingbird adds, as they go on the wire.
    private let trailingFields: [(name: String, value: String)]
    private let requestIDName = EdgeMiddleware.requestIDHeader.rawName
    private let dateName: String
    private let serverField: (name: String, value: String)?
    private let answered: ServerMetrics.RequestHandles
    private let notModified: ServerMetrics.RequestHandles

    init(environment: ServerEnvironment, logger: Logger, serverName: String?) {
        responder = environment.polls
        sessions = environment.sessions
        metrics = environment.metrics
        publisherKeyHash = environment.publisherKeyHash
        configuration = environment.configuration
        self.logger = logger
        trailingFields = [
            (EdgeMiddleware.protocolField.name.rawName, EdgeMiddleware.protocolField.value),
            (EdgeMiddleware.cacheControlField.name.rawName, EdgeMiddleware.cacheControlField.value),
        ]
        dateName = HTTPField.Name.date.rawName
        serverField = serverName.map { (HTTPField.Name.server.rawName, $0) }
        answered = metrics.requestHandles(route: Self.route, method: "GET", status: 200)
        notModified = metrics.requestHandles(route: Self.route, method: "GET", status: 304)
    }

    /// The headers of an answer as the routes' answers carry them on the wire: the kept answer's,
    /// then those the edge middleware and Hummingbird add to every answer, in their order.
    func headers(_ answer: HTTPHeaders, requestID: String) -> HTTPHeaders {
        var headers = answer
        headers.reserveCapacity(answer.count + trailingFields.count + 3)
        headers.add(name: requestIDName, value: requestID)
        for field in trailingFields {
            headers.add(name: field.name, value: field.value)
        }
        headers.add(name: dateName, value: dates.now())
        if let serverField {
            headers.add(name: serverField.name, value: serverField.value)
        }
        return headers
    }

    /// Counts an answer (200 with the page, or 304) as the edge middleware counts the routes' answers.
    func count(_ status: HTTPResponseStatus, seconds: Double) {
        (status == .notModified ? notModified : answered).record(seconds: seconds)
        metrics.pollAnsweredOnEventLoop()
    }

    func makeHandler() -> UpToDatePollHandler { UpToDatePollHandler(self) }
}
