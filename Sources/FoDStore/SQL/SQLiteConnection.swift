import Foundation
import GRDB

/// A transaction's ``SQLConnection`` on SQLite: GRDB's `Database`, with every statement prepared
/// once per connection and kept (GRDB's statement cache).
final class SQLiteConnection: SQLConnection {
    let db: Database
    let audit = AuditBuffer()
    var dialect: SQLDialect { .sqlite }

    init(_ db: Database) { self.db = db }

    var changesCount: Int { db.changesCount }

    func columns(in table: String) throws -> [String] {
        guard try db.tableExists(table) else { return [] }
        return try db.columns(in: table).map(\.name)
    }

    func execute(sql: String, arguments: SQLArguments) throws -> Int {
        if arguments.values.isEmpty, sql.contains(";") {
            try db.execute(sql: sql)
        } else {
            try db.cachedStatement(sql: sql).execute(arguments: SQLiteConnection.arguments(arguments))
        }
        return db.changesCount
    }

    func enqueue(sql: String, arguments: SQLArguments) throws { _ = try execute(sql: sql, arguments: arguments) }

    func fetchAll(sql: String, arguments: SQLArguments) throws -> [SQLRow] {
        let statement = try db.cachedStatement(sql: sql)
        let columns = statement.columnNames
        let cursor = try Row.fetchCursor(statement, arguments: SQLiteConnection.arguments(arguments))
        var rows: [SQLRow] = []
        while let row = try cursor.next() {
            var values: [SQLValue] = []
            values.reserveCapacity(columns.count)
            for index in 0..<columns.count {
                switch (row[index] as DatabaseValue).storage {
                case .null: values.append(.null)
                case .int64(let number): values.append(.integer(number))
                case .double(let real): values.append(.real(real))
                case .string(let text): values.append(.text(text))
                case .blob(let data): values.append(.blob(Array(data)))
                }
            }
            rows.append(SQLRow(columns: columns, values: values))
        }
        return rows
    }

    static func arguments(_ arguments: SQLArguments) -> StatementArguments {
        StatementArguments(arguments.values.map { value -> (any DatabaseValueConvertible)? in
            switch value {
            case .null: nil
            case .integer(let number): number
            case .real(let real): real
            case .text(let text): text
            case .blob(let bytes): Data(bytes)
            case .bool(let truth): truth ? Int64(1) : Int64(0)
            }
        })
    }
}
