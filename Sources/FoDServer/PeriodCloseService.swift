import FoDAPI
import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDInvoicing
import FoDRevenue
import FoDStore
import Foundation
import HTTPTypes

/// Closes a month (docs/revenue-share.md, "Closing a period"): the statements, lines and rules
/// version frozen with the SHA-256 of the events they were computed from and the audit-log head;
/// numbered credit notes; a signed statement file. Late events of closed months and decided
/// objections are settled as adjustment lines. `fod close` and `POST /v1/periods/{period}/close`.
public struct PeriodCloseService: Sendable {
    let services: FoDServices

    public init(services: FoDServices) { self.services = services }

    /// Closes `period` at `now` (Unix seconds). Closing a closed period returns it as it was.
    /// - Throws: ``APIError`` `query_invalid`, `period_not_closable` (not ended; an earlier month
    ///   open; before the first closed one), `issuer_profile_missing`; ``InvoicingError``
    ///   `master_data_incomplete`; ``StoreError``.
    public func close(_ text: String, at now: Int64, actor: String) async throws -> ClosedPeriod {
        let period = try PeriodCloseService.period(text)
        let store = services.store
        if let closed = try await store.closedPeriod(period.description) { return closed }
        let range = try await closable(period, at: now)
        let issuer = try issuerProfile()
        let prepared = try await prepare(period, range: range, issuer: issuer, at: now)
        try prepared.requireDocuments()
        let file = StatementFile(issuer: services.signing.issuerID.value, period: period.description, closedAt: Instant(unixSeconds: now).rfc3339,
                                 rulesVersion: prepared.report.rulesVersion, eventsSHA256: prepared.eventsSHA256, eventMark: prepared.mark.events,
                                 auditHead: .init(seq: prepared.mark.auditSeq, sha256: prepared.mark.auditSHA256), statements: prepared.statements)
        let statement = try StatementDocument.text(file)
        let signer = try services.signing.requireSigner(for: .entitlement)
        let signature = try DetachedJWS.sign(Array(statement.utf8), key: signer.key, keyID: signer.keyID)
        var plan = ClosePlan(period: period.description, previous: range?.last, closedAt: now, rulesVersion: prepared.report.rulesVersion,
                             eventsSHA256: prepared.eventsSHA256, mark: prepared.mark, statement: statement, signature: signature,
                             lines: ClosedLines(report: prepared.report.lines, adjustments: prepared.adjustmentLines),
                             creditNotes: prepared.creditNotes, numberPrefix: issuer.numberPrefix, numberYear: CivilDate(unixSeconds: now).year,
                             settledAdjustments: prepared.settledAdjustments)
        plan.signingKey = try PeriodCloseService.statementKey(signer)
        plan.payees = prepared.payees
        return try await store.closePeriod(plan, actor: actor)
    }

    /// The close of `text` at `now` rehearsed: every credit note made and checked as the close
    /// would, nothing stored or signed (the back office's "try the close"). The month need not
    /// have ended (what would be paid for it so far), but must be the next to close. It takes as
    /// long as the close's computation.
    /// - Throws: as ``close(_:at:actor:)`` before it stores, but a document that cannot be made is
    ///   listed in the answer, not thrown; `period_closed` for a closed month.
    public func rehearse(_ text: String, at now: Int64) async throws -> Rehearsal {
        let period = try PeriodCloseService.period(text)
        if try await services.store.closedPeriod(period.description) != nil {
            throw APIError(.conflict, "period_closed", "\(period) is closed already")
        }
        let range = try await closable(period, at: now, ended: false)
        let prepared = try await prepare(period, range: range, issuer: try issuerProfile(), at: now)
        return Rehearsal(period: period.description, creditNotes: prepared.creditNotes, failures: prepared.failures,
                         adjustmentLines: prepared.adjustmentLines.count)
    }

