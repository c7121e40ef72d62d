import FoDAPI
import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDRevenue
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird

/// Four eyes in the back office (docs/back-office.md): a bulk revocation of a list of vehicles (a
/// recall, a fleet sale) is proposed by one person with the issuer role and takes effect only when
/// a second person with it approves; the proposer cannot; a proposal expires after three days.
/// Every step is audited in the name of the person who took it.
extension AdminWebRoutes {
    static let proposalReasons = ["recall", "fleet_sale", "fraud", "issued_in_error", "other"]

    func registerProposals(on router: Router<FoDRequestContext>) {
        registerPlanPreview(on: router)
        router.get("/admin/proposals") { request, context in
            await withSession(request, context) { session in
                try await proposalsPage(session)
            }
        }
        router.post("/admin/proposals") { request, context in
            await withSession(request, context) { session in
                let form = try await postedForm(request, session, role: .issuer)
                var vins: [VIN] = []
                for text in (form["vins"] ?? "").split(whereSeparator: { $0.isWhitespace || $0 == "," }) {
                    let vin = try VIN(String(text))
                    if !vins.contains(vin) { vins.append(vin) }
                }
                guard (1...Proposal.maxVehicles).contains(vins.count) else {
                    throw APIError(.unprocessableContent, "vins_invalid", "Name 1 to \(Proposal.maxVehicles) vehicles.")
                }
                for vin in vins where try await services.store.vehicleWithEntitlements(vin) == nil {
                    throw APIError(.unprocessableContent, "vehicle_not_found", "\(vin) is not registered.")
                }
                guard let reason = form["reason"], AdminWebRoutes.proposalReasons.contains(reason) else {
                    throw APIError(.unprocessableContent, "reason_invalid", "Choose a reason from the list.")
                }
                let comment = try AdminWebRoutes.comment(form)
                guard let kind = form["kind"].flatMap(Proposal.Kind.init(rawValue:)) else {
                    throw APIError(.unprocessableContent, "kind_invalid", "Choose what to propose: a bulk revocation or a bulk transfer.")
                }
                guard kind == .bulkRevoke || kind == .bulkTransfer else {
                    throw APIError(.unprocessableContent, "kind_invalid", "Choose what to propose: a bulk revocation or a bulk transfer.")
                }
                let id = try await propose(kind, vins: vins, reason: reason, comment: comment, role: .issuer, session)
                return DealerPages.redirect("/admin/proposals#proposal-\(id)")
            }
        }
        router.post("/admin/proposals/{id}/{decision}") { request, context in
            await withSession(request, context) { session in
                let form = try await DealerSessionCookies.form(request)
                try requireCSRF(form, session)
                let decision = context.path("decision")
                guard ["approve", "reject", "apply"].contains(decision) else { throw APIError(.notFound, "not_found", "No such action.") }
                let id = context.path("id")
                guard let proposal = try await services.store.proposal(id: id) else { throw APIError(.notFound, "proposal_not_found", "No proposal \(id.prefix(40)).") }
                try requireRole(proposal.requiredRole, session)
                let decided: Proposal
                if decision == "apply" {
                    // Applied again after it failed part of the way (a bulk action skips what is done already).
                    guard AdminWebRoutes.unapplied(proposal, now: now) else {
                        throw APIError(.conflict, StoreError.Code.proposalDecided.rawValue, "Only an approved proposal that was not applied can be applied again.")
                    }
                    guard proposal.proposedBy != session.subject else {
                        throw APIError(.forbidden, StoreError.Code.proposalOwn.rawValue, "A proposal takes a second person: its proposer cannot apply it.")
                    }
                    decided = proposal
                } else {
                    decided = try await services.store.decideProposal(id: id, approve: decision == "approve", by: session.subject, name: session.name,
                                                                      actor: session.acting(as: proposal.requiredRole).actor, at: now)
                }
                if decided.storedStatus == .approved {
                    do { try await apply(decided, approver: session) } catch {
                        // Approved but not applied (the plan or the objection changed meanwhile): the proposal says why.
                        let mapped = APIError.from(error)
                        try await services.store.recordProposalResult(id: id, result: "\(AdminWebRoutes.notApplied) \(mapped.code): \(mapped.detail)")
                        throw error
                    }
                }
                return DealerPages.redirect("/admin/proposals#proposal-\(id)")
            }
        }
    }

