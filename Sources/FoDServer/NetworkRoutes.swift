import FoDAPI
import FoDCore
import FoDEntitlements
import FoDInvoicing
import FoDRevenue
import FoDStore
import HTTPTypes
import Hummingbird
import NIOCore

/// The network (docs/network.md): partners with effective-dated versions, their sites and
/// salespeople, written by the network team (`network` or `admin`), read by them and auditors;
/// a dealer key reads its own partner and sites and downloads its own sales.
struct NetworkRoutes {
    let services: FoDServices

    var collection: RouteCollection<FoDRequestContext> {
        let routes = RouteCollection(context: FoDRequestContext.self)
        routes.group().add(middleware: RoleCheck.require(.network))
            .post("/v1/partners", use: create)
            .post("/v1/partners/{id}/versions", use: change)
            .post("/v1/partners/{id}/end", use: end)
            .post("/v1/partners/{id}/sites", use: openSite)
            .post("/v1/sites/{id}/close", use: closeSite)
            .post("/v1/sites/{id}/salespeople", use: addSalesperson)
            .post("/v1/sites/{id}/salespeople/{salesperson}/end", use: endSalesperson)
        routes.group().add(middleware: RoleCheck.require(.network, .auditor)).get("/v1/partners", use: list)
        routes.group().add(middleware: RoleCheck.require(.network, .auditor, .dealer))
            .get("/v1/partners/{id}", use: show)
            .get("/v1/partners/{id}/sales", use: sales)
            .get("/v1/sites/{id}", use: site)
        return routes
    }

    @Sendable func create(_ request: Request, _ context: FoDRequestContext) async throws -> EditedResponse<PartnerBody> {
        let principal = try context.caller()
        let (body, _) = try await RequestBody.decode(PartnerRequest.self, request, context)
        let id = try NetworkRoutes.partnerID(body.id, "id")
        let now = services.clock.unixSeconds()
        let partner = try await services.store.createPartner(id, try NetworkRoutes.details(body.fields), joinedAt: body.joinedAt ?? now,
                                                             actor: principal.actor, at: now)
        return EditedResponse(status: .created, headers: [.location: "/v1/partners/\(id)"], response: try await self.body(partner, at: now))
    }

    @Sendable func change(_ request: Request, _ context: FoDRequestContext) async throws -> EditedResponse<PartnerBody> {
        let principal = try context.caller()
        let id = try NetworkRoutes.partnerPath(context)
        let (body, _) = try await RequestBody.decode(PartnerVersionRequest.self, request, context)
        let now = services.clock.unixSeconds()
        let partner = try await services.store.changePartner(id, try NetworkRoutes.details(body.fields), effectiveAt: body.effectiveAt ?? now,
                                                             actor: principal.actor, at: now)
        return EditedResponse(status: .created, headers: [.location: "/v1/partners/\(id)"], response: try await self.body(partner, at: now))
    }

    @Sendable func end(_ request: Request, _ context: FoDRequestContext) async throws -> PartnerBody {
        let principal = try context.caller()
        let id = try NetworkRoutes.partnerPath(context)
        let (body, _) = try await RequestBody.decode(EndRequest.self, request, context)
        let now = services.clock.unixSeconds()
        let partner = try await services.store.endPartner(id, effectiveAt: body.effectiveAt ?? now, actor: principal.actor, at: now)
        return try await self.body(partner, at: now)
    }

    @Sendable func list(_ request: Request, _ context: FoDRequestContext) async throws -> PartnerList {
        let at = try ReportRoutes.instant(request.uri.queryParameters.get("at"), "at") ?? services.clock.unixSeconds()
        let network = try await services.store.network()
        return PartnerList(partners: network.partners.values.sorted { $0.id < $1.id }.map { NetworkRoutes.body($0, network, at: at) })
    }

    @Sendable func show(_ request: Request, _ context: FoDRequestContext) async throws -> PartnerBody {
        let principal = try context.caller()
        let id = try NetworkRoutes.partnerPath(context)
        try NetworkRoutes.requireOwn(principal, partner: id)
        guard let partner = try await services.store.partner(id) else { throw StoreError(.partnerNotFound, "no partner \(id)") }
        let at = try ReportRoutes.instant(request.uri.queryParameters.get("at"), "at") ?? services.clock.unixSeconds()
        return try await body(partner, at: at)
    }

    @Sendable func openSite(_ request: Request, _ context: FoDRequestContext) async throws -> EditedResponse<SiteBody> {
        let principal = try context.caller()
        let id = try NetworkRoutes.partnerPath(context)
        let (body, _) = try await RequestBody.decode(SiteRequest.self, request, context)
        guard let partner = try await services.store.partner(id) else { throw StoreError(.partnerNotFound, "no partner \(id)") }
        let now = services.clock.unixSeconds()
        try DisplayText.check(body.name, "name", maxLength: 100)
        let site = Site(id: body.id, partner: id, name: body.name, market: body.market?.code ?? partner.version(at: now).details.market,
                        address: body.address, openedAt: body.openedAt ?? now, closedAt: nil, successor: nil)
        let opened = try await services.store.openSite(site, actor: principal.actor, at: now)
        return EditedResponse(status: .created, headers: [.location: "/v1/sites/\(opened.id)"], response: NetworkRoutes.body(opened, salespeople: []))
    }