    /// The partners a month's close would pay (the payees of the sites open in it) whose master
    /// data cannot make a credit note: each is tried on a document of one nominal line in `currency`
    /// through the close's own make and check, so the answer is the close's rule without the
    /// month's computation (the back office's checklist). Sorted by partner.
    public func masterDataGaps(_ text: String, currency: Currency, at now: Int64) async throws -> [DocumentFailure] {
        let period = try PeriodCloseService.period(text)
        let issuer = try issuerProfile()
        let network = try await services.store.network()
        let lastInstant = period.end / 1_000_000_000 - 1
        let start = period.start / 1_000_000_000
        var payees: Set<String> = []
        for site in network.sites.values where site.openedAt <= lastInstant && (site.closedAt.map { $0 > start } ?? true) {
            payees.insert(network.payee(of: site.id.value, at: lastInstant)?.payee.value ?? site.partner.value)
        }
        var gaps: [DocumentFailure] = []
        for payee in payees.sorted() {
            let party = (try? PartnerID(payee)).flatMap { network.partners[$0] }?.version(at: now).details.party
            do {
                let draft = try CreditNoteDraft(dealerID: payee, currency: currency, parts: [
                    CreditNoteDraft.Part(label: nil, share: 100, clawback: 0, adjustment: 0, activations: 1, clawbacks: 0, adjustments: 0)])
                _ = try PeriodCloseService.checkedNote(draft, period: period, issuer: issuer, party: party, preceding: nil, at: now)
            } catch let error as InvoicingError {
                gaps.append(DocumentFailure(partner: payee, currency: currency.code, code: error.code.rawValue, reason: error.reason))
            }
        }
        return gaps
    }

    /// What a rehearsed close would issue, and the documents it could not make.
    public struct Rehearsal: Sendable {
        public let period: String
        public let creditNotes: [CreditNote]
        public let failures: [DocumentFailure]
        /// Late events and settled objections booked as adjustment lines.
        public let adjustmentLines: Int
    }

    /// A document the close could not make: whose, in which currency, and why (`master_data_incomplete`, `credit_note_invalid`).
    public struct DocumentFailure: Sendable, Hashable {
        public let partner: String
        public let currency: String
        public let code: String
        public let reason: String
    }

    /// A month's close computed, not yet signed or stored.
    struct Prepared {
        let report: Report
        let eventsSHA256: String
        let mark: LedgerMark
        let adjustmentLines: [ClosedLine]
        let settledAdjustments: [String]
        let statements: [ClosedStatement]
        let payees: [String: String]
        let creditNotes: [CreditNote]
        let failures: [DocumentFailure]

        /// Throws as the close always has: every payee without master data in one 409, else the first invalid document.
        func requireDocuments() throws {
            let missing = failures.filter { $0.code == InvoicingError.Code.masterDataIncomplete.rawValue }
            guard missing.isEmpty else {
                throw APIError(.conflict, InvoicingError.Code.masterDataIncomplete.rawValue, "cannot issue the credit notes: " + missing.map(\.reason).joined(separator: "; "))
            }
            if let first = failures.first { throw InvoicingError(InvoicingError.Code(first.code), first.reason) }
        }
    }

    static func period(_ text: String) throws -> ReportPeriod {
        do { return try ReportPeriod(text) } catch let error as RevenueError { throw APIError(.badRequest, "query_invalid", error.reason) }
    }

    func issuerProfile() throws -> IssuerProfile {
        guard let issuer = services.issuerProfile else {
            throw APIError(.conflict, "issuer_profile_missing", "the service has no issuer profile (--issuer-profile): credit notes cannot be made")
        }
        return issuer
    }

    /// Whether `period` may close at `now`: ended (unless `ended` is false), and the next month
    /// to close (months close in order, from the first recorded sale's or the configured first).
    /// Returns the closed range.
    /// - Throws: ``APIError`` 409 `period_not_closable`.
    func closable(_ period: ReportPeriod, at now: Int64, ended: Bool = true) async throws -> (first: String, last: String)? {
        let store = services.store
        guard !ended || now >= period.end / 1_000_000_000 else {
            throw APIError(.conflict, StoreError.Code.periodOpen.rawValue, "\(period) has not ended yet; it can be closed from \(Instant(unixSeconds: period.end / 1_000_000_000).rfc3339)")
        }
        let range = try await store.closedRange()
        if range == nil {
            // The first close: the month of the first recorded sale (or the configured start), no earlier.
            let first: String
            if let start = services.firstPeriod { first = start } else {
                guard let at = try await store.firstEventAt() else {
                    throw APIError(.conflict, StoreError.Code.periodOpen.rawValue, "\(period) cannot be closed: no sale is recorded yet, so there is no first month to close")
                }
                first = ReportPeriod.text(containing: at)
            }
            guard period.description == first else {
                throw APIError(.conflict, StoreError.Code.periodOpen.rawValue,
                               "\(period) cannot be closed: the first month to close is \(first) (\(services.firstPeriod == nil ? "the month of the first recorded sale" : "the configured first period")), and months close in order")
            }
        }
        if let range {
            let next = try PeriodCloseService.next(range.last)
            guard period.description == next else {
                let why = period.description < range.first ? "it comes before the first closed period \(range.first)" : "close \(next) first: periods close in order"
                throw APIError(.conflict, StoreError.Code.periodOpen.rawValue, "\(period) cannot be closed: \(why)")
            }
        }
        return range
    }

