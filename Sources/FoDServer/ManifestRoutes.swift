import FoDAPI
import FoDCore
import FoDEntitlements
import FoDStore
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /v1/vehicles/{vin}/manifest`: the vehicle's signed manifest (``ManifestService``), and
/// `POST /v1/vehicles/{vin}/state`: the car's report of what it has, compared with it.
struct ManifestRoutes {
    let services: FoDServices

    var collection: RouteCollection<FoDRequestContext> {
        let routes = RouteCollection(context: FoDRequestContext.self)
        routes.group().add(middleware: RoleCheck.require(.issuer)).get("/v1/vehicles/{vin}/manifest") { _, context in
            let manifest = try await services.manifests.manifest(for: try PathParameters.vin(context), logger: context.logger)
            return ManifestResponse(version: manifest.version, manifest: manifest.token)
        }
        routes.group().add(middleware: RoleCheck.require(.issuer)).post("/v1/vehicles/{vin}/state") { request, context in
            let vin = try PathParameters.vin(context)
            let (body, _) = try await RequestBody.decode(VehicleStateRequest.self, request, context)
            let report = try await services.manifests.compare(body, for: vin, logger: context.logger)
            let raised = try await services.store.recordVehicleState(report, actor: try context.caller().actor)
            return VehicleStateResponse(vin: vin, reportedAt: Instant(unixSeconds: report.reportedAt).rfc3339,
                                        manifestVersion: report.manifestVersion, currentManifestVersion: report.currentManifestVersion,
                                        manifestBehind: report.manifestBehind, missing: report.missing, unexpected: report.unexpected,
                                        inSync: report.inSync, eventRaised: raised)
        }
        return routes
    }
}
