import FoDStore
import PostgresNIO

extension PostgresStore {
    public func recordRootVersion(_ root: RootVersionRecord, at now: Int64) async throws -> Bool {
        try await write("root version record") { tx in
            guard try await tx.count("""
                INSERT INTO trust_root (version, keys, taken_at) VALUES (\(root.version), \(root.keysJSON), \(now))
                ON CONFLICT (version) DO NOTHING RETURNING 1
                """) == 1 else { return false }
            try await tx.audit(at: now, actor: "system", action: "trust.rotate", subject: String(root.version), details: root.auditDetails)
            return true
        }
    }
}
