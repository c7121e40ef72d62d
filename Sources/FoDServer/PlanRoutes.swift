import FoDAPI
import FoDCore
import FoDEntitlements
import FoDRevenue
import FoDStore
import HTTPTypes
import Hummingbird

/// Commission plans over time (docs/revenue-share.md, "Plans"): finance schedules versions and
/// previews a draft over a closed month; auditors read. Plans: `network` (prices every site without
/// a plan of its partner's own) and a partner's own (its id; it prices the partner's sites from its
/// first version on).
struct PlanRoutes {
    let services: FoDServices

    var collection: RouteCollection<FoDRequestContext> {
        let routes = RouteCollection(context: FoDRequestContext.self)
        routes.group().add(middleware: RoleCheck.require(.finance))
            .post("/v1/plans/{id}/versions", use: addVersion)
            .post("/v1/plans/{id}/preview", use: preview)
        routes.group().add(middleware: RoleCheck.require(.finance, .auditor)).get("/v1/plans/{id}", use: show)
        return routes
    }

    @Sendable func addVersion(_ request: Request, _ context: FoDRequestContext) async throws -> EditedResponse<PlanBody> {
        let principal = try context.caller()
        guard !services.fourEyesOnly else {
            throw APIError(.forbidden, "four_eyes_required", "a plan version is proposed and approved by two people in the back office (fod serve --four-eyes-only)")
        }
        let id = try await planID(context)
        let (body, _) = try await RequestBody.decode(PlanVersionRequest.self, request, context)
        let plan = try await PlanRoutes.addVersion(id, body.document, actor: principal.actor, services: services)
        return EditedResponse(status: .created, headers: [.location: "/v1/plans/\(id)"], response: PlanRoutes.body(plan, at: services.clock.unixSeconds()))
    }

    /// Adds `document` as a version of plan `id` in `actor`'s name, now (`effective_from` absent:
    /// from now), and prices with it from then on: the API's and the back office's one path.
    /// - Throws: ``RevenueError`` `rules_invalid`; ``StoreError`` (a version in a closed period, a label taken).
    static func addVersion(_ id: String, _ document: JSONObject, actor: String, services: FoDServices) async throws -> Plan {
        let now = services.clock.unixSeconds()
        let version = try PlanRoutes.version(document, defaultFrom: now)
        let plan = try await services.store.addPlanVersion(id, version, base: services.rules, actor: actor, at: now)
        try await services.plans.reload()
        return plan
    }

    @Sendable func show(_ request: Request, _ context: FoDRequestContext) async throws -> PlanBody {
        let id = try await planID(context)
        let at = try ReportRoutes.instant(request.uri.queryParameters.get("at"), "at") ?? services.clock.unixSeconds()
        guard let plan = try await services.store.planSet(base: services.rules).all.first(where: { $0.id == id }) else {
            throw APIError(.notFound, "plan_unknown", "partner \(id) has no plan of its own: its sites are priced by the network's")
        }
        return PlanRoutes.body(plan, at: at)
    }

    /// A draft version run over a closed month, beside what was paid: nothing is stored.
    @Sendable func preview(_ request: Request, _ context: FoDRequestContext) async throws -> PlanPreviewBody {
        let id = try await planID(context)
        let (body, _) = try await RequestBody.decode(PlanPreviewRequest.self, request, context)
        return try await PlanRoutes.preview(id, body.version.document, period: body.period, services: services)
    }