    @Sendable func site(_ request: Request, _ context: FoDRequestContext) async throws -> SiteBody {
        let principal = try context.caller()
        let site = try await requireSite(context)
        try NetworkRoutes.requireOwn(principal, partner: site.partner)
        return NetworkRoutes.body(site, salespeople: try await services.store.salespeople(at: site.id))
    }

    @Sendable func closeSite(_ request: Request, _ context: FoDRequestContext) async throws -> SiteClosedBody {
        let principal = try context.caller()
        let id = try await requireSite(context).id
        let (body, _) = try await RequestBody.decode(SiteCloseRequest.self, request, context)
        let closed = try await services.store.closeSite(id, effectiveAt: body.effectiveAt, successor: body.successor, actor: principal.actor,
                                                        at: services.clock.unixSeconds())
        return SiteClosedBody(site: NetworkRoutes.body(closed.site, salespeople: try await services.store.salespeople(at: id)), vehiclesMoved: closed.moved)
    }

    @Sendable func addSalesperson(_ request: Request, _ context: FoDRequestContext) async throws -> EditedResponse<SalespersonBody> {
        let principal = try context.caller()
        let site = try await NetworkRoutes.site(context.path("id"), services: services)
        let (body, _) = try await RequestBody.decode(SalespersonRequest.self, request, context)
        let added = try await NetworkRoutes.addSalesperson(body.id, at: site, from: body.activeFrom, to: body.activeTo, actor: principal.actor, services: services)
        return EditedResponse(status: .created, headers: [.location: "/v1/sites/\(site.id)"], response: NetworkRoutes.body(added))
    }

    @Sendable func endSalesperson(_ request: Request, _ context: FoDRequestContext) async throws -> SalespersonBody {
        let principal = try context.caller()
        let site = try await NetworkRoutes.site(context.path("id"), services: services)
        let (body, _) = try await RequestBody.decode(EndRequest.self, request, context)
        return NetworkRoutes.body(try await NetworkRoutes.endSalesperson(context.path("salesperson"), at: site, effectiveAt: body.effectiveAt,
                                                                         actor: principal.actor, services: services))
    }

    /// Adds salesperson `text` at `site` from `from` (default now) until `to`, in `actor`'s name:
    /// the API's and the back office's one path.
    /// - Throws: ``APIError`` 422 `salesperson_invalid`; ``StoreError`` (`dates_overlap`, `effective_at_invalid`, …).
    static func addSalesperson(_ text: String, at site: Site, from: Int64?, to: Int64?, actor: String, services: FoDServices) async throws -> Salesperson {
        let id: SalespersonID
        do { id = try SalespersonID(text) } catch let error as StoreError { throw APIError(.unprocessableContent, "salesperson_invalid", error.reason) }
        let now = services.clock.unixSeconds()
        return try await services.store.addSalesperson(Salesperson(id: id, site: site.id, activeFrom: from ?? now, activeTo: to), actor: actor, at: now)
    }

    /// Ends salesperson `text` at `site` at `effectiveAt` (default now), in `actor`'s name: the API's and the back office's one path.
    /// - Throws: ``APIError`` 404 `not_found`; ``StoreError``.
    static func endSalesperson(_ text: String, at site: Site, effectiveAt: Int64?, actor: String, services: FoDServices) async throws -> Salesperson {
        guard let id = try? SalespersonID(text) else { throw APIError(.notFound, "not_found", "no salesperson \(DisplayText.sanitized(text, maxLength: 64))") }
        let now = services.clock.unixSeconds()
        return try await services.store.endSalesperson(id, site: site.id, effectiveAt: effectiveAt ?? now, actor: actor, at: now)
    }

    /// `?period=YYYY-MM` (CSV): the partner's sales with site and salesperson, for its own staff incentive.
    @Sendable func sales(_ request: Request, _ context: FoDRequestContext) async throws -> Response {
        let principal = try context.caller()
        let id = try NetworkRoutes.partnerPath(context)
        try NetworkRoutes.requireOwn(principal, partner: id)
        guard try await services.store.partner(id) != nil else { throw StoreError(.partnerNotFound, "no partner \(id)") }
        guard let text = request.uri.queryParameters.get("period") else { throw APIError(.badRequest, "query_invalid", "period=YYYY-MM is required") }
        let period = try PeriodRoutes.period(String(text))
        let sales = try await services.store.sales(of: id, from: period.start / 1_000_000_000, to: period.end / 1_000_000_000)
        var csv = CSVWriter()
        csv.row(["event_id", "occurred_at", "site_id", "salesperson_id", "vin", "feature", "term", "channel", "currency", "gross_minor", "refunded_at", "attribution", "quote_id"])
        for sale in sales {
            csv.row([sale.eventID, Instant(unixSeconds: sale.occurredAt).rfc3339, sale.site, sale.salesperson ?? "", sale.vin, sale.feature, sale.term,
                     sale.channel, sale.currency, String(sale.grossMinor), sale.refundedAt.map { Instant(unixSeconds: $0).rfc3339 } ?? "",
                     sale.attribution ?? "", sale.quote ?? ""])
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.contentDisposition] = "attachment; filename=\"sales-\(id)-\(period).csv\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: csv.bytes)))
    }

