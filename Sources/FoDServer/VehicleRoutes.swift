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
        routes.group().add(middleware: RoleCheck.require(.issuer))
            .post("/v1/vehicles", use: register)
            .put("/v1/vehicles/{vin}/dealer", use: assignDealer)
            .post("/v1/vehicles/{vin}/transfer", use: transfer)
        routes.group().add(middleware: RoleCheck.require(.issuer, .auditor)).get("/v1/vehicles/{vin}/dealer", use: dealers)
        routes.group().add(middleware: RoleCheck.require(.issuer, .dealer, .auditor))
            .get("/v1/features") { _, _ in FeatureList(services.catalog) }
            .get("/v1/vehicles/{vin}", use: vehicle)
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

    /// The vehicle, with the servicing dealer in force now.
    @Sendable func vehicle(_ request: Request, _ context: FoDRequestContext) async throws -> VehicleBody {
        var vehicle = try await services.registeredVehicle(try PathParameters.vin(context))
        let assignments = try await services.store.dealerAssignments(of: vehicle.vin)
        vehicle.servicingDealer = DealerAssignment.dealer(at: services.clock.unixSeconds(), assignments, base: vehicle.servicingDealer)
        return VehicleBody(vehicle)
    }

    /// `PUT /v1/vehicles/{vin}/dealer`: the servicing dealer from `from` (absent: now) on; sales
    /// already booked keep the dealer they were credited to.
    @Sendable func assignDealer(_ request: Request, _ context: FoDRequestContext) async throws -> VehicleDealersBody {
        let principal = try context.caller()
        let vin = try PathParameters.vin(context)
        let (body, _) = try await RequestBody.decode(DealerAssignmentRequest.self, request, context)
        let now = services.clock.unixSeconds()
        do {
            try await services.store.assignDealer(body.dealerID, to: vin, from: body.from ?? now, actor: principal.actor, at: now)
        } catch let error as StoreError where error.code == .notFound {
            throw FoDServices.notRegistered(vin)
        }
        return try await dealersBody(vin, now: now)
    }

    /// `POST /v1/vehicles/{vin}/transfer`: the change of owner.
    @Sendable func transfer(_ request: Request, _ context: FoDRequestContext) async throws -> TransferResponse {
        let principal = try context.caller()
        let vin = try PathParameters.vin(context)
        let (body, _) = try await RequestBody.decode(TransferRequest.self, request, context)
        let plan = try await TransferService(services: services).transfer(vin, effectiveAt: body.effectiveAt ?? services.clock.unixSeconds(), actor: principal.actor)
        return TransferResponse(vin: plan.vin, effectiveAt: plan.effectiveAt, ended: plan.ending.map(\.id), revoked: plan.revoked)
    }

    /// `GET /v1/vehicles/{vin}/dealer`: the servicing dealer now and every assignment.
    @Sendable func dealers(_ request: Request, _ context: FoDRequestContext) async throws -> VehicleDealersBody {
        let vin = try PathParameters.vin(context)
        _ = try await services.registeredVehicle(vin)
        return try await dealersBody(vin, now: services.clock.unixSeconds())
    }

    private func dealersBody(_ vin: VIN, now: Int64) async throws -> VehicleDealersBody {
        let vehicle = try await services.registeredVehicle(vin)
        let assignments = try await services.store.dealerAssignments(of: vin)
        return VehicleDealersBody(vin: vin, servicingDealer: DealerAssignment.dealer(at: now, assignments, base: vehicle.servicingDealer),
                                  assignments: assignments.map { .init(dealerID: $0.dealer, from: $0.from) })
    }

    @Sendable func offers(_ request: Request, _ context: FoDRequestContext) async throws -> OfferList {
        let (vehicle, entitlements) = try await services.vehicleWithEntitlements(try PathParameters.vin(context))
        // `?at=`: what the catalog would offer then (a scheduled version, a campaign), for what is active then.
        let at = try ReportRoutes.instant(request.uri.queryParameters.get("at"), "at") ?? services.clock.unixSeconds()
        let offers = services.offers(for: vehicle, entitlements: entitlements, now: at)
        return OfferList(vin: vehicle.vin, offers: offers)
    }

    @Sendable func entitlements(_ request: Request, _ context: FoDRequestContext) async throws -> EntitlementList {
        let (vehicle, entitlements) = try await services.vehicleWithEntitlements(try PathParameters.vin(context))
        let now = services.clock.unixSeconds()
        return EntitlementList(vin: vehicle.vin, entitlements: entitlements.map { EntitlementBody($0.claims, token: $0.token, active: $0.isActive(at: now), revokedAt: $0.revokedAt) })
    }

}