    /// What the draft version `document` of plan `id` would have paid in the closed month `text`,
    /// beside what its close paid, per partner and currency: the API's preview and the back
    /// office's, for the person who approves a proposed version. Nothing is stored.
    /// - Throws: ``APIError`` `query_invalid`, 404 `period_not_closed`, 409 `conflict`; ``RevenueError`` `rules_invalid`.
    static func preview(_ id: String, _ document: JSONObject, period text: String, services: FoDServices) async throws -> PlanPreviewBody {
        let period = try PeriodRoutes.period(text)
        guard let closed = try await services.store.closedPeriod(period.description) else {
            throw APIError(.notFound, "period_not_closed", "\(period) is not closed: a preview compares with what a close paid")
        }
        let draft = try PlanRoutes.version(document, defaultFrom: period.start / 1_000_000_000)
        let set = try await services.store.planSet(base: services.rules)
        let current = set.all.first { $0.id == id }
        guard !(current?.versions.contains(where: { $0.rules.version == draft.rules.version && $0.effectiveFrom != draft.effectiveFrom }) ?? false) else {
            throw APIError(.conflict, "conflict", "plan \(id) has a version \(draft.rules.version): give the draft its own label")
        }
        let drafted = try Plan(id: id, versions: (current?.versions ?? []).filter { $0.effectiveFrom < draft.effectiveFrom } + [draft])
        let plans: PlanSet
        if id == PlanID.network {
            plans = PlanSet(network: drafted, partnerPlans: set.partnerPlans, sites: set.sites)
        } else {
            var sites = set.sites
            for site in try await services.store.network().sites.values where site.partner.value == id { sites[site.id.value] = id }
            plans = PlanSet(network: set.network, partnerPlans: set.partnerPlans.filter { $0.id != id } + [drafted], sites: sites)
        }
        // The month's events as the close read them (up to its ledger position).
        let (report, _) = try await PeriodCloseService.report(services.store, plans, period, upTo: closed.mark.events)
        let file = try PeriodRoutes.statementFile(closed)
        var paid: [String: Int64] = [:], would: [String: Int64] = [:], payees: [String: String] = [:]
        func key(_ partner: String, _ currency: String) -> String { partner + "\u{1}" + currency }
        for s in file.statements where !s.dealerID.isEmpty {
            let partner = s.partnerID ?? s.dealerID
            payees[s.dealerID] = partner
            paid[key(partner, s.currency), default: 0] = try MinorUnits.add(paid[key(partner, s.currency), default: 0], s.payable)
            // The adjustments were the same whatever the plan.
            would[key(partner, s.currency), default: 0] = try MinorUnits.add(would[key(partner, s.currency), default: 0], s.adjustment)
        }
        for s in report.statements where !s.dealerID.isEmpty {
            let partner = payees[s.dealerID] ?? s.dealerID
            would[key(partner, s.currency.code), default: 0] = try MinorUnits.add(would[key(partner, s.currency.code), default: 0], s.payable)
        }
        let rows = try Set(paid.keys).union(would.keys).sorted().map { k -> PlanPreviewBody.Row in
            let parts = k.split(separator: "\u{1}", omittingEmptySubsequences: false).map(String.init)
            let p = paid[k] ?? 0, w = would[k] ?? 0
            return PlanPreviewBody.Row(partnerID: parts[0], currency: parts[1], paid: p, wouldBePaid: w, difference: try MinorUnits.subtract(w, p))
        }
        return PlanPreviewBody(plan: id, period: period.description, draftVersion: draft.rules.version, partners: rows)
    }

    /// A plan's id: `network`, or a partner's (its own contract).
    /// - Throws: ``APIError`` 404 `plan_unknown`.
    func planID(_ context: FoDRequestContext) async throws -> String {
        try await PlanRoutes.planID(context.path("id"), services: services)
    }

    /// `id` as a plan's id: `network`, or a partner's.
    /// - Throws: ``APIError`` 404 `plan_unknown`.
    static func planID(_ id: String, services: FoDServices) async throws -> String {
        if id == PlanID.network { return id }
        guard let partner = try? PartnerID(id), try await services.store.partner(partner) != nil else {
            throw APIError(.notFound, "plan_unknown", "no plan \(DisplayText.sanitized(id, maxLength: 64)): a plan is network's or a partner's (its id)")
        }
        return id
    }

    /// A version from a request document; `effective_from` absent: `defaultFrom`.
    /// - Throws: ``RevenueError`` `rules_invalid` (422).
    static func version(_ document: JSONObject, defaultFrom: Int64) throws -> PlanVersion {
        var members = document.members
        if document["effective_from"] == nil { members.append(.init(name: "effective_from", value: .string(Instant(unixSeconds: defaultFrom).rfc3339))) }
        return try PlanVersion(object: JSONObject(members: members), context: "the plan version")
    }

    static func body(_ plan: Plan, at: Int64) -> PlanBody {
        func body(_ v: PlanVersion) -> PlanVersionBody {
            PlanVersionBody(version: v.rules.version, effectiveFrom: v.effectiveFrom == Int64.min ? nil : Instant(unixSeconds: v.effectiveFrom).rfc3339,
                            model: v.model.rawValue, rules: (try? JSONParser.parse(v.rules.json)) ?? .null)
        }
        return PlanBody(plan: plan.id, at: Instant(unixSeconds: at).rfc3339, inForce: body(plan.version(at: at)), versions: plan.versions.map(body))
    }
}
