import FoDAPI
import FoDCore
import FoDEntitlements
import FoDInvoicing
import FoDRevenue
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Closed periods, their signed statements, credit notes (JSON, CII XML, HTML), objections and
/// the dealer's book extract. A dealer key sees and acts only as its own dealer: another
/// dealer's document is not found, as if absent.
struct PeriodRoutes {
    let services: FoDServices

    var collection: RouteCollection<FoDRequestContext> {
        let routes = RouteCollection(context: FoDRequestContext.self)
        // Finance closes and decides as in the back office; an auditor may too (as before finance was a role).
        routes.group().add(middleware: RoleCheck.require(.admin, .auditor, .finance))
            .post("/v1/periods/{period}/close", use: close)
            .get("/v1/periods/{period}", use: show)
            .post("/v1/objections/{id}/resolve", use: resolve)
        routes.group().add(middleware: RoleCheck.require(.admin, .auditor, .finance, .dealer))
            .get("/v1/periods/{period}/statement", use: statement)
            .get("/v1/credit-notes", use: list)
            .get("/v1/credit-notes/{number}", use: creditNote)
            .get("/v1/credit-notes/{number}/xml", use: xml)
            .get("/v1/credit-notes/{number}/html", use: html)
            .get("/v1/objections", use: objections)
            .get("/v1/dealers/{id}/book-extract", use: bookExtract)
        routes.group().add(middleware: RoleCheck.require(.dealer)).post("/v1/credit-notes/{number}/objections", use: object)
        return routes
    }

    @Sendable func close(_ request: Request, _ context: FoDRequestContext) async throws -> ClosedPeriodResponse {
        let principal = try context.caller()
        let closed = try await PeriodCloseService(services: services).close(context.path("period"), at: services.clock.unixSeconds(), actor: principal.actor)
        return try PeriodRoutes.response(closed)
    }

    @Sendable func show(_ request: Request, _ context: FoDRequestContext) async throws -> ClosedPeriodResponse {
        try PeriodRoutes.response(try await closed(context))
    }

    /// The signed statement file: the whole period for an auditor, a dealer's own statements
    /// (signed for it on request) for a dealer key or `?dealer=`.
    @Sendable func statement(_ request: Request, _ context: FoDRequestContext) async throws -> SignedStatementResponse {
        let principal = try context.caller()
        let closed = try await closed(context)
        let asked = try PeriodRoutes.queryID(request, "dealer")
        if principal.role == .dealer, let asked, asked != principal.dealer?.value { throw APIError.forbidden("a dealer key reads only its own statement") }
        let dealer = principal.role == .dealer ? principal.dealer?.value : asked
        guard let dealer else {
            return SignedStatementResponse(fileName: "statement-\(closed.period).json", statement: closed.statement, signature: closed.signature)
        }
        let file = try PeriodRoutes.statementFile(closed)
        var own = file
        own.statements = file.statements.filter { $0.dealerID == dealer }
        let text = try StatementDocument.text(own)
        let signer = try services.signing.requireSigner(for: .entitlement)
        return SignedStatementResponse(fileName: "statement-\(closed.period)-\(dealer).json", statement: text,
                                       signature: try DetachedJWS.sign(Array(text.utf8), key: signer.key, keyID: signer.keyID))
    }

    @Sendable func list(_ request: Request, _ context: FoDRequestContext) async throws -> CreditNotesResponse {
        let principal = try context.caller()
        let period = request.uri.queryParameters.get("period").map { String($0) }
        if let period { _ = try PeriodRoutes.period(period) }
        let asked = try PeriodRoutes.queryID(request, "dealer")
        if principal.role == .dealer, let asked, asked != principal.partner?.value { throw APIError.forbidden("a dealer key reads only its own partner's credit notes") }
        let dealer = principal.role == .dealer ? principal.partner?.value : asked
        return CreditNotesResponse(creditNotes: try await services.store.creditNotes(period: period, dealer: dealer).map(CreditNoteSummary.init))
    }

    @Sendable func creditNote(_ request: Request, _ context: FoDRequestContext) async throws -> CreditNoteSummary {
        CreditNoteSummary(try await own(context))
    }

    @Sendable func xml(_ request: Request, _ context: FoDRequestContext) async throws -> Response {
        PeriodRoutes.document(try await own(context).ciiXML(), type: "application/xml; charset=utf-8")
    }

