import FoDAPI
import FoDCore
import FoDEntitlements
import FoDInvoicing
import FoDQRCode
import FoDRevenue
import FoDStore
import Foundation
import HTTPTypes

/// What the dealer page's templates show, worded and formatted for the person at the counter.
enum DealerViews {
    /// The vehicle page: the vehicle, what is active until when, what can be booked at which gross
    /// price per term, and for the rest the reason.
    static func vehicle(_ vehicle: Vehicle, entitlements: [StoredEntitlement], services: FoDServices) -> [String: Any] {
        let now = services.clock.unixSeconds()
        let stored = entitlements.filter { $0.isActive(at: now) }
        let offers = services.offers(for: vehicle, entitlements: entitlements, now: now)
        // The newest live period of each fixed-term feature can be extended (a fixed term from its
        // end) or upgraded to permanent: a sale like any other.
        let newest = Dictionary(grouping: entitlements.filter { $0.revokedAt == nil && ($0.claims.expiresAt.map { $0 > now } ?? true) }) { $0.claims.feature }
            .compactMapValues { $0.max { ($0.claims.expiresAt ?? .max) < ($1.claims.expiresAt ?? .max) } }
        let activeItems: [[String: Any]] = stored.map { entitlement in
            let claims = entitlement.claims
            var item: [String: Any] = ["name": services.catalog.feature(claims.feature)?.name ?? claims.feature.value,
                                       "termName": termName(claims.term), "validity": validity(claims)]
            // Extended from the newest period's end (an extension already booked is continued).
            if let last = newest[claims.feature], let end = last.claims.expiresAt, last.claims.term != .trial, last.claims.term != .subscription,
               let feature = services.catalog.feature(claims.feature) {
                let extensions: [[String: Any]] = feature.prices.filter { $0.market == vehicle.market && $0.term != .trial && $0.term != .subscription }.map { price in
                    ["vin": vehicle.vin.value, "feature": claims.feature.value, "term": price.term.rawValue,
                     "label": price.term == .permanent ? "Upgrade to life of the vehicle" : "Extend by \(termName(price.term)) from \(date(end))",
                     "gross": price.currency.formatGrouped(minor: price.gross.minor), "currency": price.currency.code]
                }
                if !extensions.isEmpty { item["extensions"] = extensions; item["hasExtensions"] = true }
            }
            return item
        }
        let bookable: [[String: Any]] = offers.filter { $0.refusal == nil }.map { offer in
            ["name": offer.feature.name, "code": offer.feature.code.value, "prices": offer.prices.map { price -> [String: Any] in
                ["vin": vehicle.vin.value, "feature": offer.feature.code.value, "term": price.term.rawValue, "termName": termName(price.term),
                 "gross": price.currency.formatGrouped(minor: price.gross.minor), "currency": price.currency.code]
            }]
        }
        let refused: [[String: Any]] = offers.compactMap { offer in
            guard let refusal = offer.refusal, refusal.rule != .alreadyActive else { return nil }
            return ["name": offer.feature.name, "reason": refusal.message]
        }
        var values: [String: Any] = [
            "vehicle": ["vin": vehicle.vin.value, "model": vehicle.model, "modelYear": vehicle.modelYear, "market": vehicle.market.code],
            "vinInput": vehicle.vin.value,
        ]
        if !activeItems.isEmpty { values["active"] = ["items": activeItems] }
        if !bookable.isEmpty { values["bookable"] = ["items": bookable] }
        if !refused.isEmpty { values["refused"] = ["items": refused] }
        return values
    }

    /// The result page: the entitlement, its validity, and a QR code of its token.
    static func result(_ stored: StoredEntitlement, services: FoDServices) throws -> [String: Any] {
        let claims = stored.claims
        let name = services.catalog.feature(claims.feature)?.name ?? claims.feature.value
        var values: [String: Any] = ["id": claims.id.value, "vin": claims.vin.value, "name": name, "termName": termName(claims.term),
                                     "validity": validity(claims), "dealerID": claims.dealer?.value ?? ""]
        // The token and its QR code only while it can switch the feature on (or will, once it starts).
        let state = stored.state(at: services.clock.unixSeconds())
        switch state {
        case .active, .scheduled:
            // Level L: a screen is not a damaged label, and the lower density scans more easily.
            let qr = try QRCode(text: stored.token, errorCorrection: .low)
            values["live"] = true
            values["token"] = stored.token
            values["qrSVG"] = qr.svg(label: "QR code of the signed entitlement \(claims.id.value)")
            values["status"] = state == .active ? "\(name) is active" : "\(name) starts \(date(claims.notBefore))"
        case .expired(let at):
            values["status"] = "\(name) ended on \(date(at))"
        case .refunded(let at):
            values["status"] = "\(name) was refunded on \(date(at)) and is switched off"
        case .withdrawn(let at):
            values["status"] = "\(name) was withdrawn by the customer on \(date(at)), refunded, and is switched off"
        case .revoked(let at, let reason):
            values["status"] = "\(name) was revoked on \(date(at)) (\(reason)) and is switched off"
        }
        return values
    }

