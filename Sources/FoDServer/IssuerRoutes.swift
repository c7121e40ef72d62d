import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDRevenue
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The OEM backend's routes (issuer role) and the auditor's (reports, exports, audit log).
struct IssuerRoutes {
    let services: FoDServices

    func register(on router: Router<FoDRequestContext>) {
        router.post("/v1/vehicles") { request, context in
            let principal = try context.require(.issuer)
            let (body, _) = try await JSONBody.object(request, context, allowed: ["vin", "model", "model_year", "market", "equipment", "dealer_id"],
                                                      required: ["vin", "model", "model_year", "market"], loose: ["model_year", "equipment"])
            guard let year = body["model_year"]?.int64, let modelYear = Int(exactly: year) else {
                throw APIError(.unprocessableContent, "field_type", "\"model_year\" must be an integer year")
            }
            var equipment: [String] = []
            if let value = body["equipment"] {
                guard case .array(let items) = value, items.allSatisfy({ $0.string != nil }) else {
                    throw APIError(.unprocessableContent, "field_type", "\"equipment\" must be an array of strings")
                }
                equipment = items.compactMap(\.string)
            }
            // Model, year, market and equipment are checked by Vehicle.validate() where the vehicle is stored.
            let vehicle = Vehicle(vin: try VIN(body["vin"]?.string ?? ""), model: body["model"]?.string ?? "", modelYear: modelYear,
                                  market: body["market"]?.string ?? "",
                                  equipment: Set(equipment), servicingDealer: try body["dealer_id"]?.string.map { try DealerID($0) })
            try services.database.register(vehicle, actor: principal.actor, at: services.clock.unixSeconds())
            return JSONBody.response(Routes.vehicle(vehicle), status: .created, headers: [.location: "/v1/vehicles/\(vehicle.vin.value)"])
        }
        router.post("/v1/entitlements") { request, context in
            let principal = try context.require(.issuer)
            let (body, _) = try await JSONBody.object(request, context, allowed: ["vin", "feature", "term", "dealer", "startsAt"], required: ["vin", "feature", "term"])
            let start = try body["startsAt"]?.string.map { text -> Int64 in
                guard let ns = Timestamp.parse(text) else { throw APIError(.unprocessableContent, "field_invalid", "\"startsAt\" is not RFC 3339") }
                return Timestamp.seconds(ns)
            }
            let vehicle = try services.registeredVehicle(try VIN(body["vin"]?.string ?? ""))
            let feature = try FeatureCode(body["feature"]?.string ?? ""), term = try Term(validating: body["term"]?.string ?? "")
            _ = try services.offered(feature, term, for: vehicle)
            let dealer = try body["dealer"]?.string.map { try DealerID($0) }
            if let dealer, try services.database.dealer(dealer) == nil {
                throw APIError(.unprocessableContent, "dealer_unknown", "dealer \(dealer) is not known")
            }
            let issued = try services.issuer.issue(EntitlementRequest(vin: vehicle.vin, feature: feature, term: term, dealer: dealer, notBefore: start))
            try services.database.recordIssued(issued, actor: principal.actor, at: services.clock.unixSeconds())
            return JSONBody.response(JSONBody.object([("id", .string(issued.claims.id.value)), ("claims", issued.claims.jsonValue),
                                                      ("token", .string(issued.token))]), status: .created,
                                     headers: [.location: Routes.entitlementPath(issued.claims.id)])
        }
        router.post("/v1/entitlements/{id}/revoke") { request, context in
            let principal = try context.require(.issuer)
            let (body, _) = try await JSONBody.object(request, context, allowed: ["reason"], required: ["reason"])
            let id = try EntitlementID(context.path("id"))
            guard let reason = body["reason"]?.string, !reason.isEmpty else {
                throw APIError(.unprocessableContent, "field_missing", "a revocation needs a reason")
            }
            try services.database.revoke(entitlement: id, reason: String(reason.prefix(500)), actor: principal.actor, at: services.clock.unixSeconds())
            services.revocations.insert(id)
            services.metrics.revoked()
            return JSONBody.response(JSONBody.object([("id", .string(id.value)), ("revoked", .bool(true))]))
        }
        router.post("/v1/activations/{id}/refund") { _, context in
            let principal = try context.require(.issuer)
            let id = try EntitlementID(context.path("id"))
            try services.database.refund(activation: id, actor: principal.actor, at: services.clock.unixSeconds())
            services.revocations.insert(id)
            services.metrics.refunded()
            return JSONBody.response(JSONBody.object([("id", .string(id.value)), ("refunded", .bool(true))]))
        }
        router.get("/v1/vehicles/{vin}/manifest") { _, context in
            _ = try context.require(.issuer)
            let vin = try services.registeredVehicle(try Routes.pathVIN(context)).vin
            let now = services.clock.unixSeconds()
            let live = try services.database.entitlements(of: vin).filter { $0.revokedAt == nil && ($0.claims.expiresAt.map { $0 > now } ?? true) }
            // An entitlement stored before its claims were validated (a start before 1970) would make
            // every manifest of the vehicle unverifiable; it is left out and reported instead.
            let valid = live.filter { stored in
                do { try stored.claims.validate(); return true } catch {
                    context.logger.warning("entitlement left out of the manifest: its claims do not validate",
                                           metadata: ["entitlement": .string(stored.claims.id.value), "reason": .string("\(error)")])
                    return false
                }
            }
            let entries = valid.map { ManifestClaims.Entry($0.claims) }.sorted { $0.id < $1.id }
            let version = try services.database.manifestVersion(vin: vin, entries: entries, at: now)
            let manifest = ManifestClaims(issuer: services.issuer.issuer, vin: vin, issuedAt: now, version: version,
                                          expiresAt: now + 7 * 86_400, entitlements: entries)
            let token = try services.issuer.sign(manifest)
            return JSONBody.response(JSONBody.object([("version", JSONBody.int(version)), ("manifest", .string(token))]))
        }
        router.get("/v1/exports/events") { request, context in
            _ = try context.require(.auditor)
            let from = try IssuerRoutes.instant(request.uri.queryParameters.get("from"), "from")
            let to = try IssuerRoutes.instant(request.uri.queryParameters.get("to"), "to")
            let bytes = try await Offload.run {
                var bytes: [UInt8] = []
                try services.database.exportEvents(from: from, to: to, dealer: nil) { bytes += $0 }
                return bytes
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/csv; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        router.get("/v1/reports/statements") { request, context in
            let report = try await scopedReport(request, context, reading: "statements")
            let list = report.statements.map(IssuerRoutes.statement)
            return JSONBody.response(JSONBody.object([("period", .string(report.period.description)), ("rules_version", .string(report.rulesVersion)),
                                                      ("statements", .array(list))]))
        }
        router.get("/v1/activations") { request, context in
            let report = try await scopedReport(request, context, reading: "activations")
            let lines: [JSONValue] = report.lines.map { line in
                JSONBody.object([("kind", .string(line.kind.rawValue)), ("event_id", .string(line.eventID)),
                                 ("refers_to", line.refersTo.isEmpty ? .null : .string(line.refersTo)),
                                 ("occurred_at", .string(Timestamp.format(line.occurredAt))), ("dealer_id", .string(line.dealerID)),
                                 ("vin", .string(line.vin)), ("feature", .string(line.feature)), ("term", .string(line.term)),
                                 ("currency", .string(line.currency.code)), ("gross", .string(line.currency.format(minor: line.gross))),
                                 ("share", .string(line.currency.format(minor: line.share)))])
            }
            let statements = report.statements.map(IssuerRoutes.statement)
            return JSONBody.response(JSONBody.object([("period", .string(report.period.description)), ("lines", .array(lines)),
                                                      ("statements", .array(statements))]))
        }
        router.get("/v1/audit") { request, context in
            _ = try context.require(.auditor)
            let text = request.uri.queryParameters.get("after").map { String($0) } ?? "0"
            guard let after = Int64(text), after >= 0 else {
                throw APIError(.badRequest, "query_invalid", "after must be a sequence number (0 or more), not \"\(text.prefix(20))\"")
            }
            let page = try services.database.auditEntries(after: after, limit: 500)
            let entries = page.map { e in
                JSONBody.object([("seq", JSONBody.int(e.seq)), ("at", JSONBody.int(e.at)), ("actor", .string(e.actor)), ("action", .string(e.action)),
                                 ("subject", .string(e.subject)), ("details", .string(e.details)), ("sha256", .string(e.hash))])
            }
            // A full page has a cursor to the next one; the last page has none.
            let next: JSONValue = page.count == 500 ? page.last.map { JSONBody.int($0.seq) } ?? .null : .null
            return JSONBody.response(JSONBody.object([("entries", .array(entries)), ("next_after", next)]))
        }
    }

    /// The `?period=` month's report for an auditor (all dealers, or `?dealer=`) or a dealer key
    /// (its own dealer only; another dealer's id is 403).
    private func scopedReport(_ request: Request, _ context: FoDRequestContext, reading what: String) async throws -> Report {
        let principal = try context.require(.auditor, .dealer)
        guard let period = request.uri.queryParameters.get("period") else {
            throw APIError(.badRequest, "period_required", "give ?period=YYYY-MM")
        }
        // Query parameters that do not parse are 400 query_invalid, as for every query.
        do { _ = try ReportPeriod(String(period)) } catch let error as RevenueError {
            throw APIError(.badRequest, "query_invalid", error.reason)
        }
        let asked = request.uri.queryParameters.get("dealer").map { String($0) }
        if principal.role == .dealer, let asked, asked != principal.dealer?.value {
            throw APIError.forbidden("a dealer key reads only its own \(what)")
        }
        let dealer: DealerID?
        do { dealer = principal.role == .dealer ? principal.dealer : try asked.map { try DealerID($0) } } catch let error as EntitlementError {
            throw APIError(.badRequest, "query_invalid", "dealer: \(error.reason)")
        }
        return try await StatementsReport.offloaded(services: services, period: String(period), dealer: dealer)
    }

    static func statement(_ s: Statement) -> JSONValue {
        JSONBody.object([("dealer_id", .string(s.dealerID)), ("currency", .string(s.currency.code)), ("activations", JSONBody.int(s.activations)),
                         ("clawbacks", JSONBody.int(s.clawbacks)), ("gross", .string(s.currency.format(minor: s.gross))),
                         ("net", .string(s.currency.format(minor: s.net))), ("share", .string(s.currency.format(minor: s.share))),
                         ("clawback", .string(s.currency.format(minor: s.clawback))), ("payable", .string(s.currency.format(minor: s.payable))),
                         ("tier_bonus_bps", JSONBody.int(s.tierBonusBps))])
    }

    static func instant(_ text: String?, _ name: String) throws -> Int64? {
        guard let text else { return nil }
        guard let ns = Timestamp.parse(text) else { throw APIError(.badRequest, "query_invalid", "\(name) must be an RFC 3339 timestamp") }
        return Timestamp.seconds(ns)
    }
}

/// `GET /v1/reports/statements`: the same engine as `fod report`, fed with the events export.
enum StatementsReport {
    /// The month's report over every dealer's events, or over one dealer's: a dealer's statement
    /// and lines depend only on its own activations and their refunds (rules, tiers and clawbacks
    /// are per dealer), so reading only those gives the same figures for that dealer.
    static func offloaded(services: FoDServices, period: String, dealer: DealerID?) async throws -> Report {
        try await Offload.run { try run(services: services, period: period, dealer: dealer) }
    }

    static func run(services: FoDServices, period: String, dealer: DealerID? = nil) throws -> Report {
        let reportPeriod = try ReportPeriod(period)
        var csv: [UInt8] = []
        try services.database.exportEvents(from: reportPeriod.previousStart / 1_000_000_000, to: reportPeriod.end / 1_000_000_000,
                                           dealer: dealer) { csv += $0 }
        let builder = ReportBuilder(rules: services.rules, period: reportPeriod) { _ in }
        var source = MemoryByteSource(csv)
        try CSVEventReader.read(&source, into: builder)
        return try builder.finish()
    }
}
