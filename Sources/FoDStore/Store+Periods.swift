import FoDCore
import FoDEntitlements
import FoDInvoicing
import Foundation

extension SQLStore {
    public func ledgerMark() async throws -> LedgerMark {
        try await transaction(.snapshot, "ledger mark") { db in try Self.ledgerMark(db) }
    }

    static func ledgerMark(_ db: any SQLConnection) throws -> LedgerMark {
        let events = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(recorded), 0) FROM event") ?? 0
        let head = try SQLRow.fetchOne(db, sql: "SELECT seq, sha256 FROM audit ORDER BY seq DESC LIMIT 1")
        return LedgerMark(events: events, auditSeq: head?["seq"] ?? 0, auditSHA256: head?["sha256"] ?? AuditChain.genesisHash)
    }

    public func eventStamps(_ query: EventQuery) async throws -> [EventStamp] {
        try await transaction(.report, "event stamps") { db in
            try SQLRow.fetchAll(db, sql: """
                SELECT event_id, occurred_at FROM event WHERE occurred_at >= ?1 AND occurred_at < ?2
                  AND (CAST(?3 AS TEXT) IS NULL OR dealer_id = ?3 OR (kind = 'refund' AND refers_to IN (SELECT event_id FROM event WHERE dealer_id = ?3)))
                  AND recorded > ?4 AND recorded <= ?5 ORDER BY occurred_at, event_id
                """, arguments: [query.from ?? Int64.min, query.to ?? Int64.max, query.dealer?.value, query.recordedAfter ?? Int64.min,
                                 query.recordedUpTo ?? Int64.max]).map { EventStamp(eventID: $0["event_id"], occurredAt: $0["occurred_at"]) }
        }
    }

    public func closedPeriod(_ period: String) async throws -> ClosedPeriod? {
        try await read { db in try Self.closedPeriod(period, db) }
    }

    static func closedPeriod(_ period: String, _ db: any SQLConnection) throws -> ClosedPeriod? {
        guard let row = try SQLRow.fetchOne(db, sql: "SELECT * FROM period_close WHERE period = ?", arguments: [period]) else { return nil }
        let notes = try String.fetchAll(db, sql: "SELECT document FROM credit_note WHERE period = ? ORDER BY number", arguments: [period])
        return ClosedPeriod(period: period, closedAt: row["closed_at"], actor: row["actor"], rulesVersion: row["rules_version"],
                            eventsSHA256: row["events_sha256"],
                            mark: LedgerMark(events: row["event_mark"], auditSeq: row["audit_seq"], auditSHA256: row["audit_sha256"]),
                            statement: row["statement"], signature: row["signature"], creditNotes: try notes.map(PeriodRows.creditNote))
    }

    public func closedRange() async throws -> (first: String, last: String)? {
        try await read { db in
            guard let row = try SQLRow.fetchOne(db, sql: "SELECT MIN(period) AS first, MAX(period) AS last FROM period_close"),
                  let first: String = row["first"], let last: String = row["last"] else { return nil }
            return (first, last)
        }
    }

    public func keepStatementKey(kid: String, jwk: String, at now: Int64) async throws {
        try await write { db in
            try db.execute(sql: "INSERT INTO statement_key (kid, jwk, first_used_at) VALUES (?, ?, ?) ON CONFLICT (kid) DO NOTHING", arguments: [kid, jwk, now])
        }
    }

    public func statementKeys() async throws -> [String] {
        try await read { db in try String.fetchAll(db, sql: "SELECT jwk FROM statement_key ORDER BY first_used_at, kid") }
    }

    public func firstEventAt() async throws -> Int64? {
        try await read { db in try Int64.fetchOne(db, sql: "SELECT MIN(occurred_at) FROM event") }
    }

    public func latestCreditNote(dealer: String, currency: String) async throws -> String? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT number FROM credit_note WHERE dealer_id = ? AND currency = ? AND kind = 'credit_note' ORDER BY year DESC, sequence DESC LIMIT 1",
                                arguments: [dealer, currency])
        }
    }

    public func pendingAdjustments(upTo now: Int64) async throws -> [Adjustment] {
        try await read { db in
            try SQLRow.fetchAll(db, sql: "SELECT * FROM adjustment WHERE settled_in IS NULL AND created_at <= ? ORDER BY created_at, id", arguments: [now]).map {
                Adjustment(id: $0["id"], dealerID: $0["dealer_id"], currency: $0["currency"], amount: $0["amount_minor"], reason: $0["reason"],
                           objectionID: $0["objection_id"], createdAt: $0["created_at"])
            }
        }
    }

    public func closePeriod(_ plan: ClosePlan, actor: String) async throws -> ClosedPeriod {
        try await transaction(.bulk, "close") { db in
            if let closed = try Self.closedPeriod(plan.period, db) { return closed }
            let last = try String.fetchOne(db, sql: "SELECT MAX(period) FROM period_close")
            guard last == plan.previous else {
                throw StoreError(.periodOpen, "another close changed the closed periods meanwhile (last closed: \(last ?? "none")); close again")
            }
            var sequence = try Int64.fetchOne(db, sql: "SELECT COALESCE(MAX(sequence), 0) FROM credit_note WHERE year = ?", arguments: [plan.numberYear]) ?? 0
            var numbered: [CreditNote] = []
            for note in plan.creditNotes {
                sequence += 1
                let document = note.numbered(CreditNote.number(prefix: plan.numberPrefix, year: plan.numberYear, sequence: sequence))
                try db.execute(sql: """
                    INSERT INTO credit_note (number, period, dealer_id, currency, year, sequence, kind, total_minor, document)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [document.number, plan.period, document.dealerID, document.currency.code, plan.numberYear, sequence,
                                     document.kind.rawValue, document.total, try PeriodRows.json(document)])
                numbered.append(document)
            }
            if let key = plan.signingKey {
                try db.execute(sql: "INSERT INTO statement_key (kid, jwk, first_used_at) VALUES (?, ?, ?) ON CONFLICT (kid) DO NOTHING",
                               arguments: [key.kid, key.jwk, plan.closedAt])
            }
            try db.execute(sql: """
                INSERT INTO period_close (period, closed_at, actor, rules_version, events_sha256, event_mark, audit_seq, audit_sha256, statement, signature)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [plan.period, plan.closedAt, actor, plan.rulesVersion, plan.eventsSHA256, plan.mark.events, plan.mark.auditSeq,
                                 plan.mark.auditSHA256, plan.statement, plan.signature])
            // Many rows per statement (a month of a million sales: 2,000 statements, not a million round trips).
            var chunk: [ClosedLine] = [], written = 0
            func flush() throws {
                guard !chunk.isEmpty else { return }
                var arguments = SQLArguments([])
                for (n, line) in chunk.enumerated() {
                    arguments += [plan.period, written + n + 1, line.dealerID, line.currency, line.kind.rawValue, line.eventID, line.refersTo,
                                  line.occurredAt, line.vin, line.feature, line.term, line.channel, line.net, line.ruleID,
                                  line.rateBps, line.share, line.reason, plan.payees[line.dealerID] ?? line.dealerID, line.plan, line.planVersion]
                }
                try db.enqueue(sql: """
                    INSERT INTO closed_line (period, n, dealer_id, currency, kind, event_id, refers_to, occurred_at, vin, feature, term, channel,
                      net_minor, rule_id, rate_bps, share_minor, reason, partner_id, plan_id, plan_version) VALUES \(SQLText.rows(chunk.count, columns: 20))
                    """, arguments: arguments)
                written += chunk.count
                chunk.removeAll(keepingCapacity: true)
            }
            try plan.lines.forEach { line in
                chunk.append(line)
                if chunk.count == 500 { try flush() }
            }
            try flush()
            // Each line keeps why its sale was credited to its site (a clawback: its activation's reason).
            try db.execute(sql: """
                UPDATE closed_line SET attribution = COALESCE(
                  (SELECT e.attribution FROM event e WHERE e.event_id = closed_line.event_id AND e.kind = 'activation'),
                  (SELECT e.attribution FROM event e WHERE e.event_id = closed_line.refers_to AND e.kind = 'activation'))
                WHERE period = ?
                """, arguments: [plan.period])
            for id in plan.settledAdjustments {
                try db.execute(sql: "UPDATE adjustment SET settled_in = ? WHERE id = ? AND settled_in IS NULL", arguments: [plan.period, id])
                guard db.changesCount == 1 else { throw StoreError(.periodOpen, "adjustment \(id) was settled meanwhile; close again") }
            }
            try db.appendAudit(at: plan.closedAt, actor: actor, action: "period.close", subject: plan.period,
                               details: PeriodRows.auditDetails(plan, numbered))
            return ClosedPeriod(period: plan.period, closedAt: plan.closedAt, actor: actor, rulesVersion: plan.rulesVersion,
                                eventsSHA256: plan.eventsSHA256, mark: plan.mark, statement: plan.statement, signature: plan.signature,
                                creditNotes: numbered)
        }
    }

    public func creditNotes(period: String?, dealer: String?) async throws -> [CreditNote] {
        try await read { db in
            try String.fetchAll(db, sql: "SELECT document FROM credit_note WHERE (CAST(?1 AS TEXT) IS NULL OR period = ?1) AND (CAST(?2 AS TEXT) IS NULL OR dealer_id = ?2) ORDER BY year, sequence",
                                arguments: [period, dealer]).map(PeriodRows.creditNote)
        }
    }

    public func creditNote(_ number: String) async throws -> CreditNote? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT document FROM credit_note WHERE number = ?", arguments: [number]).map(PeriodRows.creditNote)
        }
    }

    public func bookExtract(dealer: String, from: String, to: String) async throws -> [BookLine] {
        try await transaction(.report, "book extract") { db in
            let rows = try SQLRow.fetchAll(db, sql: """
                SELECT l.*, (SELECT MIN(a.seq) FROM audit a WHERE a.subject = CASE WHEN l.event_id LIKE 'act-%' THEN substr(l.event_id, 5) ELSE substr(l.refers_to, 5) END
                                 AND a.action IN \(PeriodRows.auditActions(eventID: "l.event_id"))) AS audit_seq
                FROM closed_line l
                WHERE (l.partner_id = ?1 OR (l.partner_id IS NULL AND l.dealer_id = ?1)) AND l.period >= ?2 AND l.period <= ?3 ORDER BY l.period, l.n
                """, arguments: [dealer, from, to])
            return rows.map { BookLine(period: $0["period"], line: PeriodRows.line($0), auditSeq: $0["audit_seq"], attribution: $0["attribution"]) }
        }
    }

    public func raiseObjection(creditNote: String, dealer: String, eventID: String?, reason: String, actor: String, at now: Int64) async throws -> Objection {
        try await write { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM credit_note WHERE number = ? AND dealer_id = ?", arguments: [creditNote, dealer]) == true else {
                throw StoreError(.notFound, "no credit note \(creditNote) of dealer \(dealer)")
            }
            if let eventID {
                guard try Bool.fetchOne(db, sql: """
                    SELECT 1 FROM closed_line l JOIN credit_note c ON c.period = l.period AND c.dealer_id = COALESCE(l.partner_id, l.dealer_id) AND c.currency = l.currency
                    WHERE c.number = ? AND l.event_id = ?
                    """, arguments: [creditNote, eventID]) == true else {
                    throw StoreError(.notFound, "credit note \(creditNote) has no line \(eventID)")
                }
            }
            let objection = Objection(id: PeriodRows.newID("obj"), creditNote: creditNote, dealerID: dealer, eventID: eventID, reason: reason,
                                      status: .open, raisedAt: now, raisedBy: actor, resolution: nil, resolvedAt: nil, resolvedBy: nil)
            try db.execute(sql: "INSERT INTO objection (id, credit_note, dealer_id, event_id, reason, status, raised_at, raised_by) VALUES (?, ?, ?, ?, ?, 'open', ?, ?)",
                           arguments: [objection.id, creditNote, dealer, eventID, reason, now, actor])
            try db.appendAudit(at: now, actor: actor, action: "objection.raise", subject: objection.id,
                               details: "credit_note=\(creditNote)\(eventID.map { " line=\($0)" } ?? "") reason=\(reason)")
            return objection
        }
    }

    public func objections(creditNote: String?, dealer: String?, status: Objection.Status?) async throws -> [Objection] {
        try await read { db in
            try SQLRow.fetchAll(db, sql: """
                SELECT * FROM objection WHERE (CAST(?1 AS TEXT) IS NULL OR credit_note = ?1) AND (CAST(?2 AS TEXT) IS NULL OR dealer_id = ?2) AND (CAST(?3 AS TEXT) IS NULL OR status = ?3)
                ORDER BY raised_at, id
                """, arguments: [creditNote, dealer, status?.rawValue]).map(PeriodRows.objection)
        }
    }

    public func objection(_ id: String) async throws -> Objection? {
        try await read { db in try SQLRow.fetchOne(db, sql: "SELECT * FROM objection WHERE id = ?", arguments: [id]).map(PeriodRows.objection) }
    }

    public func resolveObjection(_ id: String, _ decision: ObjectionDecision, actor: String, at now: Int64) async throws -> Objection {
        try await write { db in
            guard let row = try SQLRow.fetchOne(db, sql: "SELECT * FROM objection WHERE id = ?", arguments: [id]) else {
                throw StoreError(.notFound, "no objection \(id)")
            }
            let objection = PeriodRows.objection(row)
            guard objection.status == .open else { throw StoreError(.objectionDecided, "objection \(id) was decided already (\(objection.status.rawValue))") }
            let (status, resolution, details) = try PeriodRows.decide(decision, objection)
            if case .adjust(let amount, let reason) = decision {
                let currency = try String.fetchOne(db, sql: "SELECT currency FROM credit_note WHERE number = ?", arguments: [objection.creditNote]) ?? ""
                try db.execute(sql: "INSERT INTO adjustment (id, dealer_id, currency, amount_minor, reason, objection_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                               arguments: [PeriodRows.newID("adj"), objection.dealerID, currency, amount, "objection \(id): \(reason)", id, now])
            }
            try db.execute(sql: "UPDATE objection SET status = ?, resolution = ?, resolved_at = ?, resolved_by = ? WHERE id = ?",
                           arguments: [status.rawValue, resolution, now, actor, id])
            try db.appendAudit(at: now, actor: actor, action: "objection.\(status.rawValue)", subject: id, details: details)
            return PeriodRows.objection(try SQLRow.fetchOne(db, sql: "SELECT * FROM objection WHERE id = ?", arguments: [id])!)
        }
    }
}

