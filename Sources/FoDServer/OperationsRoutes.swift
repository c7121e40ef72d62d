import FoDAPI
import FoDCore
import FoDEntitlements
import FoDStore
import HTTPTypes
import Hummingbird
import NIOCore

/// Liveness, readiness, metrics and the published keys: what load balancers, Prometheus and
/// vehicles' backends ask for.
struct OperationsRoutes {
    let services: FoDServices

    var collection: RouteCollection<FoDRequestContext> {
        let routes = RouteCollection(context: FoDRequestContext.self)
        routes.get("/healthz") { _, _ in HealthStatus("ok") }
        routes.get("/readyz", use: ready)
        routes.get("/.well-known/jwks.json") { _, _ in
            APIResponseEncoder.response(ByteBuffer(string: try services.keys.jwksJSON(indent: 0)))
        }
        // The keys that verify closed periods' statements, kept for as long as the statements
        // (a restart with another key does not orphan them); not for tokens: a vehicle trusts jwks.json.
        routes.get("/.well-known/fod/statement-keys.json") { _, _ in
            APIResponseEncoder.response(ByteBuffer(string: try await PeriodCloseService.statementKeys(services).jwksJSON(indent: 0)))
        }
        // Every trusted root version, for vehicles walking from the one they pinned.
        routes.get("/.well-known/fod/root/{version}") { _, context in
            let text = context.parameters.get("version") ?? ""
            guard text.hasSuffix(".json"), let version = Int64(text.dropLast(5)), version >= 1, String(version) + ".json" == text else {
                throw APIError(.notFound, "root_not_found", "root metadata is published as /.well-known/fod/root/N.json")
            }
            guard let root = services.signing.root(version: version) else {
                throw APIError(.notFound, "root_not_found", "no root version \(version) is trusted here")
            }
            return APIResponseEncoder.response(ByteBuffer(string: root.json(indent: 0)))
        }
        // Attested time is public like the keys: it tells nobody anything but the time.
        routes.post("/v1/time", use: time)
        // Operational detail (routes, volumes, error rates) is not for whoever reaches the port:
        // Prometheus scrapes with an auditor key (`authorization: {credentials: …}`).
        routes.group().add(middleware: RoleCheck.require(.auditor)).get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.cacheControl] = "no-store"
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: services.metrics.render())))
        }
        return routes
    }

    /// Attested time for a vehicle (docs/trust.md): the time now and the vehicle's nonce, signed.
    /// Anyone may ask, so an instance signs at most ``OperationsRoutes/timeLimit`` per second
    /// (429 `rate_limited` beyond).
    @Sendable func time(_ request: Request, _ context: FoDRequestContext) async throws -> TimeResponse {
        let (body, _) = try await RequestBody.decode(TimeRequest.self, request, context)
        guard services.timeRequests.take() else {
            throw APIError(.tooManyRequests, "rate_limited", "attested time is signed at most \(Int(services.timeRequests.perSecond)) times a second per instance; retry in a second")
        }
        let attested = try services.signer(.time).attestTime(nonce: body.nonce)
        return TimeResponse(token: attested.token, time: attested.claims.time)
    }

    /// Ready means a write reaches the disk: a full disk or a held lock takes the instance out of
    /// a load balancer's rotation until writes work again.
    @Sendable func ready(_ request: Request, _ context: FoDRequestContext) async throws -> HealthStatus {
        guard !services.drain.isDraining else { throw APIError(.serviceUnavailable, "shutting_down", "this instance is shutting down") }
        // A signing key in a token that went away: not ready until it is back (each probe reaches
        // for it, off the event loop: reconnecting starts the module again).
        let signing = services.signing
        guard try await BlockingPool.run(.short, { signing.tokensReachable() }) else {
            throw APIError(.serviceUnavailable, "not_ready", "a signing key's PKCS#11 token cannot be reached")
        }
        // A healthy instance makes one durable write per second at most, whoever probes how often.
        if services.readiness.recentlyReady() { return HealthStatus("ready") }
        guard await services.store.ping() else {
            services.readiness.record(false)
            throw APIError(.serviceUnavailable, "not_ready", "the database does not answer")
        }
        do { try await services.store.checkWritable() } catch let error as StoreError {
            services.readiness.record(false)
            throw APIError(.serviceUnavailable, "not_ready", "the database does not take writes (\(error.code.rawValue))")
        }
        services.readiness.record(true)
        return HealthStatus("ready")
    }
}
