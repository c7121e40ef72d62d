import FoDCore
import FoDEntitlements
import FoDInvoicing
import FoDStore
import PostgresNIO

extension PostgresStore {
    public func ledgerMark() async throws -> LedgerMark {
        try await read("ledger mark", consistent: true) { connection in
            var events: Int64 = 0
            for try await value in try await connection.query("SELECT COALESCE(MAX(recorded), 0) FROM event", logger: self.logger).decode(Int64.self) {
                events = value
            }
            var head: (Int64, String) = (0, AuditChain.genesisHash)
            for try await row in try await connection.query("SELECT seq, sha256 FROM audit ORDER BY seq DESC LIMIT 1", logger: self.logger).decode((Int64, String).self) {
                head = row
            }
            return LedgerMark(events: events, auditSeq: head.0, auditSHA256: head.1)
        }
    }

    public func eventStamps(_ query: EventQuery) async throws -> [EventStamp] {
        try await read("late events", limit: PostgresStore.bulkTimeout) { connection in
            let dealerID = query.dealer?.value
            var out: [EventStamp] = []
            for try await (id, at) in try await connection.query("""
                SELECT event_id, occurred_at FROM event WHERE occurred_at >= \(query.from ?? Int64.min) AND occurred_at < \(query.to ?? Int64.max)
                  AND (\(dealerID)::text IS NULL OR dealer_id = \(dealerID) OR (kind = 'refund' AND refers_to IN (SELECT event_id FROM event WHERE dealer_id = \(dealerID))))
                  AND recorded > \(query.recordedAfter ?? Int64.min) AND recorded <= \(query.recordedUpTo ?? Int64.max)
                ORDER BY occurred_at, event_id
                """, logger: self.logger).decode((String, Int64).self) {
                out.append(EventStamp(eventID: id, occurredAt: at))
            }
            return out
        }
    }

    public func closedPeriod(_ period: String) async throws -> ClosedPeriod? {
        try await read("closed period", consistent: true) { connection in try await PostgresStore.closedPeriod(period, connection, self.logger) }
    }

    static func closedPeriod(_ period: String, _ connection: PostgresConnection, _ logger: Logger) async throws -> ClosedPeriod? {
        var found: ClosedPeriod?
        for try await row in try await connection.query("""
            SELECT closed_at, actor, rules_version, events_sha256, event_mark, audit_seq, audit_sha256, statement, signature
            FROM period_close WHERE period = \(period)
            """, logger: logger).decode((Int64, String, String, String, Int64, Int64, String, String, String).self) {
            found = ClosedPeriod(period: period, closedAt: row.0, actor: row.1, rulesVersion: row.2, eventsSHA256: row.3,
                                 mark: LedgerMark(events: row.4, auditSeq: row.5, auditSHA256: row.6), statement: row.7, signature: row.8, creditNotes: [])
        }
        guard let closed = found else { return nil }
        var notes: [CreditNote] = []
        for try await document in try await connection.query("SELECT document FROM credit_note WHERE period = \(period) ORDER BY number", logger: logger).decode(String.self) {
            notes.append(try PeriodRows.creditNote(document))
        }
        return ClosedPeriod(period: closed.period, closedAt: closed.closedAt, actor: closed.actor, rulesVersion: closed.rulesVersion,
                            eventsSHA256: closed.eventsSHA256, mark: closed.mark, statement: closed.statement, signature: closed.signature, creditNotes: notes)
    }

    public func keepStatementKey(kid: String, jwk: String, at now: Int64) async throws {
        try await write("statement key") { tx in
            try await tx.query("INSERT INTO statement_key (kid, jwk, first_used_at) VALUES (\(kid), \(jwk), \(now)) ON CONFLICT (kid) DO NOTHING")
        }
    }

    public func statementKeys() async throws -> [String] {
        try await read("statement keys") { connection -> [String] in
            var out: [String] = []
            for try await jwk in try await connection.query("SELECT jwk FROM statement_key ORDER BY first_used_at, kid", logger: self.logger).decode(String.self) {
                out.append(jwk)
            }
            return out
        }
    }

    public func firstEventAt() async throws -> Int64? {
        try await read("first event") { connection -> Int64? in
            for try await first in try await connection.query("SELECT MIN(occurred_at) FROM event", logger: self.logger).decode(Int64?.self) { return first }
            return nil
        }
    }

    public func closedRange() async throws -> (first: String, last: String)? {
        let range = try await read("closed periods") { connection -> [String]? in
            for try await row in try await connection.query("SELECT MIN(period), MAX(period) FROM period_close", logger: self.logger).decode((String?, String?).self) {
                if let first = row.0, let last = row.1 { return [first, last] }
            }
            return nil
        }
        return range.map { ($0[0], $0[1]) }
    }