/// What both stores do alike for periods: documents to and from JSON, rows to records.
public enum PeriodRows {
    public static func json(_ note: CreditNote) throws -> String {
        String(decoding: try JSONEncoder.sorted.encode(note), as: UTF8.self)
    }

    public static func creditNote(_ json: String) throws -> CreditNote {
        do { return try JSONDecoder().decode(CreditNote.self, from: Data(json.utf8)) } catch {
            throw StoreError(.database, "a stored credit note is damaged")
        }
    }

    public static func auditDetails(_ plan: ClosePlan, _ notes: [CreditNote]) -> String {
        let numbers = notes.map(\.number)
        return "events_sha256=\(plan.eventsSHA256) event_mark=\(plan.mark.events) audit_head=\(plan.mark.auditSeq):\(plan.mark.auditSHA256) rules=\(plan.rulesVersion) lines=\(plan.lines.count) credit_notes=\(numbers.first.map { "\($0)..\(numbers.last!)" } ?? "none")"
    }

    /// The audit actions that record a line's event — an activation's or a refund's, by the
    /// line's event id (an SQL expression).
    public static func auditActions(eventID: String) -> String {
        "(CASE WHEN \(eventID) LIKE 'act-%' THEN 'activation.create' ELSE 'activation.refund' END, CASE WHEN \(eventID) LIKE 'act-%' THEN 'subscription.renew' ELSE 'activation.withdraw' END)"
    }

