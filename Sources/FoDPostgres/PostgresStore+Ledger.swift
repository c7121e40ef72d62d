import FoDCore
import FoDEntitlements
import FoDRevenue
import FoDStore
import NIOCore
import PostgresNIO

extension PostgresStore {
    static let entitlementColumns = "id, issuer, vin, feature, term, dealer_id, issued_at, not_before, expires_at, token, revoked_at, revoke_reason"

    /// Reads entitlement rows selected with ``entitlementColumns``.
    static func entitlements(_ rows: PostgresRowSequence) async throws -> [StoredEntitlement] {
        var result: [StoredEntitlement] = []
        for try await (id, issuer, vin, feature, term, dealer, issuedAt, notBefore, expiresAt, token, revokedAt, reason) in rows
            .decode((String, String, String, String, String, String?, Int64, Int64, Int64?, String, Int64?, String?).self) {
            result.append(try StoredEntitlement.fromColumns(id: id, issuer: issuer, vin: vin, feature: feature, term: term, dealer: dealer,
                                                            issuedAt: issuedAt, notBefore: notBefore, expiresAt: expiresAt, token: token,
                                                            revokedAt: revokedAt, revokeReason: reason))
        }
        return result
    }

    static func entitlements(_ vin: VIN, _ connection: PostgresConnection, _ logger: Logger) async throws -> [StoredEntitlement] {
        try await entitlements(try await connection.query(
            "SELECT \(unescaped: entitlementColumns) FROM entitlement WHERE vin = \(vin.value) ORDER BY issued_at DESC, id DESC", logger: logger))
    }

    public func entitlements(of vin: VIN) async throws -> [StoredEntitlement] {
        try await read("entitlements read") { connection in try await PostgresStore.entitlements(vin, connection, self.logger) }
    }

    public func entitlement(_ id: EntitlementID) async throws -> StoredEntitlement? {
        try await read("entitlement read") { connection in
            try await PostgresStore.entitlements(try await connection.query(
                "SELECT \(unescaped: PostgresStore.entitlementColumns) FROM entitlement WHERE id = \(id.value)", logger: self.logger)).first
        }
    }

    public func idempotentResponse(principal: String, key: String, requestHash: RequestHash) async throws -> IdempotentResponse? {
        try await read("idempotency read") { connection in
            let stored = try await PostgresStore.idempotent([(principal, key)], connection, self.logger)
            return try stored[IdempotencyKey(principal: principal, key: key)].map { try $0.response(for: requestHash, key: key) }
        }
    }

    /// The stored answers of several keys.
    static func idempotent(_ keys: [(principal: String, key: String)], _ connection: PostgresConnection, _ logger: Logger) async throws
        -> [IdempotencyKey: StoredAnswer] {
        var stored: [IdempotencyKey: StoredAnswer] = [:]
        let rows = try await connection.query("""
            SELECT i.principal, i.key, i.request_sha256, i.status, i.body FROM idempotency i
            JOIN unnest(\(keys.map(\.principal))::text[], \(keys.map(\.key))::text[]) AS k (principal, key) ON i.principal = k.principal AND i.key = k.key
            """, logger: logger)
        for try await (principal, key, hash, status, body) in rows.decode((String, String, String, Int64, ByteBuffer).self) {
            stored[IdempotencyKey(principal: principal, key: key)] = StoredAnswer(requestHash: hash,
                                                                                 response: IdempotentResponse(status: Int(status), body: Array(buffer: body)))
        }
        return stored
    }