    public func dealerParties() async throws -> [String: LegalParty] {
        try await read("dealer parties") { connection in
            var parties: [String: LegalParty] = [:]
            for try await (id, party) in try await connection.query("SELECT id, party FROM dealer WHERE party IS NOT NULL", logger: self.logger).decode((String, String).self) {
                parties[id] = try Dealer.party(json: party)
            }
            return parties
        }
    }

    public func latestCreditNote(dealer: String, currency: String) async throws -> String? {
        try await read("latest credit note") { connection in
            for try await number in try await connection.query("""
                SELECT number FROM credit_note WHERE dealer_id = \(dealer) AND currency = \(currency) AND kind = 'credit_note'
                ORDER BY year DESC, sequence DESC LIMIT 1
                """, logger: self.logger).decode(String.self) { return number }
            return nil
        }
    }

    public func pendingAdjustments(upTo now: Int64) async throws -> [Adjustment] {
        try await read("pending adjustments") { connection in
            var out: [Adjustment] = []
            for try await row in try await connection.query("""
                SELECT id, dealer_id, currency, amount_minor, reason, objection_id, created_at FROM adjustment
                WHERE settled_in IS NULL AND created_at <= \(now) ORDER BY created_at, id
                """, logger: self.logger).decode((String, String, String, Int64, String, String?, Int64).self) {
                out.append(Adjustment(id: row.0, dealerID: row.1, currency: row.2, amount: row.3, reason: row.4, objectionID: row.5, createdAt: row.6))
            }
            return out
        }
    }

    public func closePeriod(_ plan: ClosePlan, actor: String) async throws -> ClosedPeriod {
        try await write("period close", limit: PostgresStore.bulkTimeout) { tx in
            if let closed = try await PostgresStore.closedPeriod(plan.period, tx.connection, tx.logger) { return closed }
            var last: String?
            for try await value in try await tx.query("SELECT MAX(period) FROM period_close").decode(String?.self) { last = value }
            guard last == plan.previous else {
                throw StoreError(.periodOpen, "another close changed the closed periods meanwhile (last closed: \(last ?? "none")); close again")
            }
            var sequence: Int64 = 0
            for try await value in try await tx.query("SELECT COALESCE(MAX(sequence), 0)::BIGINT FROM credit_note WHERE year = \(plan.numberYear)").decode(Int64.self) {
                sequence = value
            }
            var numbered: [CreditNote] = []
            for note in plan.creditNotes {
                sequence += 1
                let document = note.numbered(CreditNote.number(prefix: plan.numberPrefix, year: plan.numberYear, sequence: sequence))
                let json = try PeriodRows.json(document)
                try await tx.query("""
                    INSERT INTO credit_note (number, period, dealer_id, currency, year, sequence, kind, total_minor, document)
                    VALUES (\(document.number), \(plan.period), \(document.dealerID), \(document.currency.code), \(plan.numberYear), \(sequence),
                            \(document.kind.rawValue), \(document.total), \(json))
                    """)
                numbered.append(document)
            }
            if let key = plan.signingKey {
                try await tx.query("INSERT INTO statement_key (kid, jwk, first_used_at) VALUES (\(key.kid), \(key.jwk), \(plan.closedAt)) ON CONFLICT (kid) DO NOTHING")
            }
            try await tx.query("""
                INSERT INTO period_close (period, closed_at, actor, rules_version, events_sha256, event_mark, audit_seq, audit_sha256, statement, signature)
                VALUES (\(plan.period), \(plan.closedAt), \(actor), \(plan.rulesVersion), \(plan.eventsSHA256), \(plan.mark.events),
                        \(plan.mark.auditSeq), \(plan.mark.auditSHA256), \(plan.statement), \(plan.signature))
                """)
            var start = 0
            while start < plan.lines.count {
                let chunk = plan.lines[start..<min(start + 2000, plan.lines.count)]
                let objects = chunk.enumerated().map { offset, line -> JSONValue in
                    func text(_ value: String) -> JSONValue { .string(value) }
                    func number(_ value: Int64) -> JSONValue { .string(String(value)) }
                    return .object(JSONObject(members: [
                        .init(name: "period", value: text(plan.period)), .init(name: "n", value: number(Int64(start + offset + 1))),
                        .init(name: "dealer_id", value: text(line.dealerID)), .init(name: "currency", value: text(line.currency)),
                        .init(name: "kind", value: text(line.kind.rawValue)), .init(name: "event_id", value: text(line.eventID)),
                        .init(name: "refers_to", value: text(line.refersTo)), .init(name: "occurred_at", value: number(line.occurredAt)),
                        .init(name: "vin", value: text(line.vin)), .init(name: "feature", value: text(line.feature)),
                        .init(name: "term", value: text(line.term)), .init(name: "channel", value: text(line.channel)),
                        .init(name: "net_minor", value: number(line.net)), .init(name: "rule_id", value: text(line.ruleID)),
                        .init(name: "rate_bps", value: number(line.rateBps)), .init(name: "share_minor", value: number(line.share)),
                        .init(name: "reason", value: text(line.reason)),
                    ]))
                }
                let document = JSONWriter.text(.array(objects))
                try await tx.query("INSERT INTO closed_line SELECT * FROM json_populate_recordset(NULL::closed_line, \(document)::json)")
                start += chunk.count
            }
            for id in plan.settledAdjustments {
                let changed = try await tx.count("UPDATE adjustment SET settled_in = \(plan.period) WHERE id = \(id) AND settled_in IS NULL RETURNING 1")
                guard changed == 1 else { throw StoreError(.periodOpen, "adjustment \(id) was settled meanwhile; close again") }
            }
            try await tx.audit(at: plan.closedAt, actor: actor, action: "period.close", subject: plan.period, details: PeriodRows.auditDetails(plan, numbered))
            return ClosedPeriod(period: plan.period, closedAt: plan.closedAt, actor: actor, rulesVersion: plan.rulesVersion,
                                eventsSHA256: plan.eventsSHA256, mark: plan.mark, statement: plan.statement, signature: plan.signature,
                                creditNotes: numbered)
        }
    }

