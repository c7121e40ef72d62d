import FoDAPI
import FoDCore
import FoDEntitlements
import FoDInvoicing
import FoDRevenue
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird

/// Periods in the back office (docs/back-office.md): the closed months with their credit notes,
/// the next month's close checklist (open objections, partners whose master data cannot make a
/// credit note, the issuer profile, whether the month may close), a rehearsal of the close that
/// makes and checks every document without storing one, the close, and objections decided — an
/// adjustment above the four-eyes amount as a proposal. Finance acts (admin too); an auditor reads.
extension AdminWebRoutes {
    func registerPeriods(on router: Router<FoDRequestContext>) {
        router.get("/admin/periods") { request, context in
            await withSession(request, context) { session in
                try requireRole(.finance, .auditor, session)
                return try await periodsPage(session, notice: AdminWebRoutes.notice(request))
            }
        }
        router.get("/admin/periods/{period}") { request, context in
            await withSession(request, context) { session in
                try requireRole(.finance, .auditor, session)
                // A month that is not one has no page, as a month that is not closed.
                guard let period = try? PeriodCloseService.period(context.path("period")) else {
                    throw APIError(.notFound, "period_not_closed", "There is no closed month \(DisplayText.sanitized(context.path("period"), maxLength: 16)).")
                }
                return try await closedPage(period.description, session)
            }
        }
        router.post("/admin/periods/{period}/rehearse") { request, context in
            await withSession(request, context) { session in
                _ = try await postedForm(request, session, role: .finance)
                let rehearsal = try await PeriodCloseService(services: services).rehearse(context.path("period"), at: now)
                return rehearsalPage(rehearsal, session)
            }
        }
        router.post("/admin/periods/{period}/close") { request, context in
            await withSession(request, context) { session in
                let form = try await postedForm(request, session, role: .finance)
                let period = try PeriodCloseService.period(context.path("period")).description
                let open = try await services.store.objections(creditNote: nil, dealer: nil, status: .open).count
                guard open == 0 || form["objections_seen"] == String(open) else {
                    throw APIError(.conflict, "objections_open",
                                   "\(open) objection(s) are open. Decide them first, or confirm on the checklist that the close goes ahead without them (they are settled in a later month).")
                }
                let closed = try await PeriodCloseService(services: services).close(period, at: now, actor: session.acting(as: .finance).actor)
                return DealerPages.redirect("/admin/periods/\(closed.period)")
            }
        }
        router.get("/admin/credit-notes/{number}") { request, context in
            await withSession(request, context) { session in
                try requireRole(.finance, .auditor, session)
                return PeriodRoutes.document(try await creditNote(context).html(), type: "text/html; charset=utf-8")
            }
        }
        router.get("/admin/credit-notes/{number}/xml") { request, context in
            await withSession(request, context) { session in
                try requireRole(.finance, .auditor, session)
                return PeriodRoutes.document(try await creditNote(context).ciiXML(), type: "application/xml; charset=utf-8")
            }
        }
        router.post("/admin/objections/{id}/decide") { request, context in
            await withSession(request, context) { session in
                let form = try await postedForm(request, session, role: .finance)
                let decision = form["decision"] ?? ""
                let amount = (form["amount"] ?? "").trimmingCharacters(in: .whitespaces)
                let reason = (form["reason"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
                guard !reason.isEmpty else { throw APIError(.unprocessableContent, "reason_invalid", "Write the reason the dealer is given.") }
                let body = ObjectionDecisionRequest(decision: decision, amount: decision == "adjust" ? amount : nil, reason: reason)
                let ruling = try await PeriodRoutes.ruling(context.path("id"), body, services: services)
                guard ruling.objection.status == .open else {
                    throw APIError(.conflict, StoreError.Code.objectionDecided.rawValue, "Objection \(ruling.objection.id) was decided already (\(ruling.objection.status.rawValue)).")
                }
                if let (minor, currency) = ruling.amount, services.adjustments.needsSecondPerson(minor, currency: currency) {
                    let payload = try String(decoding: JSONEncoder.sorted.encode(["amount": amount, "reason": reason]), as: UTF8.self)
                    let id = try await propose(.adjustment, subject: ruling.objection.id, payload: payload, reason: "adjustment",
                                               comment: "\(amount) \(currency.code) for objection \(ruling.objection.id) of \(ruling.objection.dealerID): \(reason.prefix(300))",
                                               role: .finance, session)
                    return DealerPages.redirect("/admin/proposals#proposal-\(id)")
                }
                let decided = try await services.store.resolveObjection(ruling.objection.id, ruling.decision, actor: session.acting(as: .finance).actor, at: now)
                return DealerPages.redirect("/admin/periods?decided=\(decided.id)")
            }
        }
    }

    /// A notice the periods page may show: only an id it could have set (the ids' one rule; anything else is ignored).
    static func notice(_ request: Request) -> String? {
        guard let id = (try? PeriodRoutes.queryID(request, "decided")) ?? nil else { return nil }
        return "Objection \(id) is decided."
    }

    private func creditNote(_ context: FoDRequestContext) async throws -> CreditNote {
        let number = context.path("number")
        guard number.utf8.count <= 64, let note = try await services.store.creditNote(number) else {
            throw APIError(.notFound, "not_found", "No credit note \(DisplayText.sanitized(number, maxLength: 64)).")
        }
        return note
    }

    /// The month to close next: the one after the last closed, else the configured first or the
    /// month of the first recorded sale; `nil` when nothing was sold yet.
    private func nextPeriod() async throws -> String? {
        if let range = try await services.store.closedRange() { return try PeriodCloseService.next(range.last) }
        if let first = services.firstPeriod { return first }
        return try await services.store.firstEventAt().map { ReportPeriod.text(containing: $0) }
    }

    private func periodsPage(_ session: StaffSession, notice: String?) async throws -> Response {
        var values = base(session, title: "Periods")
        let service = PeriodCloseService(services: services)
        if let range = try await services.store.closedRange() {
            var months: [String] = [range.last]
            while months.count < 24, let last = months.last, last > range.first, let earlier = try? AdminWebRoutes.previous(last) { months.append(earlier) }
            values["closed"] = months.map { ["period": $0] }
            values["hasClosed"] = true
        }
        let open = try await services.store.objections(creditNote: nil, dealer: nil, status: .open)
        values["objections"] = open.prefix(200).map { objection -> [String: Any] in
            ["id": objection.id, "creditNote": objection.creditNote, "dealer": objection.dealerID, "event": objection.eventID ?? "—",
             "reason": String(objection.reason.prefix(300)), "raisedAt": AdminWebRoutes.shown(objection.raisedAt), "csrf": session.csrf]
        }
        values["hasObjections"] = !open.isEmpty
        values["openCount"] = open.count
        values["canAct"] = session.holds(.finance)
        values["fourEyes"] = services.adjustments.fourEyesAbove.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_GB")))
        if let next = try await nextPeriod() {
            var checklist: [[String: Any]] = []
            func item(_ ok: Bool, _ text: String, _ detail: String? = nil) {
                var row: [String: Any] = ["ok": ok, "mark": ok ? "✓" : "✗", "text": text]
                if let detail { row["detail"] = detail }
                checklist.append(row)
            }
            var closable = true
            do { _ = try await service.closable(try PeriodCloseService.period(next), at: now); item(true, "\(next) has ended and is the next month to close.") }
            catch { closable = false; item(false, "\(next) cannot close yet.", APIError.from(error).detail) }
            item(open.isEmpty, open.isEmpty ? "No objection is open." : "\(open.count) objection(s) are open.",
                 open.isEmpty ? nil : "Decide them below, or close without them: they are settled in a later month.")
            if services.issuerProfile == nil {
                closable = false
                item(false, "The service has no issuer profile.", "Start it with --issuer-profile: credit notes cannot be made without the OEM's own data.")
            } else {
                let gaps = try await service.masterDataGaps(next, currency: try Currency("EUR"), at: now)
                item(gaps.isEmpty, gaps.isEmpty ? "Every partner paid for \(next) has the master data a credit note needs."
                                                : "\(gaps.count) partner(s) lack master data a credit note needs.")
                values["gaps"] = gaps.map { ["partner": $0.partner, "code": $0.code, "reason": String($0.reason.prefix(300))] }
                values["hasGaps"] = !gaps.isEmpty
                if !gaps.isEmpty { closable = false }
            }
            values["next"] = ["period": next, "checklist": checklist, "closable": closable, "openCount": open.count, "confirm": !open.isEmpty,
                              "csrf": session.csrf, "canAct": session.holds(.finance)]
        }
        if let notice { values["notice"] = notice }
        return pages.page("admin_periods", values)
    }

    private func closedPage(_ period: String, _ session: StaffSession) async throws -> Response {
        guard let closed = try await services.store.closedPeriod(period) else {
            throw APIError(.notFound, "period_not_closed", "\(period) is not closed.")
        }
        var values = base(session, title: "Period \(period)")
        values["period"] = period
        values["closedAt"] = AdminWebRoutes.shown(closed.closedAt)
        values["closedBy"] = closed.actor
        values["rulesVersion"] = closed.rulesVersion
        values["eventsSHA256"] = closed.eventsSHA256
        let notes = closed.creditNotes.sorted { $0.number < $1.number }
        values["creditNotes"] = notes.map { note -> [String: Any] in
            ["number": note.number, "kind": note.kind.title, "partner": note.dealerID, "name": note.dealer.legalName,
             "total": "\(note.currency.formatGrouped(minor: note.total)) \(note.currency.code)"]
        }
        values["hasCreditNotes"] = !notes.isEmpty
        let numbers = Set(notes.map(\.number))
        let objections = try await services.store.objections(creditNote: nil, dealer: nil, status: nil).filter { numbers.contains($0.creditNote) }
        values["objections"] = objections.map { objection -> [String: Any] in
            var row: [String: Any] = ["id": objection.id, "creditNote": objection.creditNote, "dealer": objection.dealerID,
                                      "reason": String(objection.reason.prefix(300)), "status": objection.status.rawValue]
            if let resolution = objection.resolution { row["resolution"] = String(resolution.prefix(300)) }
            if let by = objection.resolvedBy { row["resolvedBy"] = by; row["resolvedAt"] = AdminWebRoutes.shown(objection.resolvedAt) }
            return row
        }
        values["hasObjections"] = !objections.isEmpty
        return pages.page("admin_period", values)
    }

    private func rehearsalPage(_ rehearsal: PeriodCloseService.Rehearsal, _ session: StaffSession) -> Response {
        var values = base(session, title: "Rehearsal of \(rehearsal.period)")
        values["period"] = rehearsal.period
        values["creditNotes"] = rehearsal.creditNotes.sorted { ($0.dealerID, $0.currency.code) < ($1.dealerID, $1.currency.code) }.map { note -> [String: Any] in
            ["kind": note.kind.title, "partner": note.dealerID, "name": note.dealer.legalName,
             "total": "\(note.currency.formatGrouped(minor: note.total)) \(note.currency.code)"]
        }
        values["count"] = rehearsal.creditNotes.count
        values["failures"] = rehearsal.failures.map { ["partner": $0.partner, "currency": $0.currency, "code": $0.code, "reason": String($0.reason.prefix(400))] }
        values["hasFailures"] = !rehearsal.failures.isEmpty
        values["adjustmentLines"] = rehearsal.adjustmentLines
        return pages.page("admin_rehearsal", values)
    }

    /// The month before `text` (`YYYY-MM`).
    static func previous(_ text: String) throws -> String {
        let period = try ReportPeriod(text)
        return period.month == 1 ? String(format: "%04d-12", period.year - 1) : String(format: "%04d-%02d", period.year, period.month - 1)
    }

    func requireRole(_ first: Role, _ second: Role, _ session: StaffSession) throws {
        guard session.holds(first) || session.holds(second) else {
            throw APIError(.forbidden, "forbidden", "This takes the \(first) or \(second) role; you hold \(session.roles.map(\.rawValue).joined(separator: ", ")).")
        }
    }
}