    /// Records a group of activations in one transaction of three statements, whatever the group's
    /// size: the write lock — only then is the group taken, so a transaction waiting for the lock
    /// takes everything that arrived while the one before it wrote; one read of the group's stored
    /// keys, its active features and the audit chain's head; each record decided in turn (a key or
    /// a vehicle and feature named twice in the group replays or conflicts with the first); one
    /// statement inserting the entitlements, events, keys and audit entries. With `BEGIN` and
    /// `COMMIT` that is five round trips — each costs both ends about as much as the rows it
    /// carries, so they are what the group commit saves.
    public func recordActivations(_ group: PendingGroup<ActivationRecord>) async throws -> [Result<RecordedActivation, StoreError>] {
        try await write("activations") { tx in
            let (records, now) = group.take()
            guard !records.isEmpty else { return [] }
            var stored: [IdempotencyKey: StoredAnswer] = [:]
            var active: Set<VehicleFeature> = []
            // Extensions: vehicle and feature pairs that clash (permanent, or extended already),
            // and the extended entitlements still live.
            var clashing: Set<VehicleFeature> = []
            var liveExtended: Set<String> = []
            var head = (seq: Int64(0), hash: AuditChain.genesisHash)
            let claims = records.map(\.activation.entitlement.claims)
            let extensions = records.filter { $0.activation.extends != nil }
            let extensionClaims = extensions.map(\.activation.entitlement.claims)
            let rows = try await tx.query("""
                SELECT 0::int4, i.principal, i.key, i.request_sha256, i.status, i.body FROM idempotency i
                JOIN unnest(\(records.map(\.idempotencyScope))::text[], \(records.map(\.idempotencyKey))::text[]) AS k (principal, key)
                  ON i.principal = k.principal AND i.key = k.key
                UNION ALL
                SELECT DISTINCT 1::int4, e.vin, e.feature, NULL::text, NULL::bigint, NULL::bytea FROM entitlement e
                JOIN unnest(\(claims.map(\.vin.value))::text[], \(claims.map(\.feature.value))::text[]) AS q (vin, feature) ON e.vin = q.vin AND e.feature = q.feature
                WHERE e.revoked_at IS NULL AND e.not_before <= \(now) AND (e.expires_at IS NULL OR e.expires_at > \(now))
                UNION ALL
                (SELECT 2::int4, sha256, NULL::text, NULL::text, seq, NULL::bytea FROM audit ORDER BY seq DESC LIMIT 1)
                UNION ALL
                SELECT DISTINCT 3::int4, e.vin, e.feature, NULL::text, NULL::bigint, NULL::bytea FROM entitlement e
                JOIN unnest(\(extensionClaims.map(\.vin.value))::text[], \(extensionClaims.map(\.feature.value))::text[], \(extensionClaims.map(\.notBefore))::bigint[],
                            \(extensions.map { $0.activation.extends?.value ?? "" })::text[]) AS x (vin, feature, start, extends)
                  ON e.vin = x.vin AND e.feature = x.feature
                WHERE e.id <> x.extends AND e.revoked_at IS NULL AND (e.expires_at IS NULL OR e.expires_at > \(now))
                  AND (e.expires_at IS NULL OR e.not_before >= x.start)
                UNION ALL
                SELECT 4::int4, id, NULL::text, NULL::text, NULL::bigint, NULL::bytea FROM entitlement
                WHERE id = ANY(\(extensions.map { $0.activation.extends?.value ?? "" })::text[]) AND revoked_at IS NULL
                """)
            for try await (kind, first, second, hash, number, body) in rows.decode((Int32, String, String?, String?, Int64?, ByteBuffer?).self) {
                switch kind {
                case 0:
                    stored[IdempotencyKey(principal: first, key: second ?? "")] = StoredAnswer(
                        requestHash: hash ?? "", response: IdempotentResponse(status: Int(number ?? 0), body: body.map { Array(buffer: $0) } ?? []))
                case 1: active.insert(VehicleFeature(vin: first, feature: second ?? ""))
                case 3: clashing.insert(VehicleFeature(vin: first, feature: second ?? ""))
                case 4: liveExtended.insert(first)
                default: head = (number ?? 0, first)
                }
            }
            tx.startAudit(after: head)
            var results: [Result<RecordedActivation, StoreError>] = []
            var new: [ActivationRecord] = []
            for record in records {
                let key = IdempotencyKey(principal: record.idempotencyScope, key: record.idempotencyKey)
                if let previous = stored[key] {
                    do { results.append(.success(RecordedActivation(response: try previous.response(for: record.requestHash, key: record.idempotencyKey), created: false))) }
                    catch let error as StoreError { results.append(.failure(error)) }
                    continue
                }
                let claims = record.activation.entitlement.claims
                let pair = VehicleFeature(vin: claims.vin.value, feature: claims.feature.value)
                if let extended = record.activation.extends {
                    guard !clashing.contains(pair), liveExtended.contains(extended.value) else {
                        results.append(.failure(StoreError(.conflict, "\(claims.feature) on \(claims.vin) was extended or changed meanwhile")))
                        continue
                    }
                    clashing.insert(pair)
                } else if active.contains(pair) {
                    results.append(.failure(StoreError(.conflict, "\(claims.feature) is already active on \(claims.vin)")))
                    continue
                }
                stored[key] = StoredAnswer(requestHash: record.requestHash.stored, response: record.response)
                if claims.notBefore <= now, claims.expiresAt.map({ $0 > now }) ?? true { active.insert(pair) }
                new.append(record)
                results.append(.success(RecordedActivation(response: record.response, created: true)))
                try await tx.audit(at: now, actor: record.principal.actor, action: "activation.create", subject: claims.id.value,
                                   details: StoreRows.activationDetails(record.activation))
            }
            guard !new.isEmpty else { return results }
            let entitlements = new.map(\.activation.entitlement.claims)
            let ids = entitlements.map(\.id.value), vins = entitlements.map(\.vin.value), features = entitlements.map(\.feature.value)
            let terms = entitlements.map(\.term.rawValue), dealers = entitlements.map { $0.dealer?.value ?? "" }
            let issued = entitlements.map(\.issuedAt), starts = entitlements.map(\.notBefore)
            let ends = entitlements.map { $0.expiresAt ?? 0 }, hasEnd = entitlements.map { $0.expiresAt != nil }
            let activations = new.map(\.activation)
            let audit = tx.takeAudit()
            // Data-changing WITH clauses all run, and the foreign keys are checked at the statement's end.
            try await tx.query("""
                WITH new_entitlements AS (
                  INSERT INTO entitlement (id, issuer, vin, feature, term, dealer_id, issued_at, not_before, expires_at, token)
                  SELECT id, issuer, vin, feature, term, NULLIF(dealer, ''), issued, start, CASE WHEN has_end THEN finish END, token
                  FROM unnest(\(ids)::text[], \(entitlements.map(\.issuer.value))::text[], \(vins)::text[], \(features)::text[], \(terms)::text[],
                              \(dealers)::text[], \(issued)::bigint[], \(starts)::bigint[], \(ends)::bigint[], \(hasEnd)::bool[],
                              \(new.map(\.activation.entitlement.token))::text[])
                    AS r (id, issuer, vin, feature, term, dealer, issued, start, finish, has_end, token)
                ), new_events AS (
                  INSERT INTO event (event_id, occurred_at, kind, refers_to, vin, feature, term, channel, dealer_id, market, currency, gross_minor, vat_bps, entitlement_id)
                  SELECT event_id, occurred, 'activation', NULL, vin, feature, term, channel, NULLIF(dealer, ''), market, currency, gross, vat, id
                  FROM unnest(\(entitlements.map { StoreRows.activationEventID($0.id) })::text[], \(issued)::bigint[], \(vins)::text[], \(features)::text[],
                              \(terms)::text[], \(activations.map(\.channel))::text[], \(dealers)::text[], \(activations.map(\.market.code))::text[],
                              \(activations.map(\.gross.currency.code))::text[], \(activations.map(\.gross.minor))::bigint[], \(activations.map(\.vat.value))::bigint[],
                              \(ids)::text[])
                    AS r (event_id, occurred, vin, feature, term, channel, dealer, market, currency, gross, vat, id)
                ), new_keys AS (
                  INSERT INTO idempotency (principal, key, request_sha256, status, body, created_at)
                  SELECT principal, key, hash, status, body, \(now)
                  FROM unnest(\(new.map(\.idempotencyScope))::text[], \(new.map(\.idempotencyKey))::text[], \(new.map(\.requestHash.stored))::text[],
                              \(new.map { Int64($0.response.status) })::bigint[], \(new.map { ByteBuffer(bytes: $0.response.body) })::bytea[])
                    AS r (principal, key, hash, status, body)
                ), new_consents AS (
                  INSERT INTO consent (entitlement_id, terms_version, immediate_start, acknowledged_at, recorded_at)
                  SELECT id, CASE WHEN has_terms THEN terms END, immediate, CASE WHEN has_ack THEN ack END, \(now)
                  FROM unnest(\(ids)::text[], \(activations.map { $0.consent.termsVersion ?? "" })::text[], \(activations.map { $0.consent.termsVersion != nil })::bool[],
                              \(activations.map(\.consent.immediateStart))::bool[], \(activations.map { $0.consent.acknowledgedAt ?? 0 })::bigint[],
                              \(activations.map { $0.consent.acknowledgedAt != nil })::bool[])
                    AS r (id, terms, has_terms, immediate, ack, has_ack)
                )
                INSERT INTO audit (seq, at, actor, action, subject, details, prev_sha256, sha256)
                SELECT * FROM unnest(\(audit.map(\.seq))::bigint[], \(audit.map(\.at))::bigint[], \(audit.map(\.actor))::text[],
                  \(audit.map(\.action))::text[], \(audit.map(\.subject))::text[], \(audit.map(\.details))::text[],
                  \(audit.map(\.previousHash))::text[], \(audit.map(\.hash))::text[])
                """)
            // The events, after the statement that wrote their entries (it cannot see its own rows).
            if let first = audit.first { try await tx.outbox(after: first.seq - 1) }
            return results
        }
    }