    public func creditNotes(period: String?, dealer: String?) async throws -> [CreditNote] {
        try await read("credit notes") { connection in
            var notes: [CreditNote] = []
            for try await document in try await connection.query("""
                SELECT document FROM credit_note WHERE (\(period)::text IS NULL OR period = \(period)) AND (\(dealer)::text IS NULL OR dealer_id = \(dealer))
                ORDER BY year, sequence
                """, logger: self.logger).decode(String.self) {
                notes.append(try PeriodRows.creditNote(document))
            }
            return notes
        }
    }

    public func creditNote(_ number: String) async throws -> CreditNote? {
        try await read("credit note") { connection in
            for try await document in try await connection.query("SELECT document FROM credit_note WHERE number = \(number)", logger: self.logger).decode(String.self) {
                return try PeriodRows.creditNote(document)
            }
            return nil
        }
    }

    public func bookExtract(dealer: String, from: String, to: String) async throws -> [BookLine] {
        try await read("book extract", consistent: true, limit: PostgresStore.bulkTimeout) { connection in
            var lines: [BookLine] = []
            let rows = try await connection.query("""
                SELECT l.period, l.kind, l.dealer_id, l.currency, l.event_id, l.refers_to, l.occurred_at, l.vin, l.feature, l.term, l.channel,
                       l.net_minor, l.rule_id, l.rate_bps, l.share_minor, l.reason,
                       (SELECT MIN(a.seq) FROM audit a WHERE a.subject = CASE WHEN l.event_id LIKE 'act-%' THEN substr(l.event_id, 5) ELSE substr(l.refers_to, 5) END
                          AND a.action IN \(unescaped: PeriodRows.auditActions(eventID: "l.event_id"))) AS audit_seq
                FROM closed_line l WHERE l.dealer_id = \(dealer) AND l.period >= \(from) AND l.period <= \(to) ORDER BY l.period, l.n
                """, logger: self.logger)
            for try await row in rows {
                let c = row.makeRandomAccess()
                let line = ClosedLine(kind: ClosedLine.Kind(rawValue: try c["kind"].decode(String.self)) ?? .adjustment,
                                      dealerID: try c["dealer_id"].decode(String.self), currency: try c["currency"].decode(String.self),
                                      eventID: try c["event_id"].decode(String.self), refersTo: try c["refers_to"].decode(String.self),
                                      occurredAt: try c["occurred_at"].decode(Int64.self), vin: try c["vin"].decode(String.self),
                                      feature: try c["feature"].decode(String.self), term: try c["term"].decode(String.self),
                                      channel: try c["channel"].decode(String.self), net: try c["net_minor"].decode(Int64.self),
                                      ruleID: try c["rule_id"].decode(String.self), rateBps: try c["rate_bps"].decode(Int64.self),
                                      share: try c["share_minor"].decode(Int64.self), reason: try c["reason"].decode(String.self))
                lines.append(BookLine(period: try c["period"].decode(String.self), line: line, auditSeq: try c["audit_seq"].decode(Int64?.self)))
            }
            return lines
        }
    }

