import FoDCore
import FoDCrypto
import Foundation
import GRDB

extension FoDDatabase {
    /// Every table's rows (``TableDump/tableOrder``), read in one transaction: a consistent copy
    /// for `fod db migrate-to`. BLOBs are given in hex.
    public func dumpTables() throws -> [TableDump] {
        try read { db in
            try TableDump.tableOrder.map { table in
                let columns = try db.columns(in: table).map(\.name)
                let rows = try Row.fetchAll(db, sql: "SELECT * FROM \(table) ORDER BY rowid").map { row in
                    columns.map { column -> String? in
                        switch row[column] as DatabaseValue? {
                        case nil: return nil
                        case let value?:
                            switch value.storage {
                            case .null: return nil
                            case .int64(let number): return String(number)
                            case .double(let number): return String(number)
                            case .string(let text): return text
                            case .blob(let data): return "\\x" + Hex.encode([UInt8](data))
                            }
                        }
                    }
                }
                return TableDump(table: table, columns: columns, rows: rows)
            }
        }
    }

    /// Copies the database, while it is in use, into a new SQLite file at `path` (SQLite's online
    /// backup: a consistent snapshot; writers go on meanwhile).
    /// - Throws: ``StoreError`` `store_database`; `invalid` when `path` exists.
    public func backup(to path: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else { throw StoreError(.invalid, "\(path) exists: give a new file") }
        do {
            let target = try DatabaseQueue(path: path)
            try writer.backup(to: target)
            try target.close()
        } catch {
            try? FileManager.default.removeItem(atPath: path)
            throw StoreError(.database, "backup to \(path) failed: \(error)")
        }
    }
}