    public func activationCount() async throws -> Int {
        try await read("activation count") { connection in
            for try await count in try await connection.query("SELECT count(*) FROM event WHERE kind = 'activation'", logger: self.logger).decode(Int64.self) {
                return Int(count)
            }
            return 0
        }
    }

    public func recordIssued(_ issued: IssuedToken<EntitlementClaims>, actor: String, at now: Int64) async throws {
        let claims = issued.claims
        try await write("entitlement issue") { tx in
            try await tx.query("""
                INSERT INTO entitlement (id, issuer, vin, feature, term, dealer_id, issued_at, not_before, expires_at, token)
                VALUES (\(claims.id.value), \(claims.issuer.value), \(claims.vin.value), \(claims.feature.value), \(claims.term.rawValue), \(claims.dealer?.value),
                        \(claims.issuedAt), \(claims.notBefore), \(claims.expiresAt), \(issued.token))
                """)
            try await tx.audit(at: now, actor: actor, action: "entitlement.issue", subject: claims.id.value,
                               details: "vin=\(claims.vin) feature=\(claims.feature) term=\(claims.term)")
        }
    }

    public func liveEntitlements(after: EntitlementID?, limit: Int, at now: Int64) async throws -> [StoredEntitlement] {
        try await read("live entitlements read") { connection in
            try await PostgresStore.entitlements(try await connection.query("""
                SELECT \(unescaped: PostgresStore.entitlementColumns) FROM entitlement
                WHERE id > \(after?.value ?? "") AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > \(now)) ORDER BY id LIMIT \(Int64(limit))
                """, logger: self.logger))
        }
    }

