import FoDCrypto
import GRDB

/// One entry of the audit log.
public struct AuditEntry: Sendable, Hashable {
    public init(seq: Int64, at: Int64, actor: String, action: String, subject: String, details: String, previousHash: String, hash: String) {
        self.seq = seq
        self.at = at
        self.actor = actor
        self.action = action
        self.subject = subject
        self.details = details
        self.previousHash = previousHash
        self.hash = hash
    }

    public let seq: Int64
    public let at: Int64
    public let actor: String
    public let action: String
    public let subject: String
    public let details: String
    public let previousHash: String
    public let hash: String
}

extension FoDDatabase {
    /// Appends an entry inside the caller's transaction: the audit row commits or rolls back with
    /// the change it records.
    static func appendAudit(_ db: Database, at: Int64, actor: String, action: String, subject: String, details: String) throws {
        let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, sha256 FROM audit ORDER BY seq DESC LIMIT 1"))
        let seq: Int64 = (last?["seq"] ?? 0) + 1
        let previous: String = last?["sha256"] ?? AuditChain.genesisHash
        let hash = AuditChain.hash(previous: previous, seq: seq, at: at, actor: actor, action: action, subject: subject, details: details)
        try db.cachedStatement(sql: "INSERT INTO audit (seq, at, actor, action, subject, details, prev_sha256, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            .execute(arguments: [seq, at, actor, action, subject, details, previous, hash])
    }

    /// Checks the whole chain: numbering without gaps, each entry's stored hash recomputed from its
    /// fields, and each entry pointing at the previous one's hash.
    /// - Returns: the number of entries checked.
    /// - Throws: ``StoreError`` `audit_chain_broken` naming the first bad entry.
    public func verifyAudit() throws -> Int64 {
        try read { db in
            var chain = AuditChain.Verifier()
            let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM audit ORDER BY seq")
            while let row = try cursor.next() { try chain.check(FoDDatabase.auditEntry(row)) }
            return chain.count
        }
    }

    /// Entries after `seq`, oldest first.
    public func auditEntries(after seq: Int64 = 0, limit: Int = 500) throws -> [AuditEntry] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [seq, limit]).map(FoDDatabase.auditEntry)
        }
    }

    private static func auditEntry(_ row: Row) -> AuditEntry {
        AuditEntry(seq: row["seq"], at: row["at"], actor: row["actor"], action: row["action"], subject: row["subject"],
                   details: row["details"], previousHash: row["prev_sha256"], hash: row["sha256"])
    }
}