    @Sendable func html(_ request: Request, _ context: FoDRequestContext) async throws -> Response {
        PeriodRoutes.document(try await own(context).html(), type: "text/html; charset=utf-8")
    }

    @Sendable func object(_ request: Request, _ context: FoDRequestContext) async throws -> EditedResponse<ObjectionBody> {
        let principal = try context.caller()
        let note = try await own(context)
        let (body, _) = try await RequestBody.decode(ObjectionRequest.self, request, context)
        try PeriodRoutes.checkReason(body.reason)
        let objection = try await services.store.raiseObjection(creditNote: note.number, dealer: note.dealerID, eventID: body.eventID,
                                                                reason: body.reason, actor: principal.actor, at: services.clock.unixSeconds())
        return EditedResponse(status: .created, headers: [.location: "/v1/objections?credit_note=\(note.number)"], response: PeriodRoutes.body(objection))
    }

    @Sendable func objections(_ request: Request, _ context: FoDRequestContext) async throws -> ObjectionsResponse {
        let principal = try context.caller()
        let status = try request.uri.queryParameters.get("status").map { text -> Objection.Status in
            guard let status = Objection.Status(rawValue: String(text)) else { throw APIError(.badRequest, "query_invalid", "status is open, adjusted or rejected") }
            return status
        }
        let note = try PeriodRoutes.queryID(request, "credit_note")
        let dealer = principal.role == .dealer ? principal.partner?.value : nil
        return ObjectionsResponse(objections: try await services.store.objections(creditNote: note, dealer: dealer, status: status).map(PeriodRoutes.body))
    }

    @Sendable func resolve(_ request: Request, _ context: FoDRequestContext) async throws -> ObjectionBody {
        let principal = try context.caller()
        let (body, _) = try await RequestBody.decode(ObjectionDecisionRequest.self, request, context)
        let ruling = try await PeriodRoutes.ruling(context.path("id"), body, services: services)
        if services.fourEyesOnly, let (minor, currency) = ruling.amount, services.adjustments.needsSecondPerson(minor, currency: currency) {
            throw APIError(.forbidden, "four_eyes_required",
                           "an adjustment above \(services.adjustments.fourEyesAbove) \(currency.code) is proposed and approved by two people in the back office (fod serve --four-eyes-only)")
        }
        return PeriodRoutes.body(try await services.store.resolveObjection(ruling.objection.id, ruling.decision, actor: principal.actor, at: services.clock.unixSeconds()))
    }

    /// A decision on an objection, checked: the API's and the back office's one rule.
    struct Ruling {
        let objection: Objection
        let decision: ObjectionDecision
        /// An adjustment's amount (minor units) and currency.
        let amount: (minor: Int64, currency: Currency)?
    }

    /// Checks `body` as the decision on objection `id`: the reason's text, a rejection without an
    /// amount, an adjustment's amount in the credit note's currency and within ``AdjustmentPolicy``.
    /// - Throws: ``APIError`` `reason_invalid`, `decision_invalid`, `not_found`, `amount_invalid`,
    ///   `amount_implausible`, `adjustment_total_exceeded`.
    static func ruling(_ id: String, _ body: ObjectionDecisionRequest, services: FoDServices) async throws -> Ruling {
        try PeriodRoutes.checkReason(body.reason)
        let found: (Objection, CreditNote)?
        if let objection = try await services.store.objection(id), let note = try await services.store.creditNote(objection.creditNote) { found = (objection, note) } else { found = nil }
        switch body.decision {
        case "reject":
            guard body.amount == nil else { throw APIError(.unprocessableContent, "decision_invalid", "a rejection has no amount") }
            guard let (objection, _) = found else { throw APIError(.notFound, "not_found", "no objection \(DisplayText.sanitized(id, maxLength: 64))") }
            return Ruling(objection: objection, decision: .reject(reason: body.reason), amount: nil)
        case "adjust":
            guard let amount = body.amount else { throw APIError(.unprocessableContent, "decision_invalid", "an adjustment needs its amount") }
            guard let (objection, note) = found else { throw APIError(.notFound, "not_found", "no objection \(DisplayText.sanitized(id, maxLength: 64))") }
            let minor = try PeriodRoutes.minor(amount, note.currency)
            try await services.adjustments.check(minor, currency: note.currency, dealer: objection.dealerID, store: services.store)
            return Ruling(objection: objection, decision: .adjust(amount: minor, reason: body.reason), amount: (minor, note.currency))
        default:
            throw APIError(.unprocessableContent, "decision_invalid", "decision is adjust or reject")
        }
    }

