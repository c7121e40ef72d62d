import FoDCrypto
import FoDEntitlements

/// A signed-in browser session of the dealer web page.
public struct WebSession: Sendable, Hashable {
    /// Who is signed in (a dealer key's principal).
    public let principal: Principal
    /// The token every form of this session must carry.
    public let csrf: String
    /// When the session ends (Unix seconds).
    public let expiresAt: Int64

    public init(principal: Principal, csrf: String, expiresAt: Int64) {
        self.principal = principal
        self.csrf = csrf
        self.expiresAt = expiresAt
    }
}

extension SQLStore {
    /// Starts a session for `principal`: returns the cookie value (256 random bits, shown to the
    /// browser only; the database keeps its SHA-256) and the session. Expired sessions are removed.
    /// - Throws: ``StoreError``.
    public func createSession(for principal: Principal, lifetime: Int64, at now: Int64) async throws -> (cookie: String, session: WebSession) {
        let (cookie, session) = StoreRows.newSession(for: principal, lifetime: lifetime, at: now)
        try await write { db in
            try db.execute(sql: "DELETE FROM web_session WHERE expires_at <= ?", arguments: [now])
            try db.execute(sql: "INSERT INTO web_session (id_sha256, api_key_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [StoreRows.secretHash(cookie), principal.keyID, session.csrf, now, session.expiresAt])
            try db.appendAudit(at: now, actor: principal.actor, action: "session.start", subject: principal.keyID, details: "dealer web page")
        }
        return (cookie, session)
    }

    /// The live session of a cookie value: not expired, its API key not revoked and in force (its site open).
    /// - Throws: ``StoreError``.
    public func session(cookie: String, at now: Int64) async throws -> WebSession? {
        let hash = StoreRows.secretHash(cookie)
        guard let row = try await fetch("session read", sql: """
            SELECT s.csrf, s.expires_at, k.id, k.role, k.dealer_id, k.salesperson_id, d.partner_id
            FROM web_session s JOIN api_key k ON k.id = s.api_key_id LEFT JOIN dealer d ON d.id = k.dealer_id
            WHERE s.id_sha256 = ?1 AND s.expires_at > ?2 AND k.revoked_at IS NULL AND \(Self.keyInForce)
            """, arguments: [hash, now]).first, let principal = try StoreRows.principal(row) else {
            return nil
        }
        return WebSession(principal: principal, csrf: row["csrf"], expiresAt: row["expires_at"])
    }

    /// Ends the session of a cookie value (signing out); unknown values are ignored.
    /// - Throws: ``StoreError``.
    public func endSession(cookie: String, at now: Int64) async throws {
        let hash = StoreRows.secretHash(cookie)
        try await write { db in
            guard let keyID = try String.fetchOne(db, sql: "SELECT api_key_id FROM web_session WHERE id_sha256 = ?", arguments: [hash]) else { return }
            try db.execute(sql: "DELETE FROM web_session WHERE id_sha256 = ?", arguments: [hash])
            try db.appendAudit(at: now, actor: "key:\(keyID)", action: "session.end", subject: keyID, details: "dealer web page")
        }
    }

    /// One entitlement by id.
    /// - Throws: ``StoreError``.
    public func entitlement(_ id: EntitlementID) async throws -> StoredEntitlement? {
        try await fetch("entitlement read", sql: "SELECT * FROM entitlement WHERE id = ?", arguments: [id.value]).first.map(Self.storedEntitlement)
    }
}