    public func reissue(_ id: EntitlementID, token: String, replacing old: String, details: String, actor: String, at now: Int64) async throws -> Bool {
        try await write("entitlement reissue") { tx in
            guard try await tx.count("UPDATE entitlement SET token = \(token) WHERE id = \(id.value) AND token = \(old) RETURNING 1") == 1 else { return false }
            try await tx.audit(at: now, actor: actor, action: "entitlement.reissue", subject: id.value, details: details)
            return true
        }
    }

    public func revoke(entitlement id: EntitlementID, reason: String, actor: String, at now: Int64) async throws {
        try await write("revoke") { tx in try await PostgresStore.revoke(id, reason: reason, actor: actor, at: now, tx) }
    }

    static func revoke(_ id: EntitlementID, reason: String, actor: String, at now: Int64, _ tx: WriteTransaction) async throws {
        var found: Int64?? = nil
        for try await revokedAt in try await tx.query("SELECT revoked_at FROM entitlement WHERE id = \(id.value)").decode(Int64?.self) { found = .some(revokedAt) }
        guard let revokedAt = found else { throw StoreError(.notFound, "no entitlement \(id)") }
        guard revokedAt == nil else { throw StoreError(.conflict, "entitlement \(id) is already revoked") }
        try await tx.query("UPDATE entitlement SET revoked_at = \(now), revoke_reason = \(reason) WHERE id = \(id.value)")
        try await tx.audit(at: now, actor: actor, action: "entitlement.revoke", subject: id.value, details: "reason=\(reason)")
    }