    /// The start page's list of what ends soon and does not go on.
    static func ending(_ entitlements: [StoredEntitlement], catalog: Catalog) -> [[String: Any]] {
        entitlements.map { stored in
            ["vin": stored.claims.vin.value, "name": catalog.feature(stored.claims.feature)?.name ?? stored.claims.feature.value,
             "termName": termName(stored.claims.term), "ends": stored.claims.expiresAt.map(date) ?? ""]
        }
    }

    /// The result page's withdrawal part: a button while the period runs, else why there is none.
    static func withdrawal(_ standing: IssuingService.WithdrawalStanding) -> [String: Any] {
        switch standing {
        case .open(let until):
            return ["withdrawable": ["until": date(until - 1)]]
        case .lapsed:
            return ["withdrawalNote": "No withdrawal: the customer asked for the feature to start at once and acknowledged losing the right."]
        case .over(let at):
            return ["withdrawalNote": "The withdrawal period ended with \(date(at - 1))."]
        case .renewal:
            return ["withdrawalNote": "A renewal of a subscription: no withdrawal; the subscription can be cancelled to the end of the period."]
        case .refunded, .notSold:
            return [:]
        }
    }

    /// The month's lines and statements of one dealer.
    /// - Parameters:
    ///   - lines: the dealer's lines of the report (read once by the caller, ``dealerLines(_:dealer:)``).
    ///   - reasons: why each sale is credited here, by its activation event id.
    static func month(_ report: Report, lines dealerLines: [ReportLine], dealer: String, catalog: Catalog, reasons: [String: String] = [:]) throws -> [String: Any] {
        let statements: [[String: Any]] = report.statements.filter { $0.dealerID == dealer }.map { s in
            ["currency": s.currency.code, "activations": s.activations, "clawbacks": s.clawbacks,
             "payable": s.currency.formatGrouped(minor: s.payable), "share": s.currency.formatGrouped(minor: s.share),
             "clawback": s.currency.formatGrouped(minor: s.clawback)]
        }
        let lines: [[String: Any]] = dealerLines.reversed().map { line in
            let feature = (try? FeatureCode(line.feature)).flatMap { catalog.feature($0)?.name } ?? line.feature
            var values: [String: Any] = ["date": date(line.occurredAt / 1_000_000_000), "vin": line.vin, "feature": feature,
                                         "term": (try? Term(validating: line.term)).map(termName) ?? line.term, "clawback": line.kind == .clawback,
                                         "gross": line.currency.formatGrouped(minor: line.gross), "share": line.currency.formatGrouped(minor: line.share),
                                         "currency": line.currency.code]
            // Absent, not empty: a section of an empty string would still render.
            if let reason = reasons[saleEventID(line)] { values["reason"] = reason }
            return values
        }
        let monthNames = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        var values: [String: Any] = ["monthName": "\(monthNames[report.period.month - 1]) \(report.period.year)", "hasLines": !lines.isEmpty, "lines": lines]
        if !statements.isEmpty { values["statements"] = statements }
        return values
    }

    /// The report's lines of one dealer, in the report's order.
    static func dealerLines(_ report: Report, dealer: String) throws -> [ReportLine] {
        try report.lines.collect().filter { $0.dealerID == dealer }
    }

    /// The activation event whose sale a line concerns (a clawback's: the activation it takes back).
    static func saleEventID(_ line: ReportLine) -> String { line.refersTo.isEmpty ? line.eventID : line.refersTo }

    /// "from 23 Nov 2026 until 23 Nov 2027", "from 23 Nov 2026, no end".
    static func validity(_ claims: EntitlementClaims) -> String {
        "from \(date(claims.notBefore)) " + (claims.expiresAt.map { "until \(date($0))" } ?? "with no end date")
    }