    static func line(_ row: SQLRow) -> ClosedLine {
        ClosedLine(kind: ClosedLine.Kind(rawValue: row["kind"]) ?? .adjustment, dealerID: row["dealer_id"], currency: row["currency"], eventID: row["event_id"],
                   refersTo: row["refers_to"], occurredAt: row["occurred_at"], vin: row["vin"], feature: row["feature"], term: row["term"],
                   channel: row["channel"], net: row["net_minor"], ruleID: row["rule_id"], rateBps: row["rate_bps"], share: row["share_minor"],
                   reason: row["reason"], plan: (row["plan_id"] as String?) ?? "", planVersion: (row["plan_version"] as String?) ?? "")
    }

    static func objection(_ row: SQLRow) -> Objection {
        Objection(id: row["id"], creditNote: row["credit_note"], dealerID: row["dealer_id"], eventID: row["event_id"], reason: row["reason"],
                  status: Objection.Status(rawValue: row["status"]) ?? .open, raisedAt: row["raised_at"], raisedBy: row["raised_by"],
                  resolution: row["resolution"], resolvedAt: row["resolved_at"], resolvedBy: row["resolved_by"])
    }

    /// The decision's status, resolution text and audit details.
    public static func decide(_ decision: ObjectionDecision, _ objection: Objection) throws -> (Objection.Status, String, String) {
        switch decision {
        case .adjust(let amount, let reason):
            guard amount != 0 else { throw StoreError(.invalid, "an adjustment of 0 changes nothing; reject the objection instead") }
            return (.adjusted, "adjustment \(amount) minor units in the next period to close: \(reason)", "credit_note=\(objection.creditNote) amount=\(amount) reason=\(reason)")
        case .reject(let reason):
            return (.rejected, reason, "credit_note=\(objection.creditNote) reason=\(reason)")
        }
    }

    /// A new random id with a prefix: `obj-…`, `adj-…`.
    public static func newID(_ prefix: String) -> String {
        prefix + "-" + (0..<16).map { _ in String(UInt8.random(in: 0...255), radix: 16).leftPadded(2) }.joined()
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