    private func requireSite(_ context: FoDRequestContext) async throws -> Site {
        try await NetworkRoutes.site(context.path("id"), services: services)
    }

    /// The site of id `text`.
    /// - Throws: ``StoreError`` `site_not_found`.
    static func site(_ text: String, services: FoDServices) async throws -> Site {
        guard let id = try? DealerID(text), let site = try await services.store.site(id) else {
            throw StoreError(.siteNotFound, "no site \(DisplayText.sanitized(text, maxLength: 64))")
        }
        return site
    }

    private func body(_ partner: Partner, at instant: Int64) async throws -> PartnerBody {
        NetworkRoutes.body(partner, try await services.store.network(), at: instant)
    }

    /// A dealer key sees only its own partner (its site's) and that partner's sites.
    static func requireOwn(_ principal: Principal, partner: PartnerID) throws {
        guard principal.role == .dealer else { return }
        guard principal.partner == partner else { throw APIError.forbidden("a dealer key reads only its own partner and sites") }
    }

    /// The `{id}` of a partner path: one that cannot be an id names no partner.
    /// - Throws: ``StoreError`` `partner_not_found`.
    static func partnerPath(_ context: FoDRequestContext) throws -> PartnerID {
        let text = context.path("id")
        guard let id = try? PartnerID(text) else { throw StoreError(.partnerNotFound, "no partner \(DisplayText.sanitized(text, maxLength: 64))") }
        return id
    }

    /// - Throws: ``APIError`` 422 `partner_invalid`.
    static func partnerID(_ text: String, _ what: String) throws -> PartnerID {
        do { return try PartnerID(text) } catch let error as StoreError { throw APIError(.unprocessableContent, "partner_invalid", "\(what): \(error.reason)") }
    }

    /// The stored version of a request's fields (the legal party checked as a credit note needs it).
    static func details(_ fields: PartnerFields) throws -> PartnerDetails {
        try DisplayText.check(fields.name, "name", maxLength: 100)
        guard fields.vatID != nil || fields.taxNumber != nil else {
            throw APIError(.unprocessableContent, "party_invalid", "a partner needs vat_id or tax_number (§14(4) Nr. 2 UStG)")
        }
        let party = try LegalParty(legalName: fields.legalName, address: fields.address, vatID: fields.vatID, taxNumber: fields.taxNumber, payout: fields.payout,
                                   invoiceContact: fields.invoiceContact, electronicAddress: fields.electronicAddress)
        return PartnerDetails(name: fields.name, market: fields.market.code, party: party,
                              mainPartner: try fields.mainPartner.map { try partnerID($0, "main_partner") })
    }

    static func body(_ partner: Partner, _ network: Network, at instant: Int64) -> PartnerBody {
        PartnerBody(id: partner.id.value, joinedAt: Instant(unixSeconds: partner.joinedAt).rfc3339, leftAt: partner.leftAt.map { Instant(unixSeconds: $0).rfc3339 },
                    inForce: body(partner.version(at: instant)), versions: partner.versions.map(body),
                    sites: network.sites(of: partner.id).map { body($0, salespeople: network.salespeople[$0.id] ?? []) })
    }

    static func body(_ version: PartnerVersion) -> PartnerVersionBody {
        let d = version.details
        return PartnerVersionBody(validFrom: Instant(unixSeconds: version.validFrom).rfc3339, recordedAt: Instant(unixSeconds: version.recordedAt).rfc3339,
                                  name: d.name, legalName: d.party?.legalName, address: d.party?.address, vatID: d.party?.vatID?.value,
                                  taxNumber: d.party?.taxNumber, payout: d.party?.payout, invoiceContact: d.party?.invoiceContact,
                                  electronicAddress: d.party?.electronicAddress?.text, market: d.market, mainPartner: d.mainPartner?.value)
    }

    static func body(_ site: Site, salespeople: [Salesperson]) -> SiteBody {
        SiteBody(id: site.id.value, partnerID: site.partner.value, name: site.name, market: site.market, address: site.address,
                 openedAt: Instant(unixSeconds: site.openedAt).rfc3339, closedAt: site.closedAt.map { Instant(unixSeconds: $0).rfc3339 },
                 successor: site.successor?.value, salespeople: salespeople.map(body))
    }

    static func body(_ salesperson: Salesperson) -> SalespersonBody {
        SalespersonBody(id: salesperson.id.value, siteID: salesperson.site.value, activeFrom: Instant(unixSeconds: salesperson.activeFrom).rfc3339,
                        activeTo: salesperson.activeTo.map { Instant(unixSeconds: $0).rfc3339 })
    }
}