    /// How the result of an approved proposal that could not be applied begins.
    static let notApplied = "not applied:"

    /// Whether an approved proposal may be applied again: it says it was not applied, or it has no
    /// result ten minutes after its approval (the service stopped while applying it).
    static func unapplied(_ proposal: Proposal, now: Int64) -> Bool {
        guard proposal.storedStatus == .approved else { return false }
        guard let result = proposal.result else { return (proposal.decidedAt ?? now) <= now - 600 }
        return result.hasPrefix(notApplied)
    }

    /// A proposed plan version run over the last closed month, beside what its close paid: what
    /// the second person looks at before approving. Finance (or an auditor) may look.
    func registerPlanPreview(on router: Router<FoDRequestContext>) {
        router.get("/admin/plan-previews/{id}") { request, context in
            await withSession(request, context) { session in
                try requireRole(.finance, .auditor, session)
                let id = context.path("id")
                guard let proposal = try await services.store.proposal(id: id), proposal.kind == .planVersion, let plan = proposal.subject,
                      let document = try proposal.payload.flatMap({ try JSONParser.parse($0).object }) else {
                    throw APIError(.notFound, "proposal_not_found", "No proposed plan version \(DisplayText.sanitized(id, maxLength: 40)).")
                }
                guard let month = try await services.store.closedRange()?.last else {
                    throw APIError(.conflict, "period_not_closed", "No month is closed yet: there is nothing to compare the version with.")
                }
                // As if in force for the whole month (its own date is usually ahead of it).
                let whole = JSONObject(members: document.members.filter { $0.name != "effective_from" })
                let preview = try await PlanRoutes.preview(plan, whole, period: month, services: services)
                func money(_ minor: Int64, _ code: String) -> String {
                    guard let currency = try? Currency(code) else { return "\(minor)" }
                    return "\(currency.formatGrouped(minor: minor)) \(code)"
                }
                var values = base(session, title: "What version \(preview.draftVersion) would have paid")
                values["proposal"] = proposal.id
                values["plan"] = preview.plan
                values["period"] = preview.period
                values["version"] = preview.draftVersion
                values["rows"] = preview.partners.map { row -> [String: Any] in
                    ["partner": row.partnerID, "paid": money(row.paid, row.currency), "would": money(row.wouldBePaid, row.currency),
                     "difference": money(row.difference, row.currency)]
                }
                values["hasRows"] = !preview.partners.isEmpty
                return pages.page("admin_plan_preview", values)
            }
        }
    }

    /// Records a proposal of `session`'s person, waiting for a second person with `role`; returns its id.
    func propose(_ kind: Proposal.Kind, vins: [VIN] = [], subject: String? = nil, payload: String? = nil, reason: String, comment: String,
                 role: Role, _ session: StaffSession) async throws -> String {
        let id = "prop_" + Base64URL.encode(SecureRandom.bytes(12))
        try await services.store.createProposal(Proposal(id: id, kind: kind, vins: vins, reason: reason, comment: comment, requiredRole: role,
                                                         proposedBy: session.subject, proposedByName: session.name, proposedAt: now,
                                                         expiresAt: now + Proposal.lifetime, subject: subject, payload: payload))
        return id
    }

