import FoDAPI
import FoDCore
import FoDEntitlements
import FoDStore
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /v1/vehicles/{vin}/manifest`: the vehicle's signed manifest (``ManifestService``).
struct ManifestRoutes {
    let services: FoDServices

    var collection: RouteCollection<FoDRequestContext> {
        let routes = RouteCollection(context: FoDRequestContext.self)
        routes.group().add(middleware: RoleCheck.require(.issuer)).get("/v1/vehicles/{vin}/manifest") { _, context in
            let manifest = try await services.manifests.manifest(for: try PathParameters.vin(context), logger: context.logger)
            return ManifestResponse(version: manifest.version, manifest: manifest.token)
        }
        return routes
    }
}
