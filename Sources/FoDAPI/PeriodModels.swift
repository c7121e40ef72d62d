import FoDCore
import FoDEntitlements
import FoDInvoicing

/// The statement file of a closed period (`statement-YYYY-MM.json`): what the period froze, signed
/// by the issuer with a detached JWS (`statement-YYYY-MM.json.jws`). Amounts are minor units.
public struct StatementFile: Codable, Sendable, Hashable {
    /// `fod-statement/1`.
    public var format: String
    /// The issuer (`iss` of its tokens) whose key signed the file.
    public var issuer: String
    public var period: String
    public var closedAt: String
    public var rulesVersion: String
    /// SHA-256 of the events export the statements were computed from.
    public var eventsSHA256: String
    /// The last event committed when the close read the events (`event.recorded`).
    public var eventMark: Int64
    /// The audit log's head when the close read the events: every activation and refund behind
    /// a line is an entry at or before it.
    public var auditHead: AuditHead
    public var statements: [ClosedStatement]

    public struct AuditHead: Codable, Sendable, Hashable {
        public var seq: Int64
        public var sha256: String
        public init(seq: Int64, sha256: String) {
            self.seq = seq
            self.sha256 = sha256
        }
    }

    public init(issuer: String, period: String, closedAt: String, rulesVersion: String, eventsSHA256: String, eventMark: Int64,
                auditHead: AuditHead, statements: [ClosedStatement]) {
        self.format = "fod-statement/1"
        self.issuer = issuer
        self.period = period
        self.closedAt = closedAt
        self.rulesVersion = rulesVersion
        self.eventsSHA256 = eventsSHA256
        self.eventMark = eventMark
        self.auditHead = auditHead
        self.statements = statements
    }

    enum CodingKeys: String, CodingKey {
        case format, issuer, period, closedAt = "closed_at", rulesVersion = "rules_version", eventsSHA256 = "events_sha256"
        case eventMark = "event_mark", auditHead = "audit_head", statements
    }
}

/// One dealer's closed statement in one currency, in minor units.
public struct ClosedStatement: Codable, Sendable, Hashable {
    public var dealerID: String
    public var currency: String
    public var activations: Int64
    public var clawbacks: Int64
    public var adjustments: Int64
    public var gross: Int64
    public var net: Int64
    public var share: Int64
    public var clawback: Int64
    public var adjustment: Int64
    /// `share - clawback + adjustment`: what the credit note pays (negative: the correction document).
    public var payable: Int64
    public var tierBonusBps: Int64
    /// The partner paid for the statement (its site's partner, or that one's main partner);
    /// absent in statements closed before the network (their dealer was the partner).
    public var partnerID: String?

    public init(dealerID: String, currency: String, activations: Int64, clawbacks: Int64, adjustments: Int64, gross: Int64, net: Int64,
                share: Int64, clawback: Int64, adjustment: Int64, payable: Int64, tierBonusBps: Int64) {
        self.dealerID = dealerID
        self.currency = currency
        self.activations = activations
        self.clawbacks = clawbacks
        self.adjustments = adjustments
        self.gross = gross
        self.net = net
        self.share = share
        self.clawback = clawback
        self.adjustment = adjustment
        self.payable = payable
        self.tierBonusBps = tierBonusBps
    }

    enum CodingKeys: String, CodingKey {
        case dealerID = "dealer_id", currency, activations, clawbacks, adjustments, gross, net, share, clawback, adjustment, payable
        case tierBonusBps = "tier_bonus_bps", partnerID = "partner_id"
    }
}

/// A credit note in a listing.
public struct CreditNoteSummary: Codable, Sendable, Hashable {
    public var number: String
    /// `credit_note` (type 389) or `correction` (type 261).
    public var kind: String
    public var typeCode: String
    public var period: String
    public var dealerID: String
    public var currency: String
    public var issueDate: String
    public var net: String
    public var tax: String
    public var total: String

    public init(_ note: CreditNote) {
        number = note.number
        kind = note.kind.rawValue
        typeCode = note.kind.typeCode
        period = note.period
        dealerID = note.dealerID
        currency = note.currency.code
        issueDate = note.issueDate
        net = note.currency.format(minor: note.net)
        tax = note.currency.format(minor: note.tax)
        total = note.currency.format(minor: note.total)
    }

