import FoDCore
import FoDAPI
import FoDEntitlements
import FoDRevenue
import FoDStore
import HTTPTypes
import Hummingbird

/// The network, the catalog and the commission plans in the back office (docs/back-office.md), as
/// they stand today, with what is scheduled shown as such. Any staff role may look. The network and
/// the catalog change through the API, each by effective date; a plan's new version is proposed
/// here by finance and added when a second person with the role approves it (four eyes).
extension AdminWebRoutes {
    func registerMasterData(on router: Router<FoDRequestContext>) {
        router.get("/admin/master-data") { request, context in
            await withSession(request, context) { session in
                let time = now
                func day(_ seconds: Int64) -> String { AdminWebRoutes.shown(seconds, day: true) }
                /// In force, ended or scheduled, for a span from `from` to `to` (exclusive).
                func state(from: Int64, to: Int64?) -> String {
                    if from > time { return "scheduled from \(day(from))" }
                    if let to, to <= time { return "ended \(day(to))" }
                    if let to { return "in force; ends \(day(to))" + (to > time ? " (scheduled)" : "") }
                    return "in force"
                }
                let network = try await services.store.network()
                let partners = network.partners.values.sorted { $0.id < $1.id }.map { partner -> [String: Any] in
                    let current = partner.versions.last { $0.validFrom <= time } ?? partner.versions.first
                    var text = state(from: partner.joinedAt, to: partner.leftAt)
                    if let next = partner.versions.first(where: { $0.validFrom > time }) { text += "; a change scheduled from \(day(next.validFrom))" }
                    return ["id": partner.id.value, "name": current?.details.name ?? "", "joined": day(partner.joinedAt), "state": text]
                }
                let sites = network.sites.values.sorted { $0.id.value < $1.id.value }.map { site -> [String: Any] in
                    var text = state(from: site.openedAt, to: site.closedAt)
                    if let successor = site.successor { text += "; successor \(successor.value)" }
                    let people = (network.salespeople[site.id] ?? []).filter { $0.activeTo.map { $0 > time } ?? true }.map(\.id.value).joined(separator: ", ")
                    return ["id": site.id.value, "name": site.name, "partner": site.partner.value, "market": site.market, "opened": day(site.openedAt),
                            "state": text, "salespeople": people.isEmpty ? "—" : people]
                }
                let history = services.catalogs.current()
                let versions = history.versions.sorted { $0.effectiveAt < $1.effectiveAt }
                let catalogs = versions.enumerated().map { index, version -> [String: Any] in
                    let next = index + 1 < versions.count ? versions[index + 1].effectiveAt : nil
                    return ["label": version.label, "from": day(version.effectiveAt), "features": version.catalog.features.count,
                            "state": state(from: version.effectiveAt, to: next)]
                }
                let campaigns = history.campaigns.sorted { ($0.from, $0.id) < ($1.from, $1.id) }.map { campaign -> [String: Any] in
                    ["id": campaign.id, "feature": campaign.feature.value, "market": campaign.market.code, "term": campaign.term.rawValue,
                     "price": "\(campaign.grossMinor) (minor units)", "from": day(campaign.from), "to": day(campaign.to),
                     "state": state(from: campaign.from, to: campaign.to)]
                }
                let retirements = history.retirements.sorted { $0.key.value < $1.key.value }.map { feature, from -> [String: Any] in
                    ["feature": feature.value, "from": day(from), "state": from > time ? "scheduled" : "retired"]
                }
                let planSet = services.plan
                let plans = ([planSet.network] + planSet.partnerPlans).flatMap { plan in
                    plan.versions.enumerated().map { index, version -> [String: Any] in
                        let next = index + 1 < plan.versions.count ? plan.versions[index + 1].effectiveFrom : nil
                        return ["plan": plan.id, "version": version.rules.version, "model": version.model.rawValue, "from": day(version.effectiveFrom),
                                "state": state(from: version.effectiveFrom, to: next)]
                    }
                }
                var values = base(session, title: "Master data")
                if let id = request.uri.queryParameters["salesperson"].flatMap({ try? SalespersonID(String($0)) }) {
                    values["notice"] = "Salesperson \(id.value) is recorded."
                }
                values["partners"] = partners
                values["sites"] = sites
                values["catalogs"] = catalogs
                values["campaigns"] = campaigns
                values["retirements"] = retirements
                values["hasRetirements"] = !retirements.isEmpty
                values["plans"] = plans
                if session.holds(.network) {
                    values["canManageNetwork"] = true
                    values["siteIDs"] = network.sites.values.filter { $0.closedAt.map { $0 > time } ?? true }.map(\.id.value).sorted()
                }
                if session.holds(.finance) {
                    values["canProposePlan"] = true
                    values["planIDs"] = [PlanID.network] + network.partners.keys.map(\.value).sorted()
                }
                return pages.page("admin_master", values)
            }
        }
        router.post("/admin/network/salespeople") { request, context in
            await withSession(request, context) { session in
                let form = try await postedForm(request, session, role: .network)
                let site = try await NetworkRoutes.site(form["site"] ?? "", services: services)
                let actor = session.acting(as: .network).actor
                let from = try AdminWebRoutes.day(form["date"], "date")
                let done: Salesperson
                switch form["action"] {
                case "add": done = try await NetworkRoutes.addSalesperson(form["salesperson"] ?? "", at: site, from: from, to: nil, actor: actor, services: services)
                case "end": done = try await NetworkRoutes.endSalesperson(form["salesperson"] ?? "", at: site, effectiveAt: from, actor: actor, services: services)
                default: throw APIError(.unprocessableContent, "action_invalid", "Choose to add or to end a salesperson.")
                }
                return DealerPages.redirect("/admin/master-data?salesperson=\(done.id.value)#sites")
            }
        }
        router.post("/admin/plans/propose") { request, context in
            await withSession(request, context) { session in
                let form = try await postedForm(request, session, role: .finance)
                let plan = try await PlanRoutes.planID(form["plan"] ?? "", services: services)
                let text = form["document"] ?? ""
                guard text.utf8.count <= 64 * 1024 else { throw APIError(.contentTooLarge, "document_invalid", "The version is at most 64 KiB of JSON.") }
                let document: JSONObject
                do {
                    guard let object = try JSONParser.parse(text).object else { throw APIError(.unprocessableContent, "document_invalid", "The version is a JSON object.") }
                    document = object
                } catch let error as APIError { throw error } catch {
                    throw APIError(.unprocessableContent, "document_invalid", "The version is not JSON: \(error)")
                }
                // Checked as it will be applied (the effective date defaults to the approval's time then).
                _ = try PlanRoutes.version(document, defaultFrom: now)
                let comment = try AdminWebRoutes.comment(form)
                let id = try await propose(.planVersion, subject: plan, payload: text, reason: "plan_version", comment: comment, role: .finance, session)
                return DealerPages.redirect("/admin/proposals#proposal-\(id)")
            }
        }
    }
}
