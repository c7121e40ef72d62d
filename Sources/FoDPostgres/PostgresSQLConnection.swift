import FoDStore
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// A transaction's ``SQLConnection`` on PostgreSQL: one connection of the pool, driven from a
/// thread of the store's own pool that waits for each statement's answer (never an event loop).
/// Parameters are written `?` (or `?NNN`) as on SQLite and numbered `$n` here.
final class PostgresSQLConnection: SQLConnection {
    let connection: PostgresConnection
    let logger: Logger
    let audit = AuditBuffer()
    private(set) var changesCount = 0
    var dialect: SQLDialect { .postgres }
    /// Statements sent and not yet waited for (``enqueue(sql:arguments:)``), in order.
    private var pending: [EventLoopFuture<PostgresQueryResult>] = []

    init(_ connection: PostgresConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    @discardableResult
    func execute(sql: String, arguments: SQLArguments) throws -> Int {
        try settle()
        if arguments.values.isEmpty, sql.contains(";") {
            // Several statements (a migration step): the simple protocol takes them in one go.
            _ = try connection.simpleQuery(sql).wait()
            changesCount = 0
            return 0
        }
        let result = try connection.query(PostgresSQLConnection.query(sql, arguments), logger: logger).wait()
        changesCount = result.metadata.rows ?? 0
        return changesCount
    }

    func enqueue(sql: String, arguments: SQLArguments) throws {
        // postgres-nio queues it on the connection: sent as soon as the one before is answered,
        // by the event loop, without waking this thread in between. At most 64 in flight: a
        // close's million lines are not all encoded in memory at once.
        if pending.count >= 64 { try settle() }
        pending.append(connection.query(try PostgresSQLConnection.query(sql, arguments), logger: logger))
    }

    /// Waits for the statements sent by ``enqueue(sql:arguments:)``; throws the first failure.
    private func settle() throws {
        guard !pending.isEmpty else { return }
        let sent = pending
        pending = []
        var failure: (any Error)?
        for statement in sent {
            do { _ = try statement.wait() } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
    }

    func fetchAll(sql: String, arguments: SQLArguments) throws -> [SQLRow] {
        try settle()
        let result = try connection.query(PostgresSQLConnection.query(sql, arguments), logger: logger).wait()
        guard let first = result.rows.first else { return [] }
        let columns = first.map(\.columnName)
        return try result.rows.map { row in SQLRow(columns: columns, values: try row.map(PostgresSQLConnection.value)) }
    }

    func columns(in table: String) throws -> [String] {
        try String.fetchAll(self, sql: """
            SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position
            """, arguments: [table])
    }

    /// Runs `body` as the kind of transaction `work` asks for: a write takes the write lock
    /// (``PostgresStore/writeLockKey``) first and ends with its audit entries and events.
    func run<T>(_ work: SQLWork, _ body: (any SQLConnection) throws -> T) throws -> T {
        let begin: String
        switch work {
        case .read:
            let result = try body(self)
            try settle()
            return result
        case .snapshot, .report: begin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        case .write, .groupCommit, .bulk, .unlocked: begin = "BEGIN"
        }
        try execute(sql: begin, arguments: [])
        do {
            switch work {
            case .write, .groupCommit, .bulk:
                try execute(sql: "SELECT pg_advisory_xact_lock(\(PostgresStore.writeLockKey), hashtext(coalesce(current_schema(), '')))", arguments: [])
            default: break
            }
            let result = try body(self)
            try audit.flush(self)
            try execute(sql: "COMMIT", arguments: [])
            return result
        } catch {
            _ = try? settle()
            _ = try? connection.query("ROLLBACK", logger: logger).wait()
            throw error
        }
    }

    /// The statement with its parameters numbered and its values bound.
    static func query(_ sql: String, _ arguments: SQLArguments) throws -> PostgresQuery {
        var bindings = PostgresBindings(capacity: arguments.values.count)
        for value in arguments.values {
            switch value {
            case .null: bindings.appendNull()
            case .integer(let number): bindings.append(number)
            case .real(let real): bindings.append(real)
            case .text(let text): bindings.append(text)
            case .blob(let bytes): bindings.append(ByteBuffer(bytes: bytes))
            case .bool(let truth): bindings.append(truth)
            }
        }
        return PostgresQuery(unsafeSQL: numbered(sql), binds: bindings)
    }

    /// A column's value.
    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard var bytes = cell.bytes else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
        case .bool: return .bool(try cell.decode(Bool.self))
        case .bytea: return .blob(Array(buffer: bytes))
        case .float4, .float8: return .real(try cell.decode(Double.self))
        case .numeric: return .text("\(try cell.decode(Decimal.self))")
        case .text, .varchar, .bpchar, .name: return .text(try cell.decode(String.self))
        default: return .text(bytes.readString(length: bytes.readableBytes) ?? "")
        }
    }

    private static let numberedCache = Mutex<[String: String]>([:])

    /// `?` → `$1`, `$2`, …, and `?NNN` → `$NNN`, outside string literals, quoted names and comments.
    static func numbered(_ sql: String) -> String {
        if let cached = numberedCache.withLock({ $0[sql] }) { return cached }
        var out = ""
        out.reserveCapacity(sql.utf8.count + 16)
        var next = 1
        var quote: Character?
        var comment = false
        var iterator = Array(sql).makeIterator()
        var pending: Character? = iterator.next()
        while let c = pending {
            pending = iterator.next()
            if comment {
                out.append(c)
                if c == "\n" { comment = false }
            } else if let open = quote {
                out.append(c)
                if c == open { quote = nil }
            } else if c == "'" || c == "\"" {
                quote = c
                out.append(c)
            } else if c == "-", pending == "-" {
                comment = true
                out.append(c)
            } else if c == "?" {
                var digits = ""
                while let d = pending, d.isASCII, d.isNumber {
                    digits.append(d)
                    pending = iterator.next()
                }
                if digits.isEmpty {
                    out += "$\(next)"
                    next += 1
                } else {
                    out += "$" + digits
                }
            } else {
                out.append(c)
            }
        }
        numberedCache.withLock { cache in
            if cache.count > 4096 { cache.removeAll() }
            cache[sql] = out
        }
        return out
    }
}
