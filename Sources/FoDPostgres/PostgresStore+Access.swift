import FoDCrypto
import FoDEntitlements
import FoDStore
import PostgresNIO

extension PostgresStore {
    public func createAPIKey(role: Role, dealer: DealerID?, label: String, actor: String, at now: Int64) async throws -> (record: APIKeyRecord, secret: String) {
        let (record, secret, hash) = try StoreRows.newAPIKey(role: role, dealer: dealer, label: label, at: now)
        try await write("API key create") { tx in
            if let dealer { try await self.requireDealer(dealer, tx) }
            try await tx.query("""
                INSERT INTO api_key (id, secret_sha256, role, dealer_id, label, created_at) VALUES (\(record.id), \(hash), \(role.rawValue), \(dealer?.value), \(label), \(now))
                """)
            try await tx.audit(at: now, actor: actor, action: "apikey.create", subject: record.id,
                               details: "role=\(role) dealer=\(dealer?.value ?? "") label=\(label)")
        }
        return (record, secret)
    }

    public func authenticate(secret: String) async throws -> Principal? {
        let hash = StoreRows.secretHash(secret)
        return try await read("authentication") { connection in
            for try await (id, role, dealer) in try await connection.query(
                "SELECT id, role, dealer_id FROM api_key WHERE secret_sha256 = \(hash) AND revoked_at IS NULL", logger: self.logger).decode((String, String, String?).self) {
                return try StoreRows.principal(keyID: id, role: role, dealer: dealer)
            }
            return nil
        }
    }

    public func listAPIKeys() async throws -> [APIKeyRecord] {
        try await read("API keys read") { connection in
            var keys: [APIKeyRecord] = []
            for try await (id, role, dealer, label, created, revoked) in try await connection.query(
                "SELECT id, role, dealer_id, label, created_at, revoked_at FROM api_key ORDER BY created_at, id", logger: self.logger)
                .decode((String, String, String?, String, Int64, Int64?).self) {
                keys.append(APIKeyRecord(id: id, role: Role(rawValue: role) ?? .auditor, dealer: try StoreRows.stored { try dealer.map { try DealerID($0) } },
                                         label: label, createdAt: created, revokedAt: revoked))
            }
            return keys
        }
    }

    public func revokeAPIKey(id: String, actor: String, at now: Int64) async throws {
        try await write("API key revoke") { tx in
            guard try await tx.count("UPDATE api_key SET revoked_at = \(now) WHERE id = \(id) AND revoked_at IS NULL RETURNING 1") == 1 else {
                throw StoreError(.notFound, "no active API key with id \(id)")
            }
            try await tx.audit(at: now, actor: actor, action: "apikey.revoke", subject: id, details: "")
        }
    }

    public func createSession(for principal: Principal, lifetime: Int64, at now: Int64) async throws -> (cookie: String, session: WebSession) {
        let (cookie, session) = StoreRows.newSession(for: principal, lifetime: lifetime, at: now)
        try await write("session start") { tx in
            try await tx.query("DELETE FROM web_session WHERE expires_at <= \(now)")
            try await tx.query("""
                INSERT INTO web_session (id_sha256, api_key_id, csrf, created_at, expires_at)
                VALUES (\(StoreRows.secretHash(cookie)), \(principal.keyID), \(session.csrf), \(now), \(session.expiresAt))
                """)
            try await tx.audit(at: now, actor: principal.actor, action: "session.start", subject: principal.keyID, details: "dealer web page")
        }
        return (cookie, session)
    }

    public func session(cookie: String, at now: Int64) async throws -> WebSession? {
        let hash = StoreRows.secretHash(cookie)
        return try await read("session read") { connection in
            for try await (csrf, expires, id, role, dealer) in try await connection.query("""
                SELECT s.csrf, s.expires_at, k.id, k.role, k.dealer_id FROM web_session s JOIN api_key k ON k.id = s.api_key_id
                WHERE s.id_sha256 = \(hash) AND s.expires_at > \(now) AND k.revoked_at IS NULL
                """, logger: self.logger).decode((String, Int64, String, String, String?).self) {
                guard let principal = try StoreRows.principal(keyID: id, role: role, dealer: dealer) else { return nil }
                return WebSession(principal: principal, csrf: csrf, expiresAt: expires)
            }
            return nil
        }
    }

    public func endSession(cookie: String, at now: Int64) async throws {
        let hash = StoreRows.secretHash(cookie)
        try await write("session end") { tx in
            var keyID: String?
            for try await id in try await tx.query("DELETE FROM web_session WHERE id_sha256 = \(hash) RETURNING api_key_id").decode(String.self) { keyID = id }
            guard let keyID else { return }
            try await tx.audit(at: now, actor: "key:\(keyID)", action: "session.end", subject: keyID, details: "dealer web page")
        }
    }

    public func sharedSecret(_ name: String) async throws -> [UInt8] {
        let candidate = Hex.encode(SecureRandom.bytes(32))
        return try await read("shared secret") { connection in
            try await connection.query("INSERT INTO shared_secret (name, secret) VALUES (\(name), \(candidate)) ON CONFLICT (name) DO NOTHING", logger: self.logger)
            for try await hex in try await connection.query("SELECT secret FROM shared_secret WHERE name = \(name)", logger: self.logger).decode(String.self) {
                if let bytes = Hex.decode(hex), bytes.count == 32 { return bytes }
            }
            throw StoreError(.database, "the shared secret \(name) is damaged")
        }
    }

    public func verifyAudit() async throws -> Int64 {
        try await read("audit verify", consistent: true, limit: PostgresStore.bulkTimeout) { connection in
            var chain = AuditChain.Verifier()
            for try await entry in try await PostgresStore.auditRows(try await connection.query(
                "SELECT seq, at, actor, action, subject, details, prev_sha256, sha256 FROM audit ORDER BY seq", logger: self.logger)) {
                try chain.check(entry)
            }
            return chain.count
        }
    }

    public func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry] {
        try await read("audit read") { connection in
            var entries: [AuditEntry] = []
            for try await entry in try await PostgresStore.auditRows(try await connection.query(
                "SELECT seq, at, actor, action, subject, details, prev_sha256, sha256 FROM audit WHERE seq > \(seq) ORDER BY seq LIMIT \(Int64(limit))", logger: self.logger)) {
                entries.append(entry)
            }
            return entries
        }
    }

    static func auditRows(_ rows: PostgresRowSequence) -> some AsyncSequence<AuditEntry, any Error> {
        rows.decode((Int64, Int64, String, String, String, String, String, String).self).map { row in
            AuditEntry(seq: row.0, at: row.1, actor: row.2, action: row.3, subject: row.4, details: row.5, previousHash: row.6, hash: row.7)
        }
    }
}
