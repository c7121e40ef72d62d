/// One row of a result: its columns' names and values. The names are shared by the rows of one
/// result.
public struct SQLRow: Sendable {
    public let columns: [String]
    public let values: [SQLValue]

    public init(columns: [String], values: [SQLValue]) {
        self.columns = columns
        self.values = values
    }

    /// The value of the column named `name` (``SQLValue/null`` when there is none).
    public func value(named name: String) -> SQLValue {
        if let index = columns.firstIndex(of: name) { return values[index] }
        let lowered = name.lowercased()
        if let index = columns.firstIndex(where: { $0.lowercased() == lowered }) { return values[index] }
        return .null
    }

    /// The column `name` as `T`; an optional `T` reads `NULL` as `nil`. A column the schema
    /// declares otherwise is a programming error and stops the process, as GRDB's rows do.
    public subscript<T: SQLValueConvertible>(_ name: String) -> T {
        let value = value(named: name)
        guard let decoded = T.fromSQL(value) else { preconditionFailure("column \(name): \(value) is not a \(T.self)") }
        return decoded
    }

    /// The column at `index` as `T` (see ``subscript(_:)-(String)``).
    public subscript<T: SQLValueConvertible>(_ index: Int) -> T {
        let value = values[index]
        guard let decoded = T.fromSQL(value) else { preconditionFailure("column \(index): \(value) is not a \(T.self)") }
        return decoded
    }
}
