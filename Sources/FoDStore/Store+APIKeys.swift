import FoDCrypto
import FoDEntitlements

/// An API key as listed: never the secret.
public struct APIKeyRecord: Sendable, Hashable {
    public let id: String
    public let role: Role
    public let dealer: DealerID?
    public let label: String
    public let createdAt: Int64
    public let revokedAt: Int64?

    public init(id: String, role: Role, dealer: DealerID?, label: String, createdAt: Int64, revokedAt: Int64?) {
        self.id = id
        self.role = role
        self.dealer = dealer
        self.label = label
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

extension SQLStore {
    /// Creates a key. The secret (`fod_<id>_<random>`, 256 bits of CSPRNG output) is returned
    /// once; only its SHA-256 is stored.
    /// - Throws: ``StoreError`` `invalid` when a dealer key has no dealer (or another role has one).
    public func createAPIKey(role: Role, dealer: DealerID?, label: String, actor: String, at now: Int64) async throws -> (record: APIKeyRecord, secret: String) {
        let (record, secret, hash) = try StoreRows.newAPIKey(role: role, dealer: dealer, label: label, at: now)
        let id = record.id
        try await write { db in
            if let dealer { try Self.requireDealer(dealer, db) }
            try db.execute(sql: "INSERT INTO api_key (id, secret_sha256, role, dealer_id, label, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [id, hash, role.rawValue, dealer?.value, label, now])
            try db.appendAudit(at: now, actor: actor, action: "apikey.create", subject: id,
                               details: "role=\(role) dealer=\(dealer?.value ?? "") label=\(label)")
        }
        return (record, secret)
    }

    /// The principal of a presented secret, or `nil` for an unknown or revoked key.
    public func authenticate(secret: String) async throws -> Principal? {
        let hash = StoreRows.secretHash(secret)
        guard let row = try await fetch("authentication", sql: "SELECT id, role, dealer_id FROM api_key WHERE secret_sha256 = ? AND revoked_at IS NULL",
                                        arguments: [hash]).first else { return nil }
        return try StoreRows.principal(keyID: row["id"], role: row["role"], dealer: row["dealer_id"])
    }

    /// Every key, oldest first.
    public func listAPIKeys() async throws -> [APIKeyRecord] {
        try await read { db in
            try SQLRow.fetchAll(db, sql: "SELECT * FROM api_key ORDER BY created_at, id").map { row in
                let dealer: String? = row["dealer_id"]
                return APIKeyRecord(id: row["id"], role: Role(rawValue: row["role"]) ?? .auditor, dealer: try dealer.map { try DealerID($0) },
                                    label: row["label"], createdAt: row["created_at"], revokedAt: row["revoked_at"])
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