    /// `?from=YYYY-MM&to=YYYY-MM` (default: every closed period), `?format=csv` for CSV.
    @Sendable func bookExtract(_ request: Request, _ context: FoDRequestContext) async throws -> Response {
        let principal = try context.caller()
        let dealer = context.path("id")
        if principal.role == .dealer, dealer != principal.partner?.value { throw APIError.forbidden("a dealer key reads only its own partner's book extract") }
        // A partner (or a dealer of before the network: a partner of the same id) that does not exist has no book extract (not an empty one).
        guard let id = try? PartnerID(dealer), try await services.store.partner(id) != nil else {
            throw APIError(.notFound, "dealer_not_found", "no dealer \(DisplayText.sanitized(dealer, maxLength: 64))")
        }
        let query = request.uri.queryParameters
        let from = try query.get("from").map { try PeriodRoutes.period(String($0)).description } ?? "0000-01"
        let to = try query.get("to").map { try PeriodRoutes.period(String($0)).description } ?? "9999-12"
        let extract = try await BookExtract.make(services.store, dealer: dealer, from: from, to: to)
        switch query.get("format").map { String($0) } ?? "json" {
        case "csv":
            var headers = HTTPFields()
            headers[.contentType] = "text/csv; charset=utf-8"
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: BookExtract.csv(extract))))
        case "json": return try extract.response(from: request, context: context)
        default: throw APIError(.badRequest, "query_invalid", "format is json or csv")
        }
    }

    private func closed(_ context: FoDRequestContext) async throws -> ClosedPeriod {
        let period = try PeriodRoutes.period(context.path("period"))
        guard let closed = try await services.store.closedPeriod(period.description) else {
            throw APIError(.notFound, "period_not_closed", "\(period) is not closed")
        }
        return closed
    }

    /// The `{number}` credit note, if the caller may see it (a dealer key: its partner's).
    private func own(_ context: FoDRequestContext) async throws -> CreditNote {
        let principal = try context.caller()
        let number = context.path("number")
        guard let note = try await services.store.creditNote(number), principal.role != .dealer || principal.partner?.value == note.dealerID else {
            throw APIError(.notFound, "credit_note_not_found", "no credit note \(number.prefix(40))")
        }
        return note
    }

    static func period(_ text: String) throws -> ReportPeriod {
        do { return try ReportPeriod(text) } catch let error as RevenueError { throw APIError(.badRequest, "query_invalid", error.reason) }
    }

    static func statementFile(_ closed: ClosedPeriod) throws -> StatementFile {
        do { return try JSONDecoder().decode(StatementFile.self, from: Data(closed.statement.utf8)) } catch {
            throw StoreError(.database, "the stored statement of \(closed.period) is damaged")
        }
    }

    static func response(_ closed: ClosedPeriod) throws -> ClosedPeriodResponse {
        let file = try statementFile(closed)
        return ClosedPeriodResponse(period: closed.period, closedAt: Instant(unixSeconds: closed.closedAt).rfc3339, closedBy: closed.actor,
                                    rulesVersion: closed.rulesVersion, eventsSHA256: closed.eventsSHA256, auditHead: file.auditHead,
                                    statements: file.statements, creditNotes: closed.creditNotes.map(CreditNoteSummary.init))
    }

    static func body(_ o: Objection) -> ObjectionBody {
        ObjectionBody(id: o.id, creditNote: o.creditNote, dealerID: o.dealerID, eventID: o.eventID, reason: o.reason, status: o.status.rawValue,
                      raisedAt: Instant(unixSeconds: o.raisedAt).rfc3339, resolution: o.resolution,
                      resolvedAt: o.resolvedAt.map { Instant(unixSeconds: $0).rfc3339 })
    }

    static func document(_ text: String, type: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = type
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// An id in the query (`dealer`, `credit_note`): `[A-Za-z0-9][A-Za-z0-9._-]{0,63}`, as ids are everywhere.
    /// - Throws: ``APIError`` 400 `query_invalid`.
    static func queryID(_ request: Request, _ name: String) throws -> String? {
        guard let text = request.uri.queryParameters.get(name).map({ String($0) }) else { return nil }
        guard (try? DealerID(text)) != nil else {
            throw APIError(.badRequest, "query_invalid", "\(name) is 1 to 64 characters [A-Za-z0-9._-], beginning with a letter or digit")
        }
        return text
    }

    /// A reason (objection, decision) by the one text rule.
    /// - Throws: ``APIError`` 422 `reason_invalid`.
    static func checkReason(_ reason: String) throws {
        if let problem = DisplayText.violation(in: reason, "reason", maxLength: 2000) { throw APIError(.unprocessableContent, "reason_invalid", problem) }
    }

    /// A signed decimal amount in a currency's minor units (`-12.50` EUR → -1250), at most 15
    /// whole digits; the scaling is overflow-checked (15 digits and 4 places do not fit otherwise).
    /// - Throws: ``APIError`` 422 `amount_invalid`.
    static func minor(_ text: String, _ currency: Currency) throws -> Int64 {
        let invalid = APIError(.unprocessableContent, "amount_invalid",
                               "amount is a decimal with \(currency.exponent) places in \(currency.code), e.g. \(currency.format(minor: -1250))")
        let negative = text.hasPrefix("-")
        let digits = negative ? String(text.dropFirst()) : text
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts.allSatisfy({ $0.utf8.allSatisfy { (0x30...0x39).contains($0) } }),
              parts.count == 1 || parts[1].count == currency.exponent, parts[0].count <= 15,
              let whole = Int64(parts[0]) else { throw invalid }
        var value = whole
        for _ in 0..<currency.exponent {
            let (scaled, overflow) = value.multipliedReportingOverflow(by: 10)
            guard !overflow else { throw invalid }
            value = scaled
        }
        if parts.count == 2, let fraction = Int64(parts[1]) {
            let (sum, overflow) = value.addingReportingOverflow(fraction)
            guard !overflow else { throw invalid }
            value = sum
        }
        return negative ? -value : value
    }
}

