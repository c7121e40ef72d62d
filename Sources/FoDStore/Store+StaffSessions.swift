import FoDCrypto
import FoDEntitlements

/// A person signed in to the back office at `/admin` (docs/back-office.md): through the company's
/// identity provider, or with an API key of a human role where none is configured.
public struct StaffSession: Sendable, Hashable {
    /// Who: the provider's subject (or `key:` and the key id), and their name.
    public let subject: String
    public let name: String
    /// The roles the person holds (from the provider's claim, or the key's one role).
    public let roles: [Role]
    /// The token every form of this session must carry.
    public let csrf: String
    /// When the session ends at the latest (Unix seconds).
    public let expiresAt: Int64

    public init(subject: String, name: String, roles: [Role], csrf: String, expiresAt: Int64) {
        self.subject = subject
        self.name = name
        self.roles = roles
        self.csrf = csrf
        self.expiresAt = expiresAt
    }

    /// Whether the person holds `role` (an admin holds every role).
    public func holds(_ role: Role) -> Bool { roles.contains(role) || roles.contains(.admin) }

    /// The principal of this person acting in `role`, for the audit log.
    public func acting(as role: Role) -> Principal { Principal(person: subject, name: name, role: role) }
}

/// The back office's sessions.
public protocol StaffSessionStore: Sendable {
    /// Starts a session for a person: the cookie value (256 random bits; the database keeps its
    /// SHA-256) and the session, ending at `now + lifetime` at the latest. Audited (`session.start`).
    func createStaffSession(subject: String, name: String, roles: [Role], lifetime: Int64, at now: Int64) async throws -> (cookie: String, session: StaffSession)
    /// The live session of a cookie: not past its end, and used within `idle` seconds (each use
    /// moves that on, at most once a minute). `nil` otherwise.
    func staffSession(cookie: String, idle: Int64, at now: Int64) async throws -> StaffSession?
    /// Ends a session (sign-out). Audited (`session.end`).
    func endStaffSession(cookie: String, at now: Int64) async throws
}

extension SQLStore {
    public func createStaffSession(subject: String, name: String, roles: [Role], lifetime: Int64, at now: Int64) async throws -> (cookie: String, session: StaffSession) {
        let cookie = Base64URL.encode(SecureRandom.bytes(32))
        let session = StaffSession(subject: subject, name: name, roles: roles, csrf: Base64URL.encode(SecureRandom.bytes(32)), expiresAt: now + lifetime)
        let actor = Principal(person: subject, name: name, role: roles.first ?? .auditor).actor
        try await write("staff session start") { db in
            try db.execute(sql: "DELETE FROM staff_session WHERE expires_at <= ?", arguments: [now])
            try db.execute(sql: """
                INSERT INTO staff_session (id_sha256, subject, name, roles, csrf, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [StoreRows.secretHash(cookie), subject, name, roles.map(\.rawValue).joined(separator: ","), session.csrf, now, now,
                                 session.expiresAt])
            try db.appendAudit(at: now, actor: actor, action: "session.start", subject: "person:\(subject)",
                               details: "back office; roles=\(roles.map(\.rawValue).joined(separator: ","))")
        }
        return (cookie, session)
    }

    public func staffSession(cookie: String, idle: Int64, at now: Int64) async throws -> StaffSession? {
        let hash = StoreRows.secretHash(cookie)
        guard let row = try await fetch("staff session read", sql: """
            SELECT subject, name, roles, csrf, last_seen_at, expires_at FROM staff_session WHERE id_sha256 = ?1 AND expires_at > ?2 AND last_seen_at > ?3
            """, arguments: [hash, now, now - idle]).first else { return nil }
        let lastSeen: Int64 = row["last_seen_at"]
        if now - lastSeen >= 60 {
            try await write("staff session seen") { db in
                try db.execute(sql: "UPDATE staff_session SET last_seen_at = ? WHERE id_sha256 = ?", arguments: [now, hash])
            }
        }
        let roles = (row["roles"] as String).split(separator: ",").compactMap { Role(rawValue: String($0)) }
        return StaffSession(subject: row["subject"], name: row["name"], roles: roles, csrf: row["csrf"], expiresAt: row["expires_at"])
    }

    public func endStaffSession(cookie: String, at now: Int64) async throws {
        let hash = StoreRows.secretHash(cookie)
        try await write("staff session end") { db in
            guard let row = try SQLRow.fetchOne(db, sql: "SELECT subject, name, roles FROM staff_session WHERE id_sha256 = ?", arguments: [hash]) else { return }
            try db.execute(sql: "DELETE FROM staff_session WHERE id_sha256 = ?", arguments: [hash])
            let subject: String = row["subject"], name: String = row["name"]
            try db.appendAudit(at: now, actor: Principal(person: subject, name: name, role: .auditor).actor, action: "session.end",
                               subject: "person:\(subject)", details: "back office")
        }
    }
}