    public func refund(activation id: EntitlementID, reason: RefundReason, note: String?, actor: String, at now: Int64) async throws {
        try await write("refund") { tx in
            guard try await tx.count("SELECT 1 FROM event WHERE event_id = \(StoreRows.activationEventID(id)) AND kind = 'activation'") == 1 else {
                throw StoreError(.notFound, "no activation \(id)")
            }
            guard try await tx.count("SELECT 1 FROM event WHERE event_id = \(StoreRows.refundEventID(id))") == 0 else {
                throw StoreError(.conflict, "activation \(id) is already refunded")
            }
            try await tx.query("INSERT INTO event (event_id, occurred_at, kind, refers_to) VALUES (\(StoreRows.refundEventID(id)), \(now), 'refund', \(StoreRows.activationEventID(id)))")
            try await tx.audit(at: now, actor: actor, action: reason.auditAction, subject: id.value, details: note.map { "note=\($0)" } ?? "")
            if try await tx.count("SELECT 1 FROM entitlement WHERE id = \(id.value) AND revoked_at IS NULL") == 1 {
                try await PostgresStore.revoke(id, reason: reason.rawValue, actor: actor, at: now, tx)
            }
        }
    }

    public func sale(of id: EntitlementID) async throws -> Sale? {
        try await read("sale read") { connection in
            let rows = try await connection.query("""
                SELECT e.occurred_at, e.channel, e.dealer_id, e.market, c.terms_version, c.immediate_start, c.acknowledged_at,
                  EXISTS (SELECT 1 FROM event r WHERE r.event_id = \(StoreRows.refundEventID(id))),
                  EXISTS (SELECT 1 FROM renewal n WHERE n.next_id = \(id.value))
                FROM event e LEFT JOIN consent c ON c.entitlement_id = \(id.value)
                WHERE e.event_id = \(StoreRows.activationEventID(id)) AND e.kind = 'activation'
                """, logger: self.logger)
            for try await (soldAt, channel, dealer, market, terms, immediate, acknowledged, refunded, renewal) in rows
                .decode((Int64, String?, String?, String?, String?, Bool?, Int64?, Bool, Bool).self) {
                return try StoreRows.sale(id, soldAt: soldAt, channel: channel, dealer: dealer, market: market, termsVersion: terms,
                                          immediateStart: immediate, acknowledgedAt: acknowledged, refunded: refunded, renewal: renewal)
            }
            return nil
        }
    }

    public func revokedIDs(since: Int64) async throws -> [EntitlementID] {
        try await read("revocations read") { connection in
            var ids: [EntitlementID] = []
            for try await id in try await connection.query(
                "SELECT id FROM entitlement WHERE revoked_at IS NOT NULL AND revoked_at >= \(since)", logger: self.logger).decode(String.self) {
                ids.append(try StoreRows.stored { try EntitlementID(id) })
            }
            return ids
        }
    }

    /// Two statements, no transaction: the vehicle with its last version, then its entitlements.
    /// Should they disagree (a booking between them), the content's digest differs from the last
    /// version's and the group commit decides again under the write lock.
    public func manifestSnapshot(of vin: VIN) async throws -> ManifestSnapshot? {
        try await read("manifest read") { connection in
            var found = false
            var last: (version: Int64, digest: String, issuedAt: Int64)?
            for try await (version, digest, issuedAt) in try await connection.query("""
                SELECT m.version, m.content_sha256, m.issued_at FROM vehicle v LEFT JOIN manifest_version m ON m.vin = v.vin WHERE v.vin = \(vin.value)
                """, logger: self.logger).decode((Int64?, String?, Int64?).self) {
                found = true
                if let version, let digest, let issuedAt { last = (version, digest, issuedAt) }
            }
            guard found else { return nil }
            return ManifestSnapshot(entitlements: try await PostgresStore.entitlements(vin, connection, self.logger), last: last)
        }
    }

