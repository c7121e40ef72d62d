import FoDEntitlements
import FoDStore
import PostgresNIO

extension PostgresStore {
    /// Whether the database holds no data yet (a move goes only into an empty database).
    public func isEmpty() async throws -> Bool {
        try await read("emptiness check") { connection in
            for table in TableDump.tableOrder {
                if try await connection.query("SELECT 1 FROM \(unescaped: table) LIMIT 1", logger: self.logger).collect().count > 0 { return false }
            }
            return true
        }
    }

    /// Loads tables copied from another database (``FoDDatabase/dumpTables()``) in one
    /// transaction: every row as it was, the audit chain included; PostgreSQL converts each
    /// text value to its column's type (`json_populate_recordset`).
    /// - Throws: ``StoreError`` `conflict` when the database is not empty; `store_database`.
    public func load(_ tables: [TableDump]) async throws {
        try await write("load", limit: PostgresStore.bulkTimeout) { tx in
            for table in TableDump.tableOrder {
                if try await tx.count("SELECT 1 FROM \(unescaped: table) LIMIT 1") > 0 {
                    throw StoreError(.conflict, "the target database already has rows in \(table): a move goes into an empty database")
                }
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
                    let document = JSONWriter.text(.array(objects))
                    let columns = dump.columns.joined(separator: ", ")
                    try await tx.query("""
                        INSERT INTO \(unescaped: dump.table) (\(unescaped: columns))
                        SELECT \(unescaped: columns) FROM json_populate_recordset(NULL::\(unescaped: dump.table), \(document)::json)
                        """)
                    start += chunk.count
                }
            }
            // Events carry their commit numbers over; new ones continue after the highest.
            try await tx.query("SELECT setval(pg_get_serial_sequence('event', 'recorded'), GREATEST(COALESCE(MAX(recorded), 0), 1)) FROM event")
        }
    }

    /// The number of rows of each table, for checking a move.
    public func rowCounts() async throws -> [String: Int] {
        try await read("row counts", consistent: true, limit: PostgresStore.bulkTimeout) { connection in
            var counts: [String: Int] = [:]
            for table in TableDump.tableOrder {
                for try await count in try await connection.query("SELECT count(*) FROM \(unescaped: table)", logger: self.logger).decode(Int64.self) {
                    counts[table] = Int(count)
                }
            }
            return counts
        }
    }
}