    /// The month's statements and documents, as the close computes them.
    func prepare(_ period: ReportPeriod, range: (first: String, last: String)?, issuer: IssuerProfile, at now: Int64) async throws -> Prepared {
        let store = services.store
        let mark = try await store.ledgerMark()
        let (report, eventsSHA256) = try await PeriodCloseService.report(store, services.plan, period, upTo: mark.events)
        var adjustmentLines: [ClosedLine] = []
        if let range, let previousClose = try await store.closedPeriod(range.last) {
            adjustmentLines += try await lateLines(first: try ReportPeriod(range.first), before: period, after: previousClose.mark.events, upTo: mark.events)
        }
        let adjustments = try await store.pendingAdjustments(upTo: now)
        for adjustment in adjustments {
            adjustmentLines.append(ClosedLine(kind: .adjustment, dealerID: adjustment.dealerID, currency: adjustment.currency, eventID: adjustment.id,
                                    refersTo: adjustment.objectionID ?? "", occurredAt: adjustment.createdAt * 1_000_000_000, vin: "", feature: "",
                                    term: "", channel: "", net: 0, ruleID: "", rateBps: 0, share: adjustment.amount, reason: adjustment.reason))
        }
        var statements = try PeriodCloseService.statements(report, adjustmentLines)
        let network = try await store.network()
        let payees = PeriodCloseService.payees(statements, network, period)
        for index in statements.indices where !statements[index].dealerID.isEmpty { statements[index].partnerID = payees[statements[index].dealerID] }
        var byVersion: [String: [PlanVersionFigures]] = [:]
        for s in report.statements { byVersion[s.dealerID + "\u{1}" + s.currency.code] = s.byPlanVersion }
        let (creditNotes, failures) = try await documents(statements, payees: payees, network: network, byVersion: byVersion, issuer: issuer, period: period, at: now)
        return Prepared(report: report, eventsSHA256: eventsSHA256, mark: mark, adjustmentLines: adjustmentLines, settledAdjustments: adjustments.map(\.id),
                        statements: statements, payees: payees, creditNotes: creditNotes, failures: failures)
    }

    /// A statement signer's key as kept: its id and its public half as a JWK Set.
    static func statementKey(_ signer: Issuer) throws -> (kid: String, jwk: String) {
        (signer.keyID, try KeySet([TrustedKey(signer.key.publicKey, keyID: signer.keyID)]).jwksJSON(indent: 0))
    }

    /// Keeps the key the service signs statements with (at start): statements closed with it
    /// before keys were kept, or by this version before a key change, stay verifiable.
    public static func keepSigningKey(_ services: FoDServices) async throws {
        guard let signer = try? services.signing.requireSigner(for: .entitlement) else { return }
        let key = try statementKey(signer)
        try await services.store.keepStatementKey(kid: key.kid, jwk: key.jwk, at: services.clock.unixSeconds())
    }

    /// The keys that verify closed periods' statements (`/.well-known/fod/statement-keys.json`):
    /// every key that signed one, kept by the store, and the key that signs the next.
    static func statementKeys(_ services: FoDServices) async throws -> KeySet {
        var keys: [String: TrustedKey] = [:]
        for stored in try await services.store.statementKeys() {
            for key in try KeySet(jwksJSON: stored).keys { keys[key.keyID] = key }
        }
        if let signer = try? services.signing.requireSigner(for: .entitlement) {
            keys[signer.keyID] = TrustedKey(signer.key.publicKey, keyID: signer.keyID)
        }
        return KeySet(Array(keys.values))
    }

