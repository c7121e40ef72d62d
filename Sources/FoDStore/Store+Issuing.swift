import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDRevenue
import Foundation

extension SQLStore {
    /// Records an entitlement issued directly by the OEM backend (no sale: no event), with its audit entry.
    public func recordIssued(_ issued: IssuedToken<EntitlementClaims>, actor: String, at now: Int64) async throws {
        let claims = issued.claims
        try await write { db in
            try Self.insertEntitlements([issued], db)
            try db.appendAudit(at: now, actor: actor, action: "entitlement.issue", subject: claims.id.value,
                               details: "vin=\(claims.vin) feature=\(claims.feature) term=\(claims.term)")
        }
    }

    public func entitlementKeyIDs() async throws -> [String] {
        // Rows stored before the key id was kept get it first, a page at a time (once, after the upgrade).
        while try await write("key ids", { db in
            let rows = try SQLRow.fetchAll(db, sql: "SELECT id, token FROM entitlement WHERE kid IS NULL AND revoked_at IS NULL LIMIT 1000")
            for row in rows {
                try db.execute(sql: "UPDATE entitlement SET kid = ? WHERE id = ?", arguments: [StoreRows.keyID(of: row["token"]) ?? "", row["id"] as String])
            }
            return !rows.isEmpty
        }) {}
        // Each distinct key id with one index lookup (a loose index scan, which both databases run as written).
        return try await read("key ids") { db in
            try String.fetchAll(db, sql: """
                WITH RECURSIVE k (kid) AS (
                  SELECT MIN(kid) FROM entitlement WHERE revoked_at IS NULL
                  UNION ALL SELECT (SELECT MIN(e.kid) FROM entitlement e WHERE e.revoked_at IS NULL AND e.kid > k.kid) FROM k WHERE k.kid IS NOT NULL)
                SELECT kid FROM k WHERE kid IS NOT NULL
                """)
        }
    }

    public func liveEntitlements(signedBy kids: [String], after: EntitlementID?, limit: Int, at now: Int64) async throws -> [StoredEntitlement] {
        guard !kids.isEmpty else { return [] }
        return try await read { db in
            try SQLRow.fetchAll(db, sql: """
                SELECT * FROM entitlement WHERE kid IN (\(SQLText.list(kids.count))) AND id > ? AND revoked_at IS NULL
                  AND (expires_at IS NULL OR expires_at > ?) ORDER BY id LIMIT ?
                """, arguments: SQLArguments(kids) + [after?.value ?? "", now, limit]).map(Self.storedEntitlement)
        }
    }

