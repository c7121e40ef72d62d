import FoDCore
import FoDEntitlements
import FoDInvoicing
import FoDRevenue

/// Where the ledger stands: the last event committed (``event.recorded``) and the audit log's head.
public struct LedgerMark: Sendable, Hashable, Codable {
    /// The highest `recorded` number of any event (0: none).
    public let events: Int64
    /// The audit log's last entry and its hash (0 and the genesis hash: empty).
    public let auditSeq: Int64
    public let auditSHA256: String

    public init(events: Int64, auditSeq: Int64, auditSHA256: String) {
        self.events = events
        self.auditSeq = auditSeq
        self.auditSHA256 = auditSHA256
    }
}

/// An event's id and when it occurred (Unix seconds).
public struct EventStamp: Sendable, Hashable {
    public let eventID: String
    public let occurredAt: Int64
    public init(eventID: String, occurredAt: Int64) {
        self.eventID = eventID
        self.occurredAt = occurredAt
    }
}

/// Which events an export holds.
public struct EventQuery: Sendable, Hashable {
    /// Occurred in `[from, to)`, Unix seconds (`nil`: unbounded).
    public var from: Int64?
    public var to: Int64?
    /// A dealer's activations and the refunds of them (`nil`: every dealer's).
    public var dealer: DealerID?
    /// Committed after `recordedAfter` and up to `recordedUpTo` (``LedgerMark/events``).
    public var recordedAfter: Int64?
    public var recordedUpTo: Int64?

    public init(from: Int64? = nil, to: Int64? = nil, dealer: DealerID? = nil, recordedAfter: Int64? = nil, recordedUpTo: Int64? = nil) {
        self.from = from
        self.to = to
        self.dealer = dealer
        self.recordedAfter = recordedAfter
        self.recordedUpTo = recordedUpTo
    }
}

/// One line of a closed period, as frozen: an activation, a clawback, or an adjustment (a late
/// event of a closed month, an objection's resolution).
public struct ClosedLine: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable { case activation, clawback, adjustment }
    public let kind: Kind
    public let dealerID: String
    public let currency: String
    /// The activation's or refund's event id (`act-<jti>`, `ref-<jti>`), or the adjustment's id.
    public let eventID: String
    /// For a clawback or a late event's adjustment: the activation it concerns (else empty).
    public let refersTo: String
    /// When the event happened (Unix nanoseconds); an objection's adjustment: when it was decided.
    public let occurredAt: Int64
    public let vin: String
    public let feature: String
    public let term: String
    public let channel: String
    /// The activation's net (the share's basis), the rule and rate that priced it, and the
    /// dealer's share: positive on an activation, negative on a clawback, signed on an adjustment.
    public let net: Int64
    public let ruleID: String
    public let rateBps: Int64
    public let share: Int64
    /// Why an adjustment was booked (empty otherwise).
    public let reason: String
    /// The plan and version that priced it (empty for an objection's adjustment, and for lines
    /// closed before plans had versions).
    public var plan: String = ""
    public var planVersion: String = ""

    public init(kind: Kind, dealerID: String, currency: String, eventID: String, refersTo: String, occurredAt: Int64, vin: String,
                feature: String, term: String, channel: String, net: Int64, ruleID: String, rateBps: Int64, share: Int64, reason: String,
                plan: String = "", planVersion: String = "") {
        self.plan = plan
        self.planVersion = planVersion
        self.kind = kind
        self.dealerID = dealerID
        self.currency = currency
        self.eventID = eventID
        self.refersTo = refersTo
        self.occurredAt = occurredAt
        self.vin = vin
        self.feature = feature
        self.term = term
        self.channel = channel
        self.net = net
        self.ruleID = ruleID
        self.rateBps = rateBps
        self.share = share
        self.reason = reason
    }

    /// A report line as closed: an activation or clawback (or, with `kind`, an adjustment).
    public init(_ line: ReportLine, kind: Kind? = nil, reason: String) {
        self.init(kind: kind ?? (line.kind == .activation ? .activation : .clawback), dealerID: line.dealerID, currency: line.currency.code,
                  eventID: line.eventID, refersTo: line.refersTo, occurredAt: line.occurredAt, vin: line.vin, feature: line.feature,
                  term: line.term, channel: line.channel, net: line.basis, ruleID: line.ruleID, rateBps: line.rateBps, share: line.share,
                  reason: reason, plan: line.plan, planVersion: line.planVersion)
    }

    /// The entitlement (the token's `jti`) the line concerns: the activation's for an activation,
    /// the clawed back one's for a clawback; empty for an objection's adjustment.
    public var entitlementID: String {
        let id = eventID.hasPrefix("act-") ? eventID : refersTo
        return id.hasPrefix("act-") ? String(id.dropFirst(4)) : ""
    }
}