    enum CodingKeys: String, CodingKey {
        case number, kind, typeCode = "type_code", period, dealerID = "dealer_id", currency, issueDate = "issue_date", net, tax, total
    }
}

/// `POST /v1/periods/{period}/close` and `GET /v1/periods/{period}`.
public struct ClosedPeriodResponse: Codable, Sendable, Hashable {
    public var period: String
    public var closedAt: String
    public var closedBy: String
    public var rulesVersion: String
    public var eventsSHA256: String
    public var auditHead: StatementFile.AuditHead
    public var statements: [ClosedStatement]
    public var creditNotes: [CreditNoteSummary]

    public init(period: String, closedAt: String, closedBy: String, rulesVersion: String, eventsSHA256: String, auditHead: StatementFile.AuditHead,
                statements: [ClosedStatement], creditNotes: [CreditNoteSummary]) {
        self.period = period
        self.closedAt = closedAt
        self.closedBy = closedBy
        self.rulesVersion = rulesVersion
        self.eventsSHA256 = eventsSHA256
        self.auditHead = auditHead
        self.statements = statements
        self.creditNotes = creditNotes
    }

    enum CodingKeys: String, CodingKey {
        case period, closedAt = "closed_at", closedBy = "closed_by", rulesVersion = "rules_version", eventsSHA256 = "events_sha256"
        case auditHead = "audit_head", statements, creditNotes = "credit_notes"
    }
}

/// `GET /v1/credit-notes`.
public struct CreditNotesResponse: Codable, Sendable, Hashable {
    public var creditNotes: [CreditNoteSummary]
    public init(creditNotes: [CreditNoteSummary]) { self.creditNotes = creditNotes }
    enum CodingKeys: String, CodingKey { case creditNotes = "credit_notes" }
}

/// One line of a dealer's book extract (§87c(2) HGB).
public struct BookExtractLine: Codable, Sendable, Hashable {
    public var period: String
    /// `activation`, `clawback` or `adjustment`.
    public var kind: String
    public var eventID: String
    /// The entitlement (the token's `jti`) the line concerns; empty for an objection's adjustment.
    public var entitlementID: String
    public var refersTo: String
    public var occurredAt: String
    public var vin: String
    public var feature: String
    public var term: String
    public var channel: String
    public var currency: String
    public var net: String
    public var ruleID: String
    public var rateBps: Int64
    public var share: String
    public var reason: String
    /// The audit entry that recorded the activation or refund (`null` for an objection's adjustment).
    @Nullable public var auditSeq: Int64?
    /// The site the line's sale was made at or credited to (a partner's own id for its adjustments).
    public var siteID: String
    /// The commission plan and version that priced the line (empty for an objection's adjustment
    /// and lines closed before plans had versions).
    public var plan: String
    public var planVersion: String
    /// Why the sale was credited to its site (`counter`, `preferred`, `quoted`, `servicing`; empty
    /// for an adjustment and for sales recorded before attribution was).
    public var attribution: String

    public init(period: String, kind: String, eventID: String, entitlementID: String, refersTo: String, occurredAt: String, vin: String,
                feature: String, term: String, channel: String, currency: String, net: String, ruleID: String, rateBps: Int64, share: String,
                reason: String, auditSeq: Int64?, siteID: String, plan: String = "", planVersion: String = "", attribution: String = "") {
        self.attribution = attribution
        self.siteID = siteID
        self.plan = plan
        self.planVersion = planVersion
        self.period = period
        self.kind = kind
        self.eventID = eventID
        self.entitlementID = entitlementID
        self.refersTo = refersTo
        self.occurredAt = occurredAt
        self.vin = vin
        self.feature = feature
        self.term = term
        self.channel = channel
        self.currency = currency
        self.net = net
        self.ruleID = ruleID
        self.rateBps = rateBps
        self.share = share
        self.reason = reason
        self.auditSeq = auditSeq
    }