    /// The month's report from the events committed up to `mark`, and the SHA-256 of that export
    /// (``StatementsReport/build(_:_:_:_:)``: memory bounded, not the month's size).
    static func report(_ store: any EntitlementStore, _ plans: PlanSet, _ period: ReportPeriod, upTo mark: Int64) async throws -> (Report, String) {
        let built = try await StatementsReport.build(store, plans, period, EventQuery(recordedUpTo: mark), hashed: true)
        return (built.report, built.sha256 ?? "")
    }

    /// Events dated in a closed month but committed after the last close (``LedgerMark``): each
    /// is rated as its own month's report rates it today, and booked here as an adjustment line.
    func lateLines(first: ReportPeriod, before period: ReportPeriod, after: Int64, upTo: Int64) async throws -> [ClosedLine] {
        let late = try await services.store.eventStamps(EventQuery(from: first.start / 1_000_000_000, to: period.start / 1_000_000_000,
                                                                   recordedAfter: after, recordedUpTo: upTo))
        guard !late.isEmpty else { return [] }
        var byMonth: [String: Set<String>] = [:]
        for stamp in late { byMonth[ReportPeriod.text(containing: stamp.occurredAt), default: []].insert(stamp.eventID) }
        var lines: [ClosedLine] = []
        for month in byMonth.keys.sorted() {
            let (report, _) = try await PeriodCloseService.report(services.store, services.plan, try ReportPeriod(month), upTo: upTo)
            let events = byMonth[month] ?? []
            try report.lines.forEachLine { line in
                guard events.contains(line.eventID) else { return }
                lines.append(ClosedLine(line, kind: .adjustment,
                                                       reason: "late \(line.kind.rawValue) of closed period \(month), committed after its close"))
            }
        }
        return lines
    }

    /// The documents: one per partner paid and currency with something payable either way, its
    /// lines by site (a sub-agent's sites under its main partner, named as the sub-agent's). The
    /// payee of a site's statement is its partner's main partner in force on the month's last
    /// instant (docs/revenue-share.md); the party data is the payee's version in force at the close.
    func documents(_ statements: [ClosedStatement], payees: [String: String], network: Network, byVersion: [String: [PlanVersionFigures]] = [:],
                   issuer: IssuerProfile, period: ReportPeriod, at now: Int64) async throws -> ([CreditNote], [DocumentFailure]) {
        let lastInstant = period.end / 1_000_000_000 - 1
        var groups: [String: [ClosedStatement]] = [:], order: [String] = []
        for statement in statements where !statement.dealerID.isEmpty {
            let payee = payees[statement.dealerID] ?? statement.dealerID
            let key = payee + "\u{1}" + statement.currency
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(statement)
        }
        var notes: [CreditNote] = []
        var failures: [DocumentFailure] = []
        for key in order.sorted() {
            guard let group = groups[key], let first = group.first else { continue }
            let payee = String(key.prefix { $0 != "\u{1}" })
            let partner = (try? PartnerID(payee)).flatMap { network.partners[$0] }
            // A part per site and plan version (every line names the version that priced it); the site's adjustments with its first.
            let parts = group.sorted { $0.dealerID < $1.dealerID }.flatMap { statement -> [CreditNoteDraft.Part] in
                let site = PeriodCloseService.label(statement.dealerID, payee: payee, single: group.count == 1, network, at: lastInstant)
                let figures = byVersion[statement.dealerID + "\u{1}" + statement.currency] ?? []
                guard !figures.isEmpty else {
                    return [CreditNoteDraft.Part(label: site, share: statement.share, clawback: statement.clawback, adjustment: statement.adjustment,
                                                 activations: statement.activations, clawbacks: statement.clawbacks, adjustments: statement.adjustments)]
                }
                return figures.enumerated().map { index, f in
                    CreditNoteDraft.Part(label: (site.map { $0 + " · " } ?? "") + "Plan \(f.plan) \(f.version)", share: f.share, clawback: f.clawback,
                                         adjustment: index == 0 ? statement.adjustment : 0, activations: f.activations, clawbacks: f.clawbacks,
                                         adjustments: index == 0 ? statement.adjustments : 0)
                }
            }
            let draft = try CreditNoteDraft(dealerID: payee, currency: try Currency(first.currency), parts: parts)
            let payable = try draft.payable()
            guard payable != 0 else { continue }
            let preceding = payable < 0 ? try await services.store.latestCreditNote(dealer: payee, currency: first.currency) : nil
            do {
                guard let note = try PeriodCloseService.checkedNote(draft, period: period, issuer: issuer, party: partner?.version(at: now).details.party,
                                                                    preceding: preceding, at: now) else { continue }
                notes.append(note)
            } catch let error as InvoicingError where error.code == .masterDataIncomplete || error.code == .creditNoteInvalid {
                failures.append(DocumentFailure(partner: payee, currency: first.currency, code: error.code.rawValue, reason: error.reason))
            }
        }
        return (notes, failures)
    }