/// The lines a close writes, in order: the month's report lines, walked from the report (which
/// keeps a large month's lines in temporary files, not in memory), then the adjustment lines.
public struct ClosedLines: Sendable {
    let report: ReportLines?
    /// Late events of closed months and settled objections.
    public let adjustments: [ClosedLine]

    public init(report: ReportLines?, adjustments: [ClosedLine]) {
        self.report = report
        self.adjustments = adjustments
    }

    /// How many lines there are.
    public var count: Int { (report?.count ?? 0) + adjustments.count }

    /// Calls `body` with each line in order.
    /// - Throws: ``RevenueError`` `spill_failed` (a temporary file of the report cannot be read); what `body` throws.
    public func forEach(_ body: (ClosedLine) throws -> Void) throws {
        try report?.forEachLine { try body(ClosedLine($0, reason: "")) }
        for line in adjustments { try body(line) }
    }
}

/// What a close writes, computed before its transaction; the store adds the numbers.
public struct ClosePlan: Sendable {
    public let period: String
    /// The period closed before this one, as the plan saw it (`nil`: none); the close is refused
    /// if another close changed it meanwhile.
    public let previous: String?
    public let closedAt: Int64
    public let rulesVersion: String
    public let eventsSHA256: String
    public let mark: LedgerMark
    /// The signed statement file and its detached JWS.
    public let statement: String
    public let signature: String
    public let lines: ClosedLines
    /// The documents, with an empty number: the store numbers them in its transaction.
    public let creditNotes: [CreditNote]
    /// The number series: `prefix-year-NNNNNN`.
    public let numberPrefix: String
    public let numberYear: Int64
    /// The adjustments (from objections) the period settles.
    public let settledAdjustments: [String]
    /// The statement's signing key: its id and public JWK (kept and published: ``PeriodStore/statementKeys()``).
    public var signingKey: (kid: String, jwk: String)? = nil
    /// The partner paid for each statement's lines (by the statement's `dealer_id`, a site); absent: the id itself.
    public var payees: [String: String] = [:]

    public init(period: String, previous: String?, closedAt: Int64, rulesVersion: String, eventsSHA256: String, mark: LedgerMark,
                statement: String, signature: String, lines: ClosedLines, creditNotes: [CreditNote], numberPrefix: String,
                numberYear: Int64, settledAdjustments: [String]) {
        self.period = period
        self.previous = previous
        self.closedAt = closedAt
        self.rulesVersion = rulesVersion
        self.eventsSHA256 = eventsSHA256
        self.mark = mark
        self.statement = statement
        self.signature = signature
        self.lines = lines
        self.creditNotes = creditNotes
        self.numberPrefix = numberPrefix
        self.numberYear = numberYear
        self.settledAdjustments = settledAdjustments
    }
}

/// A closed period as stored.
public struct ClosedPeriod: Sendable, Hashable {
    public let period: String
    public let closedAt: Int64
    public let actor: String
    public let rulesVersion: String
    public let eventsSHA256: String
    public let mark: LedgerMark
    public let statement: String
    public let signature: String
    public let creditNotes: [CreditNote]

    public init(period: String, closedAt: Int64, actor: String, rulesVersion: String, eventsSHA256: String, mark: LedgerMark,
                statement: String, signature: String, creditNotes: [CreditNote]) {
        self.period = period
        self.closedAt = closedAt
        self.actor = actor
        self.rulesVersion = rulesVersion
        self.eventsSHA256 = eventsSHA256
        self.mark = mark
        self.statement = statement
        self.signature = signature
        self.creditNotes = creditNotes
    }
}

/// A line of a dealer's book extract: a closed line and the audit entry that recorded its event.
public struct BookLine: Sendable, Hashable {
    public let period: String
    public let line: ClosedLine
    /// The audit entry of the activation (or the refund) behind the line; `nil` for an adjustment
    /// from an objection (its entry is the objection's resolution).
    public let auditSeq: Int64?
    /// Why the line's sale was credited to its site (``FoDRevenue/Attribution``), as the sale recorded it.
    public let attribution: String?

    public init(period: String, line: ClosedLine, auditSeq: Int64?, attribution: String? = nil) {
        self.attribution = attribution
        self.period = period
        self.line = line
        self.auditSeq = auditSeq
    }
}