    static func termName(_ term: Term) -> String {
        switch term {
        case .trial: "Free trial (\(Term.trialDays) days)"
        case .oneMonth: "1 month"
        case .sixMonths: "6 months"
        case .oneYear: "1 year"
        case .threeYears: "3 years"
        case .subscription: "Monthly subscription"
        case .permanent: "For the life of the vehicle"
        }
    }

    /// A UTC date such as "23 Nov 2026".
    static func date(_ unixSeconds: Int64) -> String { Instant(unixSeconds: unixSeconds).displayDate }

    /// 1900 basis points → "19".
    /// A heading and a sentence for an error, never a status code or a stack trace.
    static func explain(_ error: APIError) -> (String, String) {
        // A refused booking says why in the refusal's own sentence.
        let detail = error.refusal?.message ?? error.detail
        switch error.status.code {
        case 404: return ("Not found.", detail)
        case 409: return ("Already booked.", detail)
        case 403: return ("Not allowed.", detail)
        case 413, 415, 400, 422: return ("That did not work.", detail)
        case 503: return ("The system is busy.", "Please try again in a moment. Nothing was booked.")
        default: return ("Something went wrong.", "Please try again. If it happens again, call the manufacturer's dealer support.")
        }
    }

    /// A credit note in the home page's list.
    static func creditNoteItem(_ note: CreditNote) -> [String: Any] {
        ["number": note.number, "period": note.period, "kindName": note.kind == .creditNote ? "credit note" : "correction (you owe)",
         "total": note.currency.formatGrouped(minor: note.total), "currency": note.currency.code]
    }

    /// A credit note's page.
    static func creditNote(_ note: CreditNote) -> [String: Any] {
        ["number": note.number, "period": note.period, "issueDate": note.issueDate, "currency": note.currency.code,
         "net": note.currency.formatGrouped(minor: note.net), "tax": note.currency.formatGrouped(minor: note.tax),
         "total": note.currency.formatGrouped(minor: note.total),
         "totalLabel": note.kind == .creditNote ? "Paid to you" : "You pay back"]
    }

    /// A quote's page: its items at the locked prices, its state and, once accepted, what it booked and why each is credited where.
    static func quote(_ quote: StoredQuote, flow: QuoteFlow, services: FoDServices) async throws -> [String: Any] {
        let answer = try await flow.answer(quote)
        let currency = quote.items[0].gross.currency
        let status = quote.status(at: services.clock.unixSeconds())
        let names = Dictionary(answer.items.map { ($0.feature, $0.name) }, uniquingKeysWith: { first, _ in first })
        let channels = ["app": "app", "web": "web shop", "vehicle": "car", "dealer": "dealership"]
        var values: [String: Any] = [
            "id": quote.id, "code": QuoteCode.display(quote.code), "vin": quote.vin.value, "created": date(quote.createdAt), "expires": date(quote.expiresAt),
            "closed": quote.closedAt.map { date($0) } ?? "", "channelName": channels[quote.channel] ?? quote.channel,
            "isOpen": status == .open, "isAccepted": status == .accepted, "isExpired": status == .expired, "isCancelled": status == .cancelled,
            "items": quote.items.map { item in
                ["name": names[item.feature] ?? item.feature.value, "termName": termName(item.term), "extend": item.extend,
                 "gross": currency.formatGrouped(minor: item.gross.minor), "currency": currency.code] as [String: Any]
            },
            "total": currency.formatGrouped(minor: answer.totalMinor), "currency": currency.code, "rule": services.quotes.attribution.order.map(\.explanation).joined(separator: ", else "),
            "withdrawalDays": services.withdrawal.days(for: quote.market),
            "hasBookings": !answer.bookings.isEmpty,
            "bookings": answer.bookings.map { booking in
                ["id": booking.id.value, "name": names[booking.feature] ?? booking.feature.value, "dealer": booking.dealer?.value ?? "",
                 "reason": booking.attribution?.rawValue ?? "", "reasonText": booking.attribution?.explanation ?? ""] as [String: Any]
            },
        ]
        // Absent, not empty: a section of an empty string would still render.
        if let site = quote.dealer { values["madeAt"] = site.value }
        if let site = quote.preferredDealer { values["preferred"] = site.value }
        return values
    }
}