    public func raiseObjection(creditNote: String, dealer: String, eventID: String?, reason: String, actor: String, at now: Int64) async throws -> Objection {
        try await write("objection") { tx in
            guard try await tx.count("SELECT 1 FROM credit_note WHERE number = \(creditNote) AND dealer_id = \(dealer)") == 1 else {
                throw StoreError(.notFound, "no credit note \(creditNote) of dealer \(dealer)")
            }
            if let eventID {
                guard try await tx.count("""
                    SELECT 1 FROM closed_line l JOIN credit_note c ON c.period = l.period AND c.dealer_id = l.dealer_id AND c.currency = l.currency
                    WHERE c.number = \(creditNote) AND l.event_id = \(eventID) LIMIT 1
                    """) == 1 else { throw StoreError(.notFound, "credit note \(creditNote) has no line \(eventID)") }
            }
            let objection = Objection(id: PeriodRows.newID("obj"), creditNote: creditNote, dealerID: dealer, eventID: eventID, reason: reason,
                                      status: .open, raisedAt: now, raisedBy: actor, resolution: nil, resolvedAt: nil, resolvedBy: nil)
            try await tx.query("""
                INSERT INTO objection (id, credit_note, dealer_id, event_id, reason, status, raised_at, raised_by)
                VALUES (\(objection.id), \(creditNote), \(dealer), \(eventID), \(reason), 'open', \(now), \(actor))
                """)
            try await tx.audit(at: now, actor: actor, action: "objection.raise", subject: objection.id,
                               details: "credit_note=\(creditNote)\(eventID.map { " line=\($0)" } ?? "") reason=\(reason)")
            return objection
        }
    }

    public func objections(creditNote: String?, dealer: String?, status: Objection.Status?) async throws -> [Objection] {
        try await read("objections") { connection in
            try await PostgresStore.objections(connection, self.logger, """
                WHERE (\(creditNote)::text IS NULL OR credit_note = \(creditNote)) AND (\(dealer)::text IS NULL OR dealer_id = \(dealer))
                  AND (\(status?.rawValue)::text IS NULL OR status = \(status?.rawValue)) ORDER BY raised_at, id
                """)
        }
    }

    public func objection(_ id: String) async throws -> Objection? {
        try await read("objection") { connection in try await PostgresStore.objections(connection, self.logger, "WHERE id = \(id)").first }
    }

    static func objections(_ connection: PostgresConnection, _ logger: Logger, _ condition: PostgresQuery) async throws -> [Objection] {
        var query = PostgresQuery(unsafeSQL: "SELECT id, credit_note, dealer_id, event_id, reason, status, raised_at, raised_by, resolution, resolved_at, resolved_by FROM objection ")
        query.sql += condition.sql
        query.binds = condition.binds
        var out: [Objection] = []
        for try await row in try await connection.query(query, logger: logger)
            .decode((String, String, String, String?, String, String, Int64, String, String?, Int64?, String?).self) {
            out.append(Objection(id: row.0, creditNote: row.1, dealerID: row.2, eventID: row.3, reason: row.4, status: Objection.Status(rawValue: row.5) ?? .open,
                                 raisedAt: row.6, raisedBy: row.7, resolution: row.8, resolvedAt: row.9, resolvedBy: row.10))
        }
        return out
    }

    public func resolveObjection(_ id: String, _ decision: ObjectionDecision, actor: String, at now: Int64) async throws -> Objection {
        try await write("objection decision") { tx in
            guard let objection = try await PostgresStore.objections(tx.connection, tx.logger, "WHERE id = \(id) FOR UPDATE").first else {
                throw StoreError(.notFound, "no objection \(id)")
            }
            guard objection.status == .open else { throw StoreError(.objectionDecided, "objection \(id) was decided already (\(objection.status.rawValue))") }
            let (status, resolution, details) = try PeriodRows.decide(decision, objection)
            if case .adjust(let amount, let reason) = decision {
                try await tx.query("""
                    INSERT INTO adjustment (id, dealer_id, currency, amount_minor, reason, objection_id, created_at)
                    SELECT \(PeriodRows.newID("adj")), \(objection.dealerID), currency, \(amount), \("objection \(id): \(reason)"), \(id), \(now)
                    FROM credit_note WHERE number = \(objection.creditNote)
                    """)
            }
            try await tx.query("UPDATE objection SET status = \(status.rawValue), resolution = \(resolution), resolved_at = \(now), resolved_by = \(actor) WHERE id = \(id)")
            try await tx.audit(at: now, actor: actor, action: "objection.\(status.rawValue)", subject: id, details: details)
            return Objection(id: id, creditNote: objection.creditNote, dealerID: objection.dealerID, eventID: objection.eventID, reason: objection.reason,
                             status: status, raisedAt: objection.raisedAt, raisedBy: objection.raisedBy, resolution: resolution, resolvedAt: now, resolvedBy: actor)
        }
    }
}