/// A dealer's objection to a credit note or one of its lines.
public struct Objection: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, Codable { case open, adjusted, rejected }
    public let id: String
    public let creditNote: String
    public let dealerID: String
    /// The line objected to (its event id), or `nil` for the whole document.
    public let eventID: String?
    public let reason: String
    public let status: Status
    public let raisedAt: Int64
    public let raisedBy: String
    public let resolution: String?
    public let resolvedAt: Int64?
    public let resolvedBy: String?

    public init(id: String, creditNote: String, dealerID: String, eventID: String?, reason: String, status: Status, raisedAt: Int64,
                raisedBy: String, resolution: String?, resolvedAt: Int64?, resolvedBy: String?) {
        self.id = id
        self.creditNote = creditNote
        self.dealerID = dealerID
        self.eventID = eventID
        self.reason = reason
        self.status = status
        self.raisedAt = raisedAt
        self.raisedBy = raisedBy
        self.resolution = resolution
        self.resolvedAt = resolvedAt
        self.resolvedBy = resolvedBy
    }
}

/// An amount booked for a dealer in the next period to close (an objection's resolution).
public struct Adjustment: Sendable, Hashable {
    public let id: String
    public let dealerID: String
    public let currency: String
    public let amount: Int64
    public let reason: String
    public let objectionID: String?
    public let createdAt: Int64

    public init(id: String, dealerID: String, currency: String, amount: Int64, reason: String, objectionID: String?, createdAt: Int64) {
        self.id = id
        self.dealerID = dealerID
        self.currency = currency
        self.amount = amount
        self.reason = reason
        self.objectionID = objectionID
        self.createdAt = createdAt
    }
}

/// How an auditor decides an objection.
public enum ObjectionDecision: Sendable, Hashable {
    /// Upheld: an adjustment of `amount` (signed minor units, in the credit note's currency) is
    /// booked in the next period to close.
    case adjust(amount: Int64, reason: String)
    /// Rejected, with the reason the dealer is given.
    case reject(reason: String)
}

/// Closing periods, credit notes, objections, the book extract.
public protocol PeriodStore: Sendable {
    /// Where the ledger stands now.
    func ledgerMark() async throws -> LedgerMark
    /// The ids and times (Unix seconds) of the events a query selects (a close's late events).
    func eventStamps(_ query: EventQuery) async throws -> [EventStamp]
    /// A closed period, or `nil`.
    func closedPeriod(_ period: String) async throws -> ClosedPeriod?
    /// The latest closed period's name, and the first's (`nil`: none closed).
    func closedRange() async throws -> (first: String, last: String)?
    /// The public keys (JWK JSON) that signed closed periods' statements, oldest first.
    func statementKeys() async throws -> [String]
    /// Keeps a statement key (its id and public JWK Set) if it is not kept yet; `fod serve` keeps
    /// the key it signs with at every start, so statements closed before keys were kept stay verifiable.
    func keepStatementKey(kid: String, jwk: String, at now: Int64) async throws
    /// When the earliest recorded event occurred (Unix seconds); `nil` when none is recorded.
    func firstEventAt() async throws -> Int64?
    /// The dealer's latest credit note number (a correction refers to it).
    func latestCreditNote(dealer: String, currency: String) async throws -> String?
    /// Adjustments not settled yet, booked up to `now`.
    func pendingAdjustments(upTo now: Int64) async throws -> [Adjustment]
    /// Writes the close in one transaction: numbers the credit notes without gaps, stores the
    /// statement, lines and documents, settles the adjustments, appends `period.close` to the
    /// audit log. A period already closed is returned as it was (the plan is discarded).
    /// - Throws: ``StoreError`` `conflict` when the previous closed period is not the plan's.
    func closePeriod(_ plan: ClosePlan, actor: String) async throws -> ClosedPeriod
    /// Credit notes, of one period and/or one dealer, by number.
    func creditNotes(period: String?, dealer: String?) async throws -> [CreditNote]
    func creditNote(_ number: String) async throws -> CreditNote?
    /// A dealer's closed lines of the periods `from` to `to` (inclusive), in period and line order.
    func bookExtract(dealer: String, from: String, to: String) async throws -> [BookLine]
    /// Records a dealer's objection.
    /// - Throws: ``StoreError`` `not_found` (no such credit note for the dealer).
    func raiseObjection(creditNote: String, dealer: String, eventID: String?, reason: String, actor: String, at now: Int64) async throws -> Objection
    func objections(creditNote: String?, dealer: String?, status: Objection.Status?) async throws -> [Objection]
    func objection(_ id: String) async throws -> Objection?
    /// Decides an open objection.
    /// - Throws: ``StoreError`` `not_found`, `conflict` (already decided).
    func resolveObjection(_ id: String, _ decision: ObjectionDecision, actor: String, at now: Int64) async throws -> Objection
}
