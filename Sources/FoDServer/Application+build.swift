import FoDCore
import FoDCrypto
import FoDStore
import Hummingbird
import HummingbirdCore
import Logging

/// Builds fod's HTTP application: the router with authentication and every route.
/// - Parameter secureCookies: mark the dealer page's cookies `Secure` on every request, not only
///   on those that arrive over TLS (directly or as `X-Forwarded-Proto: https`).
/// - Throws: when the dealer page's templates are missing or do not parse.
/// - Parameters:
///   - idleTimeout: a connection on which no request part arrives for this long is closed: an idle
///     keep-alive connection, a request head that does not complete, a body that stops coming.
///   - maxConnections: connections served at once; more wait in the listen backlog.
public func buildApplication(services: FoDServices, host: String = "127.0.0.1", port: Int = 8080, secureCookies: Bool = false,
                             idleTimeout: Duration = .seconds(30), maxConnections: Int = 1000,
                             logger: Logger = Logger(label: "fod")) throws -> some ApplicationProtocol {
    let nanoseconds = idleTimeout.components.seconds * 1_000_000_000 + idleTimeout.components.attoseconds / 1_000_000_000
    return Application(responder: try buildResponder(services: services, secureCookies: secureCookies),
                       server: .http1(configuration: .init(additionalChannelHandlers: [ProtocolErrorHandler()], idleTimeout: .nanoseconds(nanoseconds))),
                       configuration: .init(address: .hostname(host, port: port), serverName: "fod",
                                            availableConnectionsDelegate: MaximumAvailableConnections(maxConnections)),
                       logger: logger)
}

/// The router with `HEAD` for its GET routes: what the server answers with (tests use it with `app.test(.router)`).
/// - Throws: when the dealer page's templates are missing or do not parse.
public func buildResponder(services: FoDServices, secureCookies: Bool = false) throws -> some HTTPResponder<FoDRequestContext> {
    HeadResponder(base: try buildRouter(services: services, secureCookies: secureCookies).buildResponder())
}

/// The router alone (its `routes` list what is served).
/// - Throws: when the dealer page's templates are missing or do not parse.
public func buildRouter(services: FoDServices, secureCookies: Bool = false) throws -> Router<FoDRequestContext> {
    let router = Router(context: FoDRequestContext.self)
    let methods = MethodTable()
    // The request id in every log line and in the answer; one log line per request, without
    // headers (so no key is ever logged) and without quote codes.
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: RequestMetricsMiddleware(metrics: services.metrics))
    router.add(middleware: ErrorMapper(metrics: services.metrics, methods: methods))
    router.add(middleware: APIKeyAuthenticator(store: services.store, clock: services.clock, metrics: services.metrics))
    // One collection per resource; each route's group checks its roles.
    for collection in [OperationsRoutes(services: services).collection, AccessRoutes(services: services).collection,
                       VehicleRoutes(services: services).collection, EntitlementRoutes(services: services).collection,
                       ActivationRoutes(services: services).collection, ManifestRoutes(services: services).collection,
                       PurchaseRoutes(services: services).collection, ReportRoutes(services: services).collection,
                       PeriodRoutes(services: services).collection, WebhookRoutes(services: services).collection,
                       NetworkRoutes(services: services).collection, CatalogRoutes(services: services).collection,
                       PlanRoutes(services: services).collection, QuoteRoutes(services: services).collection] {
        router.addRoutes(collection)
    }
    let pages = try DealerPages()
    DealerWebRoutes(services: services, pages: pages, alwaysSecure: secureCookies).register(on: router)
    AdminWebRoutes(services: services, pages: pages, alwaysSecure: secureCookies).register(on: router)
    methods.load(router.routes.map { ($0.path.description, $0.method.rawValue) })
    return router
}

/// Turns every thrown domain error into its problem document, so no route answers a bare 500.
struct ErrorMapper: RouterMiddleware {
    typealias Context = FoDRequestContext
    let metrics: ServiceMetrics
    let methods: MethodTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do { return try await next(request, context) } catch let error as HTTPError where error.status == .notFound {
            // A known path with another method: 405 with the methods it has.
            let allowed = methods.methods(for: request.uri.path)
            if !allowed.isEmpty, !allowed.contains(request.method.rawValue) {
                throw APIError(.methodNotAllowed, "method_not_allowed", "\(request.method.rawValue) is not allowed here; allowed: \(allowed.sorted().joined(separator: ", "))",
                               allow: allowed.sorted().joined(separator: ", "))
            }
            throw APIError(error.status, "not_found", error.body ?? error.status.reasonPhrase)
        } catch let error as HTTPError where error.status == .unauthorized {
            // hummingbird-auth's answer to a request without an identity.
            throw APIError.unauthorized
        } catch let error as HTTPError {
            // Hummingbird's own answers (no such route, wrong method) as problem documents too.
            let code = error.status == .notFound ? "not_found" : (error.status == .methodNotAllowed ? "method_not_allowed" : "http_\(error.status.code)")
            throw APIError(error.status, code, error.body ?? error.status.reasonPhrase)
        } catch {
            let mapped = APIError.from(error)
            if mapped.status == .forbidden, let principal = context.principal {
                context.logger.info("forbidden", metadata: ["role": .string(principal.role.rawValue), "key": .string(principal.keyID)])
            }
            if mapped.status == .internalServerError {
                context.logger.error("unexpected error", metadata: ["error": .string("\(error)")])
                let id = context.logger[metadataKey: "request_id"].map { "\($0)" } ?? context.id
                throw APIError(.internalServerError, "internal", "an unexpected error occurred; quote request id \(id) to the operator")
            }
            if let store = error as? StoreError, store.code == .database || store.code == .busy {
                // The answer says only "unavailable"; the operator gets SQLite's reason (no arguments, no secrets).
                metrics.databaseFailure(busy: store.code == .busy)
                context.logger.error("database failure", metadata: ["code": .string(store.code.rawValue), "reason": .string(store.reason),
                                                                   "path": .string(request.uri.path)])
            }
            throw mapped
        }
    }
}
