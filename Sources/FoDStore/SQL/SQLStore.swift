/// What a transaction is for: it decides which threads run it, which lock it takes and how long
/// it may take.
public enum SQLWork: Sendable {
    /// A request's read: one statement, or several that need not see one moment.
    case read
    /// Reads that must see one moment (a read-only transaction).
    case snapshot
    /// A long read: a report, an export page, the audit check.
    case report
    /// A request's write: under the write lock (one writer at a time, on every instance), with
    /// its audit entries and their events written at its end.
    case write
    /// A group commit's write (activations, manifest versions): as ``write``, on its own threads.
    case groupCommit
    /// A long write: a fixtures import, a close.
    case bulk
    /// A write outside the write lock that appends no audit entry and changes only rows it locks
    /// itself (the webhook leases: ``SQLDialect/skipLocked``).
    case unlocked
}

/// The store, written once for both databases: every operation of ``EntitlementStore`` is
/// implemented in extensions of this protocol against ``SQLConnection``. A driver gives
/// transactions — ``SQLiteStore`` (the embedded default) and `PostgresStore` (several
/// instances) — and keeps what is its own: threads, locks, pools, statement caches.
public protocol SQLStore: EntitlementStore {
    /// Runs `body` in one transaction of the kind `work`; a write commits when `body` returns (its
    /// audit entries and their events written first, ``AuditBuffer/flush(_:)``) and rolls back
    /// when it throws.
    /// - Parameter what: what the transaction does, for error messages.
    /// - Throws: what `body` throws; ``StoreError`` `store_database` or `store_busy` for the database's failures.
    func transaction<T: Sendable>(_ work: SQLWork, _ what: String, _ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T
    /// The rows of one statement, outside a transaction: the path of a request's read (on
    /// PostgreSQL straight from the connection, with no thread between; on SQLite a ``SQLWork/read``).
    func fetch(_ what: String, sql: String, arguments: SQLArguments) async throws -> [SQLRow]
}

extension SQLStore {
    public func fetch(_ what: String, sql: String, arguments: SQLArguments) async throws -> [SQLRow] {
        try await transaction(.read, what) { db in try db.fetchAll(sql: sql, arguments: arguments) }
    }
}

extension SQLStore {
    /// A request's read.
    func read<T: Sendable>(_ what: String = "read", _ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await transaction(.read, what, body)
    }

    /// A request's write.
    func write<T: Sendable>(_ what: String = "write", _ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await transaction(.write, what, body)
    }
}

extension SQLStore {
    /// Readiness: a write that reaches the disk (a full disk, a read-only or damaged file fails
    /// here, as every real write would), outside the write lock.
    public func checkWritable() async throws {
        try await transaction(.unlocked, "readiness write") { db in
            try db.execute(sql: """
                INSERT INTO health (id, checked_at) VALUES (1, \(db.dialect.now)) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at
                """)
        }
    }
}
