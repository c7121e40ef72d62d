import FoDCrypto
import GRDB

/// One entry of the audit log.
public struct AuditEntry: Sendable, Hashable {
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
    /// The hash of the (absent) entry before the first.
    static let genesisHash = String(repeating: "0", count: 64)

    /// The SHA-256 that chains an entry: over the previous hash and every field, each
    /// length-prefixed so that no two different entries hash alike.
    static func auditHash(previous: String, seq: Int64, at: Int64, actor: String, action: String, subject: String, details: String) -> String {
        var bytes: [UInt8] = []
        for field in [previous, String(seq), String(at), actor, action, subject, details] {
            let utf8 = Array(field.utf8)
            bytes += Array(String(utf8.count).utf8) + [0x3A] + utf8
        }
        return SHA256.hexHash(bytes)
    }

    /// Appends an entry inside the caller's transaction: the audit row commits or rolls back with
    /// the change it records.
    static func appendAudit(_ db: Database, at: Int64, actor: String, action: String, subject: String, details: String) throws {
        let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, sha256 FROM audit ORDER BY seq DESC LIMIT 1"))
        let seq: Int64 = (last?["seq"] ?? 0) + 1
        let previous: String = last?["sha256"] ?? genesisHash
        let hash = auditHash(previous: previous, seq: seq, at: at, actor: actor, action: action, subject: subject, details: details)
        try db.cachedStatement(sql: "INSERT INTO audit (seq, at, actor, action, subject, details, prev_sha256, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
            .execute(arguments: [seq, at, actor, action, subject, details, previous, hash])
    }

    /// Checks the whole chain: numbering without gaps, each entry's stored hash recomputed from its
    /// fields, and each entry pointing at the previous one's hash.
    /// - Returns: the number of entries checked.
    /// - Throws: ``StoreError`` `audit_chain_broken` naming the first bad entry.
    public func verifyAudit() throws -> Int64 {
        try read { db in
            var previous = FoDDatabase.genesisHash
            var expectedSeq: Int64 = 1
            let cursor = try Row.fetchCursor(db, sql: "SELECT * FROM audit ORDER BY seq")
            while let row = try cursor.next() {
                let seq: Int64 = row["seq"]
                guard seq == expectedSeq else {
                    throw StoreError(.auditBroken, "entry \(expectedSeq) is missing (next is \(seq)): rows were deleted")
                }
                let stored: String = row["sha256"]
                guard row["prev_sha256"] == previous else {
                    throw StoreError(.auditBroken, "entry \(seq) does not follow entry \(seq - 1): the chain was changed")
                }
                let recomputed = FoDDatabase.auditHash(previous: previous, seq: seq, at: row["at"], actor: row["actor"], action: row["action"],
                                                       subject: row["subject"], details: row["details"])
                guard recomputed == stored else {
                    throw StoreError(.auditBroken, "entry \(seq) was changed after it was written")
                }
                previous = stored
                expectedSeq += 1
            }
            return expectedSeq - 1
        }
    }

    /// Entries after `seq`, oldest first.
    public func auditEntries(after seq: Int64 = 0, limit: Int = 500) throws -> [AuditEntry] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [seq, limit]).map { row in
                AuditEntry(seq: row["seq"], at: row["at"], actor: row["actor"], action: row["action"], subject: row["subject"],
                           details: row["details"], previousHash: row["prev_sha256"], hash: row["sha256"])
            }
        }
    }
}
