import FoDAPI
import FoDCore
import FoDEntitlements
import FoDStore
import HTTPTypes
import Hummingbird
import NIOCore

/// Vehicles: registration by the OEM backend, the vehicle, what can be booked for it, its
/// entitlements; and the catalog they are booked from.
struct VehicleRoutes {
    let services: FoDServices

    var collection: RouteCollection<FoDRequestContext> {
        let routes = RouteCollection(context: FoDRequestContext.self)
        routes.group().add(middleware: RoleCheck.require(.issuer)).post("/v1/vehicles", use: register)
        routes.group().add(middleware: RoleCheck.require(.issuer, .dealer, .auditor))
            .get("/v1/features") { _, _ in FeatureList(services.catalog) }
            .get("/v1/vehicles/{vin}") { _, context in VehicleBody(try await services.registeredVehicle(try PathParameters.vin(context))) }
        routes.group().add(middleware: RoleCheck.require(.issuer, .dealer))
            .get("/v1/vehicles/{vin}/offers", use: offers)
            .get("/v1/vehicles/{vin}/entitlements", use: entitlements)
        return routes
    }

    /// Registers (or updates) a vehicle; its model, year and equipment are checked where it is stored.
    @Sendable func register(_ request: Request, _ context: FoDRequestContext) async throws -> EditedResponse<VehicleBody> {
        let principal = try context.caller()
        let (vehicle, _) = try await RequestBody.decode(VehicleRegistration.self, request, context)
        try await services.store.register(vehicle, actor: principal.actor, at: services.clock.unixSeconds())
        return EditedResponse(status: .created, headers: [.location: PathParameters.vehiclePath(vehicle.vin)], response: VehicleBody(vehicle))
    }

    @Sendable func offers(_ request: Request, _ context: FoDRequestContext) async throws -> OfferList {
        let (vehicle, entitlements) = try await services.vehicleWithEntitlements(try PathParameters.vin(context))
        let offers = services.offers(for: vehicle, entitlements: entitlements, now: services.clock.unixSeconds())
        return OfferList(vin: vehicle.vin, offers: offers)
    }

    @Sendable func entitlements(_ request: Request, _ context: FoDRequestContext) async throws -> EntitlementList {
        let (vehicle, entitlements) = try await services.vehicleWithEntitlements(try PathParameters.vin(context))
        let now = services.clock.unixSeconds()
        return EntitlementList(vin: vehicle.vin, entitlements: entitlements.map { EntitlementBody($0.claims, token: $0.token, active: $0.isActive(at: now), revokedAt: $0.revokedAt) })
    }

}