    /// A month's credit note made from `draft` and checked by fod's own check, as the close issues
    /// it (numbered in the close's transaction); `nil` when nothing is payable. The close's, the
    /// rehearsal's and the checklist's one rule.
    /// - Throws: ``InvoicingError`` `master_data_incomplete`, `credit_note_invalid`, `overflow`.
    static func checkedNote(_ draft: CreditNoteDraft, period: ReportPeriod, issuer: IssuerProfile, party: LegalParty?, preceding: String?,
                            at now: Int64) throws -> CreditNote? {
        guard let note = try CreditNote.make(draft, number: "", issuedAt: now, year: Int64(period.year), month: Int64(period.month),
                                             issuer: issuer, dealer: party, preceding: preceding) else { return nil }
        try note.numbered("CHECK").check()
        return note
    }

    /// Who is paid for each statement (by its `dealer_id`): its site's partner, or that partner's
    /// main partner, as in force on the month's last instant.
    static func payees(_ statements: [ClosedStatement], _ network: Network, _ period: ReportPeriod) -> [String: String] {
        var payees: [String: String] = [:]
        for statement in statements where !statement.dealerID.isEmpty {
            payees[statement.dealerID] = network.payee(of: statement.dealerID, at: period.end / 1_000_000_000 - 1)?.payee.value ?? statement.dealerID
        }
        return payees
    }

    /// What a statement's lines are named on its payee's credit note: nothing for a partner's only
    /// statement under its own id (a dealer of before the network), else the site — and the
    /// sub-agent it belongs to — or the partner's own adjustments.
    static func label(_ id: String, payee: String, single: Bool, _ network: Network, at instant: Int64) -> String? {
        if single && id == payee { return nil }
        guard let dealer = try? DealerID(id), let site = network.sites[dealer] else { return "Partner \(id)" }
        var label = "Standort \(site.id) \(site.name)"
        if site.partner.value != payee, let agent = network.partners[site.partner] {
            label += " (Unteragent \(agent.id) \(agent.version(at: instant).details.name))"
        }
        return label
    }

    /// Statements per dealer and currency: the report's, with the adjustment lines added.
    static func statements(_ report: Report, _ lines: [ClosedLine]) throws -> [ClosedStatement] {
        var byKey: [String: ClosedStatement] = [:]
        func key(_ dealer: String, _ currency: String) -> String { dealer + "\u{1}" + currency }
        for s in report.statements {
            byKey[key(s.dealerID, s.currency.code)] = ClosedStatement(
                dealerID: s.dealerID, currency: s.currency.code, activations: s.activations, clawbacks: s.clawbacks, adjustments: 0, gross: s.gross,
                net: s.net, share: s.share, clawback: s.clawback, adjustment: 0, payable: s.payable, tierBonusBps: s.tierBonusBps)
        }
        for line in lines where line.kind == .adjustment {
            var s = byKey[key(line.dealerID, line.currency)] ?? ClosedStatement(
                dealerID: line.dealerID, currency: line.currency, activations: 0, clawbacks: 0, adjustments: 0, gross: 0, net: 0, share: 0,
                clawback: 0, adjustment: 0, payable: 0, tierBonusBps: 0)
            s.adjustments += 1
            s.adjustment = try MinorUnits.add(s.adjustment, line.share)
            s.payable = try MinorUnits.add(s.payable, line.share)
            byKey[key(line.dealerID, line.currency)] = s
        }
        return byKey.values.sorted { ($0.dealerID, $0.currency) < ($1.dealerID, $1.currency) }
    }

    /// The month after `text` (`YYYY-MM`).
    static func next(_ text: String) throws -> String {
        let period = try ReportPeriod(text)
        return period.month == 12 ? String(format: "%04d-01", period.year + 1) : String(format: "%04d-%02d", period.year, period.month + 1)
    }
}
