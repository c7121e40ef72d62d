import FoDEntitlements
import FoDStore

extension PostgresStore {
    /// Whether the database holds no data yet (a move goes only into an empty database).
    public func isEmpty() async throws -> Bool {
        try await transaction(.read, "emptiness check") { db in
            try TableDump.tableOrder.allSatisfy { try Int.fetchOne(db, sql: "SELECT 1 FROM \($0) LIMIT 1") == nil }
        }
    }

    /// Loads tables copied from another database (``FoDDatabase/dumpTables()``) in one
    /// transaction: every row as it was, the audit chain included; PostgreSQL converts each
    /// text value to its column's type (`json_populate_recordset`).
    /// - Throws: ``StoreError`` `conflict` when the database is not empty; `store_database`.
    public func load(_ tables: [TableDump]) async throws {
        try await transaction(.bulk, "load") { db in
            for table in TableDump.tableOrder where try Int.fetchOne(db, sql: "SELECT 1 FROM \(table) LIMIT 1") != nil {
                throw StoreError(.conflict, "the target database already has rows in \(table): a move goes into an empty database")
            }
            for dump in tables where !dump.rows.isEmpty {
                guard TableDump.tableOrder.contains(dump.table) else { throw StoreError(.invalid, "unknown table \(dump.table)") }
                var start = 0
                while start < dump.rows.count {
                    let chunk = dump.rows[start..<min(start + 2000, dump.rows.count)]
                    let objects = chunk.map { row -> JSONValue in
                        .object(JSONObject(members: zip(dump.columns, row).map { column, value in
                            JSONObject.Member(name: column, value: value.map { .string($0) } ?? .null)
                        }))
                    }
                    let columns = dump.columns.joined(separator: ", ")
                    try db.execute(sql: """
                        INSERT INTO \(dump.table) (\(columns))
                        SELECT \(columns) FROM json_populate_recordset(NULL::\(dump.table), CAST(? AS json))
                        """, arguments: [JSONWriter.text(.array(objects))])
                    start += chunk.count
                }
            }
            // Events carry their commit numbers over; new ones continue after the highest.
            try db.execute(sql: "SELECT setval(pg_get_serial_sequence('event', 'recorded'), GREATEST(COALESCE(MAX(recorded), 0), 1)) FROM event")
        }
    }

    /// The number of rows of each table, for checking a move.
    public func rowCounts() async throws -> [String: Int] {
        try await transaction(.report, "row counts") { db in
            var counts: [String: Int] = [:]
            for table in TableDump.tableOrder { counts[table] = try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0 }
            return counts
        }
    }
}