    public func manifestVersions(_ requests: [ManifestVersionRequest], at now: Int64) async throws -> [ManifestVersion] {
        guard !requests.isEmpty else { return [] }
        return try await write("manifest versions") { tx in
            // The group's last versions in one read; then each request in turn.
            var last: [String: (version: Int64, digest: String, issuedAt: Int64)] = [:]
            for try await (vin, version, digest, issuedAt) in try await tx.query("""
                SELECT vin, version, content_sha256, issued_at FROM manifest_version WHERE vin = ANY(\(requests.map(\.vin.value))::text[])
                """).decode((String, Int64, String, Int64).self) {
                last[vin] = (version, digest, issuedAt)
            }
            var versions: [ManifestVersion] = []
            for request in requests {
                let vin = request.vin.value
                if let known = last[vin], known.digest == request.digest, known.issuedAt >= request.reusableSince {
                    versions.append(ManifestVersion(version: known.version, issuedAt: known.issuedAt))
                    continue
                }
                let next = (last[vin]?.version ?? 0) + 1
                try await tx.query("""
                    INSERT INTO manifest_version (vin, version, content_sha256, issued_at) VALUES (\(vin), \(next), \(request.digest), \(now))
                    ON CONFLICT (vin) DO UPDATE SET version = excluded.version, content_sha256 = excluded.content_sha256, issued_at = excluded.issued_at
                    """)
                try await tx.audit(at: now, actor: "system", action: "manifest.version", subject: vin, details: "version=\(next)")
                last[vin] = (next, request.digest, now)
                versions.append(ManifestVersion(version: next, issuedAt: now))
            }
            return versions
        }
    }

    public func exportEvents(_ query: EventQuery, write: @escaping @Sendable ([UInt8]) async throws -> Void) async throws {
        try await read("events export", consistent: true, limit: PostgresStore.bulkTimeout) { connection in
            var out = CSVWriter(capacity: 1 << 20)
            out.row(EventColumn.allCases.map(\.name))
            let dealerID = query.dealer?.value
            let rows = try await connection.query("""
                SELECT event_id, occurred_at, kind, refers_to, vin, feature, term, channel, dealer_id, market, currency, gross_minor, vat_bps
                FROM event WHERE occurred_at >= \(query.from ?? Int64.min) AND occurred_at < \(query.to ?? Int64.max)
                  AND (\(dealerID)::text IS NULL OR dealer_id = \(dealerID) OR (kind = 'refund' AND refers_to IN (SELECT event_id FROM event WHERE dealer_id = \(dealerID))))
                  AND recorded > \(query.recordedAfter ?? Int64.min) AND recorded <= \(query.recordedUpTo ?? Int64.max)
                ORDER BY occurred_at, event_id
                """, logger: self.logger)
            for try await row in rows {
                let columns = row.makeRandomAccess()
                let text: (EventColumn) -> String? = { column in (try? columns[column.name].decode(String?.self)) ?? nil }
                out.row(StoreRows.exportRow(text, occurredAt: try columns["occurred_at"].decode(Int64.self),
                                            gross: try columns["gross_minor"].decode(Int64?.self), vat: try columns["vat_bps"].decode(Int64?.self)))
                if out.bytes.count >= 1 << 20 { try await write(out.take()) }
            }
            try await write(out.take())
        }
    }
}

/// A stored idempotency key.
struct IdempotencyKey: Hashable {
    let principal: String
    let key: String
}

/// What is stored with an idempotency key.
struct StoredAnswer {
    let requestHash: String
    let response: IdempotentResponse

    /// The response, when the key is presented with the request it was stored for.
    /// - Throws: ``StoreError`` `idempotency_key_reused`.
    func response(for request: RequestHash, key: String) throws -> IdempotentResponse {
        guard request.matches(requestHash) else {
            throw StoreError(.idempotencyMismatch, "Idempotency-Key \(key) was already used with a different request")
        }
        return response
    }
}

/// A vehicle and a feature.
struct VehicleFeature: Hashable {
    let vin: String
    let feature: String
}
