/// The SQL dialect of a database: the few places where SQLite and PostgreSQL differ are named
/// hooks that ask it (``SQLDialect/blob``, ``SQLDialect/skipLocked``, JSON building in ``Outbox``).
public enum SQLDialect: Sendable {
    case sqlite, postgres

    /// The column type of bytes.
    public var blob: String { self == .sqlite ? "BLOB" : "BYTEA" }
    /// The column type of a 64-bit integer.
    public var integer: String { self == .sqlite ? "INTEGER" : "BIGINT" }
    /// The column type of a truth value.
    public var boolean: String { self == .sqlite ? "INTEGER" : "BOOLEAN" }
    /// ` FOR UPDATE SKIP LOCKED` where rows can be locked (PostgreSQL); SQLite has one writer.
    public var skipLocked: String { self == .sqlite ? "" : " FOR UPDATE SKIP LOCKED" }
    /// Whether `text` contains `part` (both SQL expressions).
    public func contains(_ text: String, _ part: String) -> String {
        self == .sqlite ? "instr(\(text), \(part)) > 0" : "strpos(\(text), \(part)) > 0"
    }
    /// The current time in Unix seconds.
    public var now: String { self == .sqlite ? "CAST(strftime('%s','now') AS INTEGER)" : "CAST(extract(epoch from now()) AS BIGINT)" }
}

/// One transaction's connection to the database, whichever it is: runs statements with bound
/// values (``SQLArguments``, `?` in the text — or `?NNN` for a numbered one), reads rows, and says
/// what changed. The store's operations are written once against it (``SQLStore``); a driver
/// (``SQLiteStore``, `PostgresStore`) gives one to each transaction. Synchronous: a driver runs
/// the transaction on a thread that may block (``BlockingPool``), never on an event loop.
public protocol SQLConnection: AnyObject {
    var dialect: SQLDialect { get }
    /// Runs one statement (or, without arguments, several separated by `;`); returns the number
    /// of rows it changed.
    @discardableResult
    func execute(sql: String, arguments: SQLArguments) throws -> Int
    /// Runs a statement whose answer is not needed before the transaction's next read or its
    /// end: PostgreSQL sends it at once and does not wait (the statements of a transaction's
    /// writes go out back to back, one round trip for all); its failure is thrown by the next
    /// statement or the commit. SQLite runs it at once.
    func enqueue(sql: String, arguments: SQLArguments) throws
    /// The rows of one statement.
    func fetchAll(sql: String, arguments: SQLArguments) throws -> [SQLRow]
    /// The number of rows the last ``execute(sql:arguments:)`` changed.
    var changesCount: Int { get }
    /// The names of a table's columns, in order.
    func columns(in table: String) throws -> [String]
    /// The audit entries this transaction appends, written at its end (``SQLStore``).
    var audit: AuditBuffer { get }
}

extension SQLConnection {
    @discardableResult
    public func execute(sql: String) throws -> Int { try execute(sql: sql, arguments: []) }
}

extension SQLRow {
    /// Every row of a statement.
    public static func fetchAll(_ db: any SQLConnection, sql: String, arguments: SQLArguments = []) throws -> [SQLRow] {
        try db.fetchAll(sql: sql, arguments: arguments)
    }

    /// The first row of a statement, or `nil`.
    public static func fetchOne(_ db: any SQLConnection, sql: String, arguments: SQLArguments = []) throws -> SQLRow? {
        try db.fetchAll(sql: sql, arguments: arguments).first
    }
}

extension SQLValueConvertible {
    /// The first column of the first row, or `nil` when there is no row or it is `NULL`.
    public static func fetchOne(_ db: any SQLConnection, sql: String, arguments: SQLArguments = []) throws -> Self? {
        guard let row = try db.fetchAll(sql: sql, arguments: arguments).first else { return nil }
        let value = row.values[0]
        if case .null = value { return nil }
        guard let decoded = Self.fromSQL(value) else { preconditionFailure("\(value) is not a \(Self.self)") }
        return decoded
    }

    /// The first column of every row.
    public static func fetchAll(_ db: any SQLConnection, sql: String, arguments: SQLArguments = []) throws -> [Self] {
        try db.fetchAll(sql: sql, arguments: arguments).map { $0[0] }
    }
}

/// The audit entries a write transaction appends, chained after the head it reads once (under
/// the write lock), and written in one statement at the transaction's end with their events
/// (``Outbox``).
public final class AuditBuffer {
    private var head: (seq: Int64, hash: String)?
    private(set) var pending: [AuditEntry] = []

    public init() {}

    /// Appends an entry after the chain's head.
    func append(_ db: any SQLConnection, at: Int64, actor: String, action: String, subject: String, details: String) throws {
        let last = try self.head ?? readHead(db)
        let seq = last.seq + 1
        let hash = AuditChain.hash(previous: last.hash, seq: seq, at: at, actor: actor, action: action, subject: subject, details: details)
        pending.append(AuditEntry(seq: seq, at: at, actor: actor, action: action, subject: subject, details: details, previousHash: last.hash, hash: hash))
        self.head = (seq, hash)
    }

    private func readHead(_ db: any SQLConnection) throws -> (seq: Int64, hash: String) {
        guard let row = try SQLRow.fetchOne(db, sql: "SELECT seq, sha256 FROM audit ORDER BY seq DESC LIMIT 1") else { return (0, AuditChain.genesisHash) }
        return (row["seq"], row["sha256"])
    }

    /// Writes the pending entries and their events; the transaction's last statements.
    public func flush(_ db: any SQLConnection) throws {
        guard let first = pending.first else { return }
        let entries = pending
        pending = []
        for chunk in stride(from: 0, to: entries.count, by: 500).map({ entries[$0..<min($0 + 500, entries.count)] }) {
            var arguments = SQLArguments([])
            for entry in chunk {
                arguments += [entry.seq, entry.at, entry.actor, entry.action, entry.subject, entry.details, entry.previousHash, entry.hash]
            }
            try db.enqueue(sql: "INSERT INTO audit (seq, at, actor, action, subject, details, prev_sha256, sha256) VALUES "
                + SQLText.rows(chunk.count, columns: 8), arguments: arguments)
        }
        // The events of the entries that are events (none: no statement).
        let subjects = Set(entries.compactMap { Outbox.subject(of: $0.action) })
        guard !subjects.isEmpty else { return }
        try db.enqueue(sql: Outbox.insert(db.dialect, for: subjects), arguments: [first.seq - 1])
    }
}

extension SQLConnection {
    /// Appends an audit entry to this transaction (written at its end, ``AuditBuffer``).
    public func appendAudit(at: Int64, actor: String, action: String, subject: String, details: String) throws {
        try audit.append(self, at: at, actor: actor, action: action, subject: subject, details: details)
    }
}

/// Pieces of statement text that depend on a count.
public enum SQLText {
    /// `(?, ?), (?, ?)`: `count` rows of `columns` parameters, for a multi-row `VALUES`.
    public static func rows(_ count: Int, columns: Int) -> String {
        let row = "(" + Array(repeating: "?", count: columns).joined(separator: ", ") + ")"
        return Array(repeating: row, count: count).joined(separator: ", ")
    }

    /// `?, ?, ?`: a list of `count` parameters, for `IN (…)` (`NULL` for none: matches nothing).
    public static func list(_ count: Int) -> String {
        count == 0 ? "NULL" : Array(repeating: "?", count: count).joined(separator: ", ")
    }
}
