
extension SQLStore {
    public func recordRootVersion(_ root: RootVersionRecord, at now: Int64) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "INSERT INTO trust_root (version, keys, taken_at) VALUES (?, ?, ?) ON CONFLICT (version) DO NOTHING",
                           arguments: [root.version, root.keysJSON, now])
            guard db.changesCount == 1 else { return false }
            try db.appendAudit(at: now, actor: "system", action: "trust.rotate", subject: String(root.version), details: root.auditDetails)
            return true
        }
    }
}
