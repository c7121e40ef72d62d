import FoDCore
import FoDCrypto
import FoDEntitlements

/// An API key as listed: never the secret.
public struct APIKeyRecord: Sendable, Hashable {
    public let id: String
    public let role: Role
    /// The site a dealer key acts as.
    public let dealer: DealerID?
    /// The salesperson a dealer key names, if any.
    public let salesperson: SalespersonID?
    public let label: String
    public let createdAt: Int64
    public let revokedAt: Int64?

    public init(id: String, role: Role, dealer: DealerID?, salesperson: SalespersonID? = nil, label: String, createdAt: Int64, revokedAt: Int64?) {
        self.id = id
        self.role = role
        self.dealer = dealer
        self.salesperson = salesperson
        self.label = label
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

extension SQLStore {
    /// Creates a key. The secret (`fod_<id>_<random>`, 256 bits of CSPRNG output) is returned
    /// once; only its SHA-256 is stored.
    /// - Throws: ``StoreError`` `invalid` when a dealer key has no dealer (or another role has one,
    ///   or a salesperson without a site), `dealer_unknown`, `site_closed` (the site is closed now),
    ///   `not_found` (the salesperson is not at the site now).
    public func createAPIKey(role: Role, dealer: DealerID?, salesperson: SalespersonID?, label: String, actor: String,
                             at now: Int64) async throws -> (record: APIKeyRecord, secret: String) {
        let (record, secret, hash) = try StoreRows.newAPIKey(role: role, dealer: dealer, salesperson: salesperson, label: label, at: now)
        let id = record.id
        try await write { db in
            if let dealer { try Self.requireDealer(dealer, db, openAt: now) }
            if let salesperson, let dealer {
                guard try Self.salespeople(db, "id = ? AND site_id = ?", [salesperson.value, dealer.value]).contains(where: { $0.activeTo.map { $0 > now } ?? true }) else {
                    throw StoreError(.notFound, "salesperson \(salesperson) is not at site \(dealer) now or later: add them first (POST /v1/sites/\(dealer)/salespeople)")
                }
            }
            try db.execute(sql: "INSERT INTO api_key (id, secret_sha256, role, dealer_id, salesperson_id, label, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           arguments: [id, hash, role.rawValue, dealer?.value, salesperson?.value, label, now])
            try db.appendAudit(at: now, actor: actor, action: "apikey.create", subject: id,
                               details: "role=\(role) dealer=\(dealer?.value ?? "")\(salesperson.map { " salesperson=\($0)" } ?? "") label=\(label)")
        }
        return (record, secret)
    }

    /// The principal of a presented secret, or `nil` for an unknown or revoked key — or a dealer
    /// key whose site is not open at `now` (closed: its keys stop working from the closing date),
    /// or whose salesperson is not at the site then.
    public func authenticate(secret: String, at now: Int64) async throws -> Principal? {
        let hash = StoreRows.secretHash(secret)
        guard let row = try await fetch("authentication", sql: """
            SELECT k.id, k.role, k.dealer_id, k.salesperson_id, d.partner_id FROM api_key k LEFT JOIN dealer d ON d.id = k.dealer_id
            WHERE k.secret_sha256 = ?1 AND k.revoked_at IS NULL AND \(Self.keyInForce)
            """, arguments: [hash, now]).first else { return nil }
        return try StoreRows.principal(row)
    }

    /// The condition under which a key (`k`, its site `d`) works at `?2`: no site, or an open one;
    /// no salesperson, or one at the site then. The same for API requests and web sessions.
    static var keyInForce: String {
        """
        (k.dealer_id IS NULL OR (d.id IS NOT NULL AND (d.opened_at IS NULL OR d.opened_at <= ?2) AND (d.closed_at IS NULL OR d.closed_at > ?2)))
          AND (k.salesperson_id IS NULL OR EXISTS (SELECT 1 FROM salesperson p WHERE p.id = k.salesperson_id AND p.site_id = k.dealer_id
                                                   AND p.active_from <= ?2 AND (p.active_to IS NULL OR p.active_to > ?2)))
        """
    }

    /// Every key, oldest first.
    public func listAPIKeys() async throws -> [APIKeyRecord] {
        try await read { db in
            try SQLRow.fetchAll(db, sql: "SELECT * FROM api_key ORDER BY created_at, id").map { row in
                let dealer: String? = row["dealer_id"], salesperson: String? = row["salesperson_id"]
                return APIKeyRecord(id: row["id"], role: Role(rawValue: row["role"]) ?? .auditor, dealer: try dealer.map { try DealerID($0) },
                                    salesperson: try salesperson.map { try SalespersonID($0) }, label: row["label"], createdAt: row["created_at"], revokedAt: row["revoked_at"])
            }
        }
    }

    /// Revokes a key.
    /// - Throws: ``StoreError`` `not_found`.
    public func revokeAPIKey(id: String, actor: String, at now: Int64) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE api_key SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [now, id])
            guard db.changesCount == 1 else { throw StoreError(.notFound, "no active API key with id \(id)") }
            try db.appendAudit(at: now, actor: actor, action: "apikey.revoke", subject: id, details: "")
        }
    }
}