    /// The CSV columns, in order (the members' names).
    public static let columns = ["period", "kind", "event_id", "entitlement_id", "refers_to", "occurred_at", "vin", "feature", "term", "channel",
                                 "currency", "net", "rule_id", "rate_bps", "share", "reason", "audit_seq", "site_id", "plan", "plan_version", "attribution"]

    /// The line's CSV fields, in ``columns`` order.
    public var fields: [String] {
        [period, kind, eventID, entitlementID, refersTo, occurredAt, vin, feature, term, channel, currency, net, ruleID, String(rateBps), share,
         reason, auditSeq.map(String.init) ?? "", siteID, plan, planVersion, attribution]
    }

    enum CodingKeys: String, CodingKey {
        case period, kind, eventID = "event_id", entitlementID = "entitlement_id", refersTo = "refers_to", occurredAt = "occurred_at"
        case vin, feature, term, channel, currency, net, ruleID = "rule_id", rateBps = "rate_bps", share, reason, auditSeq = "audit_seq"
        case siteID = "site_id", plan, planVersion = "plan_version", attribution
    }
}

/// `GET /v1/dealers/{id}/book-extract`.
public struct BookExtractResponse: Codable, Sendable, Hashable {
    public var dealerID: String
    public var from: String
    public var to: String
    /// The periods of the range that are closed (only their lines are final and listed).
    public var closedPeriods: [String]
    public var lines: [BookExtractLine]

    public init(dealerID: String, from: String, to: String, closedPeriods: [String], lines: [BookExtractLine]) {
        self.dealerID = dealerID
        self.from = from
        self.to = to
        self.closedPeriods = closedPeriods
        self.lines = lines
    }

    enum CodingKeys: String, CodingKey { case dealerID = "dealer_id", from, to, closedPeriods = "closed_periods", lines }
}

/// `POST /v1/credit-notes/{number}/objections`.
public struct ObjectionRequest: StrictDecodable, CodingKeyed, Encodable, Sendable, Hashable {
    /// Why the dealer objects (1 to 2000 characters).
    public var reason: String
    /// The line objected to (its `event_id` in the book extract); absent: the whole document.
    public var eventID: String?

    public init(reason: String, eventID: String? = nil) {
        self.reason = reason
        self.eventID = eventID
    }

    public enum Keys: String, CodingKey, CaseIterable { case reason, eventID = "event_id" }
    public typealias CodingKeys = Keys
}

/// `POST /v1/objections/{id}/resolve`: `adjust` with a signed amount (a decimal string in the
/// credit note's currency), or `reject`; a reason either way.
public struct ObjectionDecisionRequest: StrictDecodable, CodingKeyed, Encodable, Sendable, Hashable {
    public var decision: String
    public var amount: String?
    public var reason: String

    public init(decision: String, amount: String? = nil, reason: String) {
        self.decision = decision
        self.amount = amount
        self.reason = reason
    }

    public enum Keys: String, CodingKey, CaseIterable { case decision, amount, reason }
    public typealias CodingKeys = Keys
}

/// An objection as the API shows it.
public struct ObjectionBody: Codable, Sendable, Hashable {
    public var id: String
    public var creditNote: String
    public var dealerID: String
    @Nullable public var eventID: String?
    public var reason: String
    /// `open`, `adjusted` or `rejected`.
    public var status: String
    public var raisedAt: String
    @Nullable public var resolution: String?
    @Nullable public var resolvedAt: String?

    public init(id: String, creditNote: String, dealerID: String, eventID: String?, reason: String, status: String, raisedAt: String,
                resolution: String?, resolvedAt: String?) {
        self.id = id
        self.creditNote = creditNote
        self.dealerID = dealerID
        self.eventID = eventID
        self.reason = reason
        self.status = status
        self.raisedAt = raisedAt
        self.resolution = resolution
        self.resolvedAt = resolvedAt
    }

    enum CodingKeys: String, CodingKey {
        case id, creditNote = "credit_note", dealerID = "dealer_id", eventID = "event_id", reason, status, raisedAt = "raised_at"
        case resolution, resolvedAt = "resolved_at"
    }
}

/// `GET /v1/objections`.
public struct ObjectionsResponse: Codable, Sendable, Hashable {
    public var objections: [ObjectionBody]
    public init(objections: [ObjectionBody]) { self.objections = objections }
}