/// A signed statement file and its detached JWS (`GET /v1/periods/{period}/statement`).
struct SignedStatementResponse: Codable, Sendable, Hashable, ResponseEncodable {
    var fileName: String
    var statement: String
    var signature: String
    enum CodingKeys: String, CodingKey { case fileName = "file_name", statement, signature }
}

/// The one way a statement file is written (the close's and a dealer's own).
enum StatementDocument {
    static func text(_ file: StatementFile) throws -> String {
        let encoder = JSONEncoder.sorted
        encoder.outputFormatting.insert(.prettyPrinted)
        return String(decoding: try encoder.encode(file), as: UTF8.self) + "\n"
    }
}

/// A dealer's book extract (§87c(2) HGB): every closed line with rule, rate, the token's `jti`
/// and the audit entry behind it.
public enum BookExtract {
    /// Reads the extract of the closed periods from `from` to `to`.
    public static func make(_ store: any EntitlementStore, dealer: String, from: String, to: String) async throws -> BookExtractResponse {
        let lines = try await store.bookExtract(dealer: dealer, from: from, to: to)
        var closed: [String] = []
        if let range = try await store.closedRange() {
            var period = max(from, range.first)
            while period <= min(to, range.last) {
                closed.append(period)
                period = try PeriodCloseService.next(period)
            }
        }
        return BookExtractResponse(dealerID: dealer, from: from, to: to, closedPeriods: closed, lines: lines.map { book in
            let line = book.line
            let currency = (try? Currency(line.currency))
            func money(_ minor: Int64) -> String { currency?.format(minor: minor) ?? String(minor) }
            return BookExtractLine(period: book.period, kind: line.kind.rawValue, eventID: line.eventID, entitlementID: line.entitlementID,
                                   refersTo: line.refersTo, occurredAt: Timestamp.format(line.occurredAt), vin: line.vin, feature: line.feature,
                                   term: line.term, channel: line.channel, currency: line.currency, net: money(line.net), ruleID: line.ruleID,
                                   rateBps: line.rateBps, share: money(line.share), reason: line.reason, auditSeq: book.auditSeq,
                                   siteID: line.dealerID, plan: line.plan, planVersion: line.planVersion,
                                   attribution: book.attribution ?? "")
        })
    }

    /// The extract as CSV (``BookExtractLine/columns``).
    public static func csv(_ extract: BookExtractResponse) -> [UInt8] {
        var out = CSVWriter(capacity: 1 << 16)
        out.row(BookExtractLine.columns)
        for line in extract.lines { out.row(line.fields) }
        return out.take()
    }
}