    /// Applies an approved proposal in the approver's name. A bulk revocation revokes every live
    /// entitlement of each vehicle with the proposal's reason (one already revoked is left as it
    /// is); a bulk transfer records each vehicle's change of owner now (one recorded already is
    /// left as it is).
    private func apply(_ proposal: Proposal, approver: StaffSession) async throws {
        let actor = approver.acting(as: .issuer).actor
        switch proposal.kind {
        case .bulkRevoke:
            let issuing = IssuingService(services: services)
            var revoked = 0, vehicles = 0
            for vin in proposal.vins {
                let live = try await services.store.entitlements(of: vin).filter { $0.revokedAt == nil && ($0.claims.expiresAt.map { $0 > now } ?? true) }
                for stored in live {
                    try await issuing.revoke(stored.claims.id, reason: "\(proposal.reason): \(proposal.comment) (\(proposal.id), proposed by \(proposal.proposedByName))",
                                             actor: actor)
                    revoked += 1
                }
                if !live.isEmpty { vehicles += 1 }
            }
            try await services.store.recordProposalResult(id: proposal.id, result: "revoked \(revoked) entitlement(s) of \(vehicles) vehicle(s)")
        case .bulkTransfer:
            let transfers = TransferService(services: services)
            var recorded = 0, ended = 0, skipped = 0
            for vin in proposal.vins {
                do {
                    let plan = try await transfers.transfer(vin, effectiveAt: now, actor: actor)
                    recorded += 1
                    ended += plan.ending.count + plan.revoked.count
                } catch let error as StoreError where error.code == .transferRecorded {
                    skipped += 1
                }
            }
            try await services.store.recordProposalResult(
                id: proposal.id, result: "transferred \(recorded) vehicle(s), \(ended) entitlement(s) ended" + (skipped > 0 ? "; \(skipped) recorded already" : ""))
        case .planVersion:
            guard let plan = proposal.subject, let document = try proposal.payload.flatMap({ try JSONParser.parse($0).object }) else {
                throw APIError(.unprocessableContent, "proposal_invalid", "The proposal names no plan version.")
            }
            let added = try await PlanRoutes.addVersion(plan, document, actor: approver.acting(as: .finance).actor, services: services)
            let version = added.versions.last { $0.rules.version == (document["version"]?.string ?? "") } ?? added.versions.last
            try await services.store.recordProposalResult(
                id: proposal.id, result: "plan \(plan): version \(version?.rules.version ?? "?") in force from \(AdminWebRoutes.shown(version?.effectiveFrom))")
        case .adjustment:
            guard let objection = proposal.subject, let payload = try proposal.payload.flatMap({ try JSONParser.parse($0).object }),
                  let amount = payload["amount"]?.string, let reason = payload["reason"]?.string else {
                throw APIError(.unprocessableContent, "proposal_invalid", "The proposal names no adjustment.")
            }
            let ruling = try await PeriodRoutes.ruling(objection, ObjectionDecisionRequest(decision: "adjust", amount: amount, reason: reason), services: services)
            let decided = try await services.store.resolveObjection(ruling.objection.id, ruling.decision, actor: approver.acting(as: .finance).actor, at: now)
            try await services.store.recordProposalResult(id: proposal.id, result: "objection \(decided.id) \(decided.status.rawValue): \(amount) \(ruling.amount?.currency.code ?? "")")
        }
    }

    private func proposalsPage(_ session: StaffSession) async throws -> Response {
        let proposals = try await services.store.proposals(limit: 50)
        func time(_ seconds: Int64?) -> String { AdminWebRoutes.shown(seconds) }
        var values = base(session, title: "Proposals")
        let rows: [[String: Any]] = proposals.map { proposal in
            var row: [String: Any] = ["id": proposal.id, "kind": proposal.kind.rawValue, "count": proposal.vins.count,
                                      "vins": proposal.vins.prefix(5).map(\.value).joined(separator: " ") + (proposal.vins.count > 5 ? " …" : ""),
                                      "reason": proposal.reason, "comment": proposal.comment, "proposedByName": proposal.proposedByName,
                                      "proposedAt": time(proposal.proposedAt), "role": proposal.requiredRole.rawValue, "status": proposal.status(at: now).rawValue, "csrf": session.csrf]
            if let name = proposal.decidedByName { row["decidedByName"] = name; row["decidedAt"] = time(proposal.decidedAt) }
            if let result = proposal.result { row["result"] = result }
            if let subject = proposal.subject { row["subject"] = subject }
            if let payload = proposal.payload { row["payload"] = String(payload.prefix(4000)) }
            if proposal.vins.isEmpty { row.removeValue(forKey: "vins") }
            if proposal.status(at: now) == .open { row["open"] = true }
            if AdminWebRoutes.unapplied(proposal, now: now) { row["retry"] = true }
            if proposal.kind == .planVersion { row["preview"] = true }
            return row
        }
        values["proposals"] = rows
        values["hasProposals"] = !rows.isEmpty
        values["canPropose"] = session.holds(.issuer)
        return pages.page("admin_proposals", values)
    }

    func requireRole(_ role: Role, _ session: StaffSession) throws {
        guard session.holds(role) else {
            throw APIError(.forbidden, "forbidden", "This takes the \(role) role; you hold \(session.roles.map(\.rawValue).joined(separator: ", ")).")
        }
    }
}
