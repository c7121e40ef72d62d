import FoDCrypto

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

extension SQLStore {
    /// Checks the whole chain: numbering without gaps, each entry's stored hash recomputed from its
    /// fields, and each entry pointing at the previous one's hash.
    /// - Returns: the number of entries checked.
    /// - Throws: ``StoreError`` `audit_chain_broken` naming the first bad entry.
    public func verifyAudit() async throws -> Int64 {
        // Page by page (each a short read: the log of years is never held whole), each page
        // after the last entry checked.
        var chain = AuditChain.Verifier()
        var after: Int64 = 0
        while true {
            let from = after
            let page = try await transaction(.report, "audit check") { db in
                try SQLRow.fetchAll(db, sql: "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT 10000", arguments: [from]).map(Self.auditEntry)
            }
            for entry in page { try chain.check(entry) }
            guard let last = page.last, page.count == 10_000 else { return chain.count }
            after = last.seq
        }
    }

    /// Entries after `seq`, oldest first.
    public func auditEntries(after seq: Int64 = 0, limit: Int = 500) async throws -> [AuditEntry] {
        try await read { db in
            try SQLRow.fetchAll(db, sql: "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [seq, limit]).map(Self.auditEntry)
        }
    }

    /// The entries about any of `subjects` (a vehicle and its entitlements: one timeline), newest
    /// first, at most `limit`.
    public func auditEntries(subjects: [String], limit: Int) async throws -> [AuditEntry] {
        guard !subjects.isEmpty else { return [] }
        return try await read { db in
            try SQLRow.fetchAll(db, sql: "SELECT * FROM audit WHERE subject IN (\(SQLText.list(subjects.count))) ORDER BY seq DESC LIMIT ?",
                                arguments: SQLArguments(subjects) + [limit]).map(Self.auditEntry)
        }
    }

    /// A search of the audit log, newest first: by subject (exact), by who (the actor contains
    /// it: a person's subject or name, a key's id), by action (exact), within a time, before a
    /// sequence number (the next page), at most `limit`. With `window`, only that many entries
    /// before `before` (or the newest) are read: a search that no index serves (who, action, time)
    /// takes a bounded time on a log of millions, and goes on further back from where it stopped.
    public func searchAudit(subject: String?, actor: String?, action: String?, from: Int64?, to: Int64?, before: Int64?, window: Int64?,
                            limit: Int) async throws -> (entries: [AuditEntry], searchedFrom: Int64?) {
        var conditions: [String] = [], arguments = SQLArguments([])
        if let subject { conditions.append("subject = ?"); arguments += [subject] }
        if let actor { conditions.append("actor LIKE ? ESCAPE '\\'"); arguments += ["%" + Self.likeEscaped(actor) + "%"] }
        if let action { conditions.append("action = ?"); arguments += [action] }
        if let from { conditions.append("at >= ?"); arguments += [from] }
        if let to { conditions.append("at < ?"); arguments += [to] }
        if let before { conditions.append("seq < ?"); arguments += [before] }
        let head = conditions
        let bound = arguments
        return try await read { db in
            var conditions = head, arguments = bound
            var searchedFrom: Int64?
            if let window {
                let top = try before ?? ((Int64.fetchOne(db, sql: "SELECT seq FROM audit ORDER BY seq DESC LIMIT 1") ?? 0) + 1)
                let lowest = top - window
                if lowest > 1 {
                    conditions.append("seq >= ?")
                    arguments += [lowest]
                    searchedFrom = lowest
                }
            }
            arguments += [limit]
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let entries = try SQLRow.fetchAll(db, sql: "SELECT * FROM audit \(filter) ORDER BY seq DESC LIMIT ?", arguments: arguments).map(Self.auditEntry)
            return (entries, searchedFrom)
        }
    }

    /// `text` for a LIKE pattern: `%`, `_` and the escape character taken literally.
    static func likeEscaped(_ text: String) -> String {
        text.replacing("\\", with: "\\\\").replacing("%", with: "\\%").replacing("_", with: "\\_")
    }

    private static func auditEntry(_ row: SQLRow) -> AuditEntry {
        AuditEntry(seq: row["seq"], at: row["at"], actor: row["actor"], action: row["action"], subject: row["subject"],
                   details: row["details"], previousHash: row["prev_sha256"], hash: row["sha256"])
    }
}
