import FoDCore
import FoDRevenue

/// A dealer's statement of a month; amounts are decimal strings with the currency's places.
public struct StatementBody: Codable, Sendable, Hashable {
    public var dealerID: String
    public var currency: Currency
    public var activations: Int64
    public var clawbacks: Int64
    public var gross: String
    public var net: String
    public var share: String
    public var clawback: String
    public var payable: String
    public var tierBonusBps: Int64

    enum CodingKeys: String, CodingKey {
        case dealerID = "dealer_id"
        case currency, activations, clawbacks, gross, net, share, clawback, payable
        case tierBonusBps = "tier_bonus_bps"
    }

    public init(_ s: Statement) {
        dealerID = s.dealerID
        currency = s.currency
        activations = s.activations
        clawbacks = s.clawbacks
        gross = s.currency.format(minor: s.gross)
        net = s.currency.format(minor: s.net)
        share = s.currency.format(minor: s.share)
        clawback = s.currency.format(minor: s.clawback)
        payable = s.currency.format(minor: s.payable)
        tierBonusBps = s.tierBonusBps
    }
}

/// `GET /v1/reports/statements`.
public struct StatementsResponse: Codable, Sendable, Hashable {
    public var period: String
    public var rulesVersion: String
    public var statements: [StatementBody]

    enum CodingKeys: String, CodingKey {
        case period
        case rulesVersion = "rules_version"
        case statements
    }

    public init(_ report: Report) {
        period = report.period.description
        rulesVersion = report.rulesVersion
        statements = report.statements.map(StatementBody.init)
    }
}

/// One line of a month: an activation or a clawback, with its commission.
public struct LineBody: Codable, Sendable, Hashable {
    /// `activation` or `clawback`.
    public var kind: String
    public var eventID: String
    @Nullable public var refersTo: String?
    public var occurredAt: String
    public var dealerID: String
    public var vin: String
    public var feature: String
    public var term: String
    public var currency: Currency
    public var gross: String
    public var share: String
    /// Why the sale is credited to its site (`counter`, `preferred`, `quoted`, `servicing`; a
    /// clawback: its activation's); `null` for sales recorded before attribution was.
    @Nullable public var attribution: String?

    enum CodingKeys: String, CodingKey {
        case kind
        case eventID = "event_id"
        case refersTo = "refers_to"
        case occurredAt = "occurred_at"
        case dealerID = "dealer_id"
        case vin, feature, term, currency, gross, share, attribution
    }

    public init(_ line: ReportLine) {
        kind = line.kind.rawValue
        eventID = line.eventID
        refersTo = line.refersTo.isEmpty ? nil : line.refersTo
        occurredAt = Timestamp.format(line.occurredAt)
        dealerID = line.dealerID
        vin = line.vin
        feature = line.feature
        term = line.term
        currency = line.currency
        gross = line.currency.format(minor: line.gross)
        share = line.currency.format(minor: line.share)
        attribution = nil
    }

    /// Whether this line takes commission back (a refund inside the clawback window).
    public var isClawback: Bool { kind == "clawback" }
}

/// `GET /v1/activations`: a month's lines and statements.
public struct ActivationsResponse: Codable, Sendable, Hashable {
    public var period: String
    public var lines: [LineBody]
    public var statements: [StatementBody]

    /// - Throws: ``RevenueError`` `spill_failed` when the report's lines cannot be read back.
    public init(_ report: Report) throws {
        period = report.period.description
        lines = try report.lines.collect().map(LineBody.init)
        statements = report.statements.map(StatementBody.init)
    }
}
