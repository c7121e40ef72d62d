import FoDAPI
import FoDCore
import FoDEntitlements
import FoDStore
import HTTPTypes
import Hummingbird

/// The catalog over time (docs/catalog.md): versions, campaigns and retirements, written by
/// product management (`product`, or `admin`), read by every role that books or reports.
struct CatalogRoutes {
    let services: FoDServices

    var collection: RouteCollection<FoDRequestContext> {
        let routes = RouteCollection(context: FoDRequestContext.self)
        routes.group().add(middleware: RoleCheck.require(.product))
            .post("/v1/catalog/versions", use: addVersion)
            .post("/v1/campaigns", use: addCampaign)
            .post("/v1/features/{code}/retire", use: retire)
        routes.group().add(middleware: RoleCheck.require(.product, .issuer, .dealer, .auditor))
            .get("/v1/catalog", use: catalog)
            .get("/v1/catalog/versions", use: versions)
            .get("/v1/campaigns", use: campaigns)
        return routes
    }

    @Sendable func addVersion(_ request: Request, _ context: FoDRequestContext) async throws -> EditedResponse<CatalogVersionBody> {
        let principal = try context.caller()
        let (body, _) = try await RequestBody.decode(CatalogVersionRequest.self, request, context)
        let catalog = try Catalog(json: JSONWriter.text(body.document))
        guard (try? DealerID(catalog.version)) != nil else {
            throw APIError(.unprocessableContent, "catalog_invalid", "version is 1 to 64 characters [A-Za-z0-9._-], beginning with a letter or digit")
        }
        for feature in catalog.features { try DisplayText.check(feature.name, "features.name", maxLength: 100) }
        let now = services.clock.unixSeconds()
        let at = body.effectiveAt ?? now
        let version = try await services.store.addCatalogVersion(catalog, effectiveAt: at, actor: principal.actor, at: now)
        try await services.catalogs.reload()
        return EditedResponse(status: .created, headers: [.location: "/v1/catalog?at=\(Instant(unixSeconds: version.effectiveAt).rfc3339)"],
                              response: CatalogVersionBody(version: version.label, effectiveAt: Instant(unixSeconds: version.effectiveAt).rfc3339))
    }

    @Sendable func versions(_ request: Request, _ context: FoDRequestContext) async throws -> CatalogVersionList {
        let history = try await services.store.catalogHistory()
        return CatalogVersionList(versions: history.versions.map { CatalogVersionBody(version: $0.label, effectiveAt: Instant(unixSeconds: $0.effectiveAt).rfc3339) })
    }

    @Sendable func catalog(_ request: Request, _ context: FoDRequestContext) async throws -> CatalogAtBody {
        let at = try ReportRoutes.instant(request.uri.queryParameters.get("at"), "at") ?? services.clock.unixSeconds()
        let history = services.catalogs.current()
        let catalog = history.catalog(at: at)
        return CatalogAtBody(at: Instant(unixSeconds: at).rfc3339, version: catalog.version,
                             effectiveAt: Instant(unixSeconds: history.version(at: at)?.effectiveAt ?? 0).rfc3339, features: catalog.features.map(FeatureBody.init))
    }

    @Sendable func addCampaign(_ request: Request, _ context: FoDRequestContext) async throws -> EditedResponse<CampaignBody> {
        let principal = try context.caller()
        let (body, _) = try await RequestBody.decode(CampaignRequest.self, request, context)
        guard (try? DealerID(body.id)) != nil else {
            throw APIError(.unprocessableContent, "campaign_invalid", "id is 1 to 64 characters [A-Za-z0-9._-], beginning with a letter or digit")
        }
        guard body.grossMinor >= 0 else { throw APIError(.unprocessableContent, "campaign_invalid", "gross_minor is 0 or more") }
        let campaign = try await services.store.addCampaign(Campaign(id: body.id, feature: body.feature, market: body.market, term: body.term,
                                                                     grossMinor: body.grossMinor, from: body.from, to: body.to),
                                                            actor: principal.actor, at: services.clock.unixSeconds())
        try await services.catalogs.reload()
        return EditedResponse(status: .created, headers: [.location: "/v1/campaigns"], response: CatalogRoutes.body(campaign))
    }

    @Sendable func campaigns(_ request: Request, _ context: FoDRequestContext) async throws -> CampaignList {
        CampaignList(campaigns: try await services.store.catalogHistory().campaigns.map(CatalogRoutes.body))
    }

    @Sendable func retire(_ request: Request, _ context: FoDRequestContext) async throws -> RetirementBody {
        let principal = try context.caller()
        let text = context.path("code")
        guard let code = try? FeatureCode(text) else {
            throw APIError(.notFound, "feature_unknown", "\(DisplayText.sanitized(text, maxLength: 40)) is not in the catalog")
        }
        let (body, _) = try await RequestBody.decode(EndRequest.self, request, context)
        let now = services.clock.unixSeconds()
        let at: Int64
        do { at = try await services.store.retireFeature(code, effectiveAt: body.effectiveAt ?? now, actor: principal.actor, at: now) }
        catch let error as StoreError where error.code == .notFound { throw APIError(.notFound, "feature_unknown", error.reason) }
        try await services.catalogs.reload()
        return RetirementBody(feature: code.value, effectiveAt: Instant(unixSeconds: at).rfc3339)
    }

    static func body(_ c: Campaign) -> CampaignBody {
        CampaignBody(id: c.id, feature: c.feature.value, market: c.market.code, term: c.term.rawValue, grossMinor: c.grossMinor,
                     from: Instant(unixSeconds: c.from).rfc3339, to: Instant(unixSeconds: c.to).rfc3339)
    }
}
