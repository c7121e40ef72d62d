import FoDStore

extension PostgresStore {
    /// Creates the URL's schema if missing and applies the migrations not yet applied (``Schema``),
    /// in one transaction under the write lock, so that instances starting together migrate once.
    /// - Returns: whether the database was new (this call created fod's tables).
    /// - Throws: ``StoreError`` `store_database`.
    func migrate() async throws -> Bool {
        try await transaction(.bulk, "migration") { [schema] db in
            if let schema { try db.execute(sql: "CREATE SCHEMA IF NOT EXISTS \(schema)") }
            return try Schema.migrate(db)
        }
    }
}
