import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The HTTP API (see `docs/api.md`).
struct Routes {
    let services: FoDServices

    func register(on router: Router<FoDRequestContext>) {
        router.get("/healthz") { _, _ in JSONBody.response(JSONBody.object([("status", .string("ok"))])) }
        router.get("/readyz") { _, _ in
            // Ready means a write reaches the disk: a full disk or a held lock takes the instance
            // out of a load balancer's rotation until writes work again.
            guard !services.drain.isDraining else { throw APIError(.serviceUnavailable, "shutting_down", "this instance is shutting down") }
            guard services.database.ping() else { throw APIError(.serviceUnavailable, "not_ready", "the database does not answer") }
            do { try await Offload.run { try services.database.checkWritable() } } catch let error as StoreError {
                throw APIError(.serviceUnavailable, "not_ready", "the database does not take writes (\(error.code.rawValue))")
            }
            return JSONBody.response(JSONBody.object([("status", .string("ready"))]))
        }
        router.get("/metrics") { _, context in
            // Operational detail (routes, volumes, error rates) is not for whoever reaches the port:
            // Prometheus scrapes with an auditor key (`authorization: {credentials: …}`).
            _ = try context.require(.auditor)
            var headers = HTTPFields()
            headers[.cacheControl] = "no-store"
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: services.metrics.render())))
        }
        router.get("/.well-known/jwks.json") { _, _ in
            JSONBody.response(bytes: Array(try services.keys.jwksJSON(indent: 0).utf8))
        }
        router.get("/v1/me") { _, context in
            let principal = try context.require(.issuer, .dealer, .auditor)
            let dealer = try principal.dealer.map { id -> JSONValue in
                JSONBody.object([("id", .string(id.value)), ("name", try services.database.dealer(id).map { .string($0.name) } ?? .null)])
            }
            return JSONBody.response(JSONBody.object([("key_id", .string(principal.keyID)), ("role", .string(principal.role.rawValue)),
                                                      ("dealer", dealer ?? .null)]))
        }
        router.get("/v1/features") { _, context in
            _ = try context.require(.issuer, .dealer, .auditor)
            return JSONBody.response(.object(JSONObject(members: [
                .init(name: "version", value: .string(services.catalog.version)),
                .init(name: "features", value: .array(services.catalog.features.map(Routes.feature))),
            ])))
        }
        router.get("/v1/vehicles/{vin}") { _, context in
            _ = try context.require(.issuer, .dealer, .auditor)
            return JSONBody.response(Routes.vehicle(try vehicle(context)))
        }
        router.get("/v1/vehicles/{vin}/offers") { _, context in
            _ = try context.require(.issuer, .dealer)
            let vehicle = try vehicle(context)
            let now = services.clock.unixSeconds()
            let offers = services.offers(for: vehicle, entitlements: try services.database.entitlements(of: vehicle.vin), now: now)
            return JSONBody.response(JSONBody.object([("vin", .string(vehicle.vin.value)), ("offers", .array(offers.map(Routes.offer)))]))
        }
        router.get("/v1/vehicles/{vin}/entitlements") { _, context in
            _ = try context.require(.issuer, .dealer)
            let vehicle = try vehicle(context)
            let now = services.clock.unixSeconds()
            let list = try services.database.entitlements(of: vehicle.vin).map { Routes.entitlement($0, now: now) }
            return JSONBody.response(JSONBody.object([("vin", .string(vehicle.vin.value)), ("entitlements", .array(list))]))
        }
        router.get("/v1/entitlements/{id}") { _, context in
            // A dealer sees the entitlements credited to it; another's is not found, as if absent.
            let principal = try context.require(.issuer, .dealer, .auditor)
            let id = try EntitlementID(context.path("id"))
            guard let stored = try services.database.entitlement(id),
                  principal.role != .dealer || stored.claims.dealer == principal.dealer else {
                throw APIError(.notFound, "entitlement_not_found", "no entitlement \(id.value)")
            }
            return JSONBody.response(Routes.entitlement(stored, now: services.clock.unixSeconds()))
        }
        router.post("/v1/verify") { request, context in
            _ = try context.require(.issuer, .dealer, .auditor)
            let (body, _) = try await JSONBody.object(request, context, allowed: ["token", "vin"], required: ["token"])
            let vin = try body["vin"]?.string.map { try VIN($0) }
            let claims: EntitlementClaims
            do { claims = try services.verifier.verifyEntitlement(body["token"]?.string ?? "", vin: vin) } catch {
                services.metrics.verification(valid: false)
                throw error
            }
            services.metrics.verification(valid: true)
            return JSONBody.response(JSONBody.object([("valid", .bool(true)), ("claims", claims.jsonValue)]))
        }
        router.post("/v1/activations") { request, context in
            try await ActivationHandler(services: services).handle(request, context)
        }
    }

    private func vehicle(_ context: FoDRequestContext) throws -> Vehicle {
        try services.registeredVehicle(try Routes.pathVIN(context))
    }

    /// The `{vin}` path parameter as a VIN.
    /// - Throws: ``APIError`` 422 with the VIN's code (`vin_malformed`, `vin_check_digit`), as for a VIN in a body.
    static func pathVIN(_ context: FoDRequestContext) throws -> VIN {
        let text = context.path("vin")
        do { return try VIN(text) } catch let error as EntitlementError {
            throw APIError(.unprocessableContent, error.code.rawValue, "\"\(text.prefix(20))\" is not a valid VIN: \(error.reason)")
        }
    }

    /// Where an entitlement is read (the `Location` of the answers that make one).
    static func entitlementPath(_ id: EntitlementID) -> String { "/v1/entitlements/\(id.value)" }

    static func vehicle(_ vehicle: Vehicle) -> JSONValue {
        JSONBody.object([("vin", .string(vehicle.vin.value)), ("model", .string(vehicle.model)), ("model_year", JSONBody.int(Int64(vehicle.modelYear))),
                         ("market", .string(vehicle.market)), ("equipment", .array(vehicle.equipment.sorted().map { .string($0) })),
                         ("servicing_dealer", vehicle.servicingDealer.map { .string($0.value) } ?? .null)])
    }

    static func price(_ price: Price) -> JSONValue {
        JSONBody.object([("term", .string(price.term.rawValue)), ("market", .string(price.market)), ("currency", .string(price.currency)),
                         ("gross_minor", JSONBody.int(price.grossMinor)), ("vat_bps", JSONBody.int(price.vatBps))])
    }

    static func feature(_ feature: CatalogFeature) -> JSONValue {
        JSONBody.object([("code", .string(feature.code.value)), ("name", .string(feature.name)),
                         ("models", .array(feature.models.sorted().map { .string($0) })),
                         ("min_model_year", feature.minModelYear.map { JSONBody.int(Int64($0)) } ?? .null),
                         ("requires", .array(feature.requires.map { .string($0) })), ("excludes", .array(feature.excludes.map { .string($0) })),
                         ("prices", .array(feature.prices.map(price)))])
    }

    static func offer(_ offer: Offer) -> JSONValue {
        JSONBody.object([("feature", .string(offer.feature.code.value)), ("name", .string(offer.feature.name)),
                         ("bookable", .bool(offer.refusal == nil)), ("prices", .array(offer.prices.map(price))),
                         ("refusal", offer.refusal.map { JSONBody.object([("rule", .string($0.rule)), ("message", .string($0.message))]) } ?? .null)])
    }

    static func entitlement(_ stored: StoredEntitlement, now: Int64) -> JSONValue {
        let c = stored.claims
        return JSONBody.object([("id", .string(c.id.value)), ("feature", .string(c.feature.value)), ("term", .string(c.term.rawValue)),
                                ("dealer", c.dealer.map { .string($0.value) } ?? .null), ("issued_at", JSONBody.int(c.issuedAt)),
                                ("not_before", JSONBody.int(c.notBefore)), ("expires_at", JSONBody.optionalInt(c.expiresAt)),
                                ("active", .bool(stored.isActive(at: now))), ("revoked_at", JSONBody.optionalInt(stored.revokedAt))])
    }
}