    /// Replaces a token if it is still `old`, with its audit entry.
    public func reissue(_ id: EntitlementID, token: String, replacing old: String, details: String, actor: String, at now: Int64) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "UPDATE entitlement SET token = ?, kid = ? WHERE id = ? AND token = ?",
                           arguments: [token, StoreRows.keyID(of: token), id.value, old])
            guard db.changesCount == 1 else { return false }
            try db.appendAudit(at: now, actor: actor, action: "entitlement.reissue", subject: id.value, details: details)
            return true
        }
    }

    /// Revokes an entitlement with a reason; the next manifest drops it.
    /// - Throws: ``StoreError`` `not_found`, or `conflict` when it is already revoked.
    public func revoke(entitlement id: EntitlementID, reason: String, actor: String, at now: Int64) async throws {
        try await write { db in try Self.revoke(db, id, reason: reason, actor: actor, at: now) }
    }

    static func revoke(_ db: any SQLConnection, _ id: EntitlementID, reason: String, actor: String, at now: Int64) throws {
        guard let row = try SQLRow.fetchOne(db, sql: "SELECT revoked_at FROM entitlement WHERE id = ?", arguments: [id.value]) else {
            throw StoreError(.notFound, "no entitlement \(id)")
        }
        guard (row["revoked_at"] as Int64?) == nil else { throw StoreError(.conflict, "entitlement \(id) is already revoked") }
        try db.execute(sql: "UPDATE entitlement SET revoked_at = ?, revoke_reason = ? WHERE id = ?", arguments: [now, reason, id.value])
        try db.appendAudit(at: now, actor: actor, action: "entitlement.revoke", subject: id.value, details: "reason=\(reason)")
    }

    /// Refunds an activation: records the refund event (which `fod report` turns into a clawback
    /// when it falls in the window) and revokes the entitlement, in one transaction.
    /// - Parameter reason: the revocation's reason and the audit entry's action (a withdrawal is a refund).
    /// - Throws: ``StoreError`` `not_found` for an unknown activation, `conflict` when already refunded.
    public func refund(activation id: EntitlementID, reason: RefundReason = .refund, note: String? = nil, actor: String, at now: Int64) async throws {
        try await write { db in
            guard try SQLRow.fetchOne(db, sql: "SELECT 1 FROM event WHERE event_id = ? AND kind = 'activation'", arguments: [StoreRows.activationEventID(id)]) != nil else {
                throw StoreError(.notFound, "no activation \(id)")
            }
            guard try SQLRow.fetchOne(db, sql: "SELECT 1 FROM event WHERE event_id = ?", arguments: [StoreRows.refundEventID(id)]) == nil else {
                throw StoreError(.conflict, "activation \(id) is already refunded")
            }
            try db.execute(sql: "INSERT INTO event (event_id, occurred_at, kind, refers_to) VALUES (?, ?, 'refund', ?)",
                           arguments: [StoreRows.refundEventID(id), now, StoreRows.activationEventID(id)])
            try db.appendAudit(at: now, actor: actor, action: reason.auditAction, subject: id.value, details: note.map { "note=\($0)" } ?? "")
            let revoked = try SQLRow.fetchOne(db, sql: "SELECT revoked_at FROM entitlement WHERE id = ?", arguments: [id.value])
            if let revoked, (revoked["revoked_at"] as Int64?) == nil {
                try Self.revoke(db, id, reason: reason.rawValue, actor: actor, at: now)
            }
        }
    }

    /// The sale of an entitlement — its activation event, consent and refund — or `nil` when it
    /// was not sold (issued directly).
    public func sale(of id: EntitlementID) async throws -> Sale? {
        try await read { db in
            guard let row = try SQLRow.fetchOne(db, sql: """
                SELECT e.occurred_at, e.channel, e.dealer_id, e.market, c.terms_version, c.immediate_start, c.acknowledged_at,
                  EXISTS (SELECT 1 FROM event r WHERE r.event_id = ?) AS refunded,
                  EXISTS (SELECT 1 FROM renewal n WHERE n.next_id = ?) AS renewal
                FROM event e LEFT JOIN consent c ON c.entitlement_id = ? WHERE e.event_id = ? AND e.kind = 'activation'
                """, arguments: [StoreRows.refundEventID(id), id.value, id.value, StoreRows.activationEventID(id)]) else { return nil }
            return try StoreRows.sale(id, soldAt: row["occurred_at"], channel: row["channel"], dealer: row["dealer_id"], market: row["market"],
                                      termsVersion: row["terms_version"], immediateStart: row["immediate_start"],
                                      acknowledgedAt: row["acknowledged_at"], refunded: row["refunded"], renewal: row["renewal"])
        }
    }

    /// Ids of the entitlements revoked at or after `since` (Unix seconds).
    public func revokedIDs(since: Int64) async throws -> [EntitlementID] {
        try await fetch("revocations read", sql: "SELECT id FROM entitlement WHERE revoked_at IS NOT NULL AND revoked_at >= ?", arguments: [since])
            .map { try EntitlementID($0[0] as String) }
    }

    /// What a manifest of `vin` is made from, in one read transaction: `nil` when the vehicle is
    /// not registered, else its entitlements and the version last given with its content digest.
    public func manifestSnapshot(of vin: VIN) async throws -> ManifestSnapshot? {
        // One statement (one moment, one round trip): the vehicle, its last version, its entitlements.
        let rows = try await fetch("manifest read", sql: """
            SELECT e.*, m.version AS m_version, m.content_sha256 AS m_digest, m.issued_at AS m_issued FROM vehicle v
            LEFT JOIN manifest_version m ON m.vin = v.vin LEFT JOIN entitlement e ON e.vin = v.vin
            WHERE v.vin = ? ORDER BY e.issued_at DESC, e.id DESC
            """, arguments: [vin.value])
        guard let first = rows.first else { return nil }
        let version: Int64? = first["m_version"]
        let entitlements = try rows.filter { ($0["id"] as String?) != nil }.map(Self.storedEntitlement)
        return ManifestSnapshot(entitlements: entitlements, last: version.map { (version: $0, digest: first["m_digest"], issuedAt: first["m_issued"]) })
    }

    public func manifestVersions(_ requests: [ManifestVersionRequest], at now: Int64) async throws -> [ManifestVersion] {
        try await transaction(.groupCommit, "manifest versions") { db in try Self.manifestVersions(requests, db, at: now) }
    }

    /// The versions for a group's content in a write transaction, with two statements whatever
    /// the group's size: one read of the vehicles' last versions, one upsert of the new ones. A
    /// vehicle keeps its last version when the digest is the same and it is recent enough, else
    /// gets the next (with its audit entry); one named twice gets its versions in turn.
    static func manifestVersions(_ requests: [ManifestVersionRequest], _ db: any SQLConnection, at now: Int64) throws -> [ManifestVersion] {
        var last: [String: (version: Int64, digest: String, issuedAt: Int64)] = [:]
        for chunk in Array(Set(requests.map(\.vin.value))).chunks(of: 500) {
            for row in try SQLRow.fetchAll(db, sql: "SELECT vin, version, content_sha256, issued_at FROM manifest_version WHERE vin IN (\(SQLText.list(chunk.count)))",
                                           arguments: SQLArguments(chunk)) {
                last[row["vin"]] = (row["version"], row["content_sha256"], row["issued_at"])
            }
        }
        var changed: Set<String> = []
        var versions: [ManifestVersion] = []
        for request in requests {
            let vin = request.vin.value
            if let current = last[vin], current.digest == request.digest, current.issuedAt >= request.reusableSince {
                versions.append(ManifestVersion(version: current.version, issuedAt: current.issuedAt))
                continue
            }
            let next = (last[vin]?.version ?? 0) + 1
            changed.insert(vin)
            last[vin] = (next, request.digest, now)
            try db.appendAudit(at: now, actor: "system", action: "manifest.version", subject: vin, details: "version=\(next)")
            versions.append(ManifestVersion(version: next, issuedAt: now))
        }
        for chunk in Array(changed).chunks(of: 500) {
            var arguments = SQLArguments([])
            for vin in chunk {
                let state = last[vin]!
                arguments += [vin, state.version, state.digest, state.issuedAt]
            }
            try db.enqueue(sql: """
                INSERT INTO manifest_version (vin, version, content_sha256, issued_at) VALUES \(SQLText.rows(chunk.count, columns: 4))
                ON CONFLICT (vin) DO UPDATE SET version = excluded.version, content_sha256 = excluded.content_sha256, issued_at = excluded.issued_at
                """, arguments: arguments)
        }
        return versions
    }

    /// The events a query selects as the events export, in blocks: page after page on the long
    /// lane (each a short read, handed over before the next is read, so a slow reader holds no
    /// snapshot and a large export is never held whole), bounded by the ledger's mark taken
    /// first — events are only ever added, so the pages together are the export of one moment.
    public func exportEvents(_ query: EventQuery, write: @escaping @Sendable ([UInt8]) async throws -> Void) async throws {
        try await exportEvents(query, pageSize: EventExportCursor.pageSize, write: write)
    }

    /// The export in pages of `pageSize` events.
    public func exportEvents(_ query: EventQuery, pageSize: Int, write: @escaping @Sendable ([UInt8]) async throws -> Void) async throws {
        let query = try await atLedgerMark(query)
        var after: EventExportCursor?
        repeat {
            try Task.checkCancellation()
            let from = after
            let page = try await transaction(.report, "events export") { db in try Self.exportPage(query, after: from, limit: pageSize, db) }
            try await write(page.bytes)
            after = page.next
        } while after != nil
    }

    /// `query` bounded by the ledger's position now: the pages read after it are one moment's export.
    public func atLedgerMark(_ query: EventQuery) async throws -> EventQuery {
        var bounded = query
        bounded.recordedUpTo = min(query.recordedUpTo ?? Int64.max, try await ledgerMark().events)
        return bounded
    }

    /// One page of the export after `after` (`nil`: the first, with the header row); `next` is
    /// where the following page starts, `nil` after the last.
    static func exportPage(_ query: EventQuery, after: EventExportCursor?, limit: Int, _ db: any SQLConnection) throws
        -> (bytes: [UInt8], next: EventExportCursor?) {
        do {
            var out = CSVWriter(capacity: 1 << 20)
            if after == nil { out.row(EventColumn.allCases.map(\.name)) }
            // One dealer's events: its activations, and the refunds of its activations.
            let rows = try SQLRow.fetchAll(db, sql: """
                SELECT * FROM event WHERE occurred_at >= ?1 AND occurred_at < ?2
                  AND (CAST(?3 AS TEXT) IS NULL OR dealer_id = ?3 OR (kind = 'refund' AND refers_to IN (SELECT event_id FROM event WHERE dealer_id = ?3)))
                  AND recorded > ?4 AND recorded <= ?5 AND (CAST(?6 AS BIGINT) IS NULL OR (occurred_at, event_id) > (?6, ?7))
                ORDER BY occurred_at, event_id LIMIT ?8
                """, arguments: [query.from ?? Int64.min, query.to ?? Int64.max, query.dealer?.value, query.recordedAfter ?? Int64.min,
                                 query.recordedUpTo ?? Int64.max, after?.occurredAt, after?.eventID ?? "", limit])
            var count = 0, last: EventExportCursor?
            for row in rows {
                // The export's columns are the events file's (``EventColumn``), in its order; the
                // table's columns have the same names.
                out.row(StoreRows.exportRow({ row[$0.name] as String? }, occurredAt: row["occurred_at"], gross: row["gross_minor"], vat: row["vat_bps"]))
                count += 1
                last = EventExportCursor(occurredAt: row["occurred_at"], eventID: row["event_id"])
            }
            return (out.take(), count == limit ? last : nil)
        }
    }

}

/// Where an export page ends: the last event's time and id.
public struct EventExportCursor: Sendable {
    let occurredAt: Int64
    let eventID: String

    /// How many events one export page holds.
    public static let pageSize = 20_000
}
