import FoDEntitlements
import Foundation
import GRDB

/// fod's database: SQLite through GRDB, a `DatabasePool` in WAL mode with `synchronous = FULL`,
/// so a transaction that returned is on disk. Migrations run when it opens.
public struct FoDDatabase: Sendable {
    /// The writer (a pool for files, a queue in memory).
    let writer: any DatabaseWriter
    /// Whether this open created the database (there was no file): only then may a caller seed it
    /// (fixtures, a first admin key).
    public let isNew: Bool

    /// Opens (creating if needed) the database file at `path` and migrates it. A file that exists
    /// but is not an SQLite database — empty, truncated to nothing, or anything else — is refused,
    /// never taken for a new database.
    /// - Throws: ``StoreError`` `store_database`.
    public init(path: String) throws {
        isNew = !FileManager.default.fileExists(atPath: path)
        if !isNew { try FoDDatabase.checkIsSQLite(path) }
        var configuration = Configuration()
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        // A write waits at most this long for another writer (another process on the file, a
        // backup); then the caller gets `store_busy` and may retry, instead of hanging.
        configuration.busyMode = .timeout(FoDDatabase.busyTimeout)
        do {
            writer = try DatabasePool(path: path, configuration: configuration)
            try FoDDatabase.migrate(writer)
        } catch {
            throw StoreError(.database, "cannot open the database at \(path): \(error)")
        }
    }

    /// A database in memory (tests).
    /// - Throws: ``StoreError`` `store_database`.
    public static func inMemory() throws -> FoDDatabase {
        try FoDDatabase(writer: DatabaseQueue())
    }

    /// Refuses a file that does not start with SQLite's header.
    private static func checkIsSQLite(_ path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StoreError(.database, "the database file \(path) exists but cannot be read (check its owner and mode)")
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        guard !header.isEmpty else {
            throw StoreError(.database, "the database file \(path) is empty (0 bytes): restore it from a backup; fod does not start a new service over it")
        }
        guard header == Data("SQLite format 3\u{0}".utf8) else {
            throw StoreError(.database, "the file \(path) is not an SQLite database (it may be damaged): restore it from a backup")
        }
    }

    private init(writer: any DatabaseWriter) throws {
        self.writer = writer
        isNew = true
        do { try FoDDatabase.migrate(writer) } catch { throw StoreError(.database, "migration failed: \(error)") }
    }

    /// Whether the database answers (readiness).
    public func ping() -> Bool {
        (try? writer.read { db in try Int.fetchOne(db, sql: "SELECT 1") }) == 1
    }

    /// Seconds a write waits for the database lock.
    public static let busyTimeout: TimeInterval = 3

    /// Runs a write transaction, mapping errors to ``StoreError``. Its end writes the audit
    /// entries it appended and their events into the outbox (``AuditBuffer``), in the same transaction.
    func write<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        do {
            return try writer.write { db in
                let connection = SQLiteConnection(db)
                let result = try body(connection)
                try connection.audit.flush(connection)
                return result
            }
        } catch let error as StoreError { throw error } catch {
            throw FoDDatabase.storeError(error, "write failed")
        }
    }

    /// Runs a read transaction on an ``SQLConnection``.
    func readSQL<T>(_ body: (any SQLConnection) throws -> T) throws -> T {
        try read { db in try body(SQLiteConnection(db)) }
    }

    /// Runs a read, mapping errors to ``StoreError``.
    func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try writer.read(body) } catch let error as StoreError { throw error } catch {
            throw FoDDatabase.storeError(error, "read failed")
        }
    }

    /// A database failure as ``StoreError``: `store_busy` when the lock was not had in time, else
    /// `store_database` with SQLite's message (which never holds statement arguments).
    static func storeError(_ error: any Error, _ what: String) -> StoreError {
        if let error = error as? DatabaseError, error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED {
            return StoreError(.busy, "\(what): the database stayed locked for \(Int(busyTimeout)) s (\(error.message ?? "busy"))")
        }
        return StoreError(.database, "\(what): \(error)")
    }

    /// Brings the schema to the last migration (``Schema``), in one transaction.
    static func migrate(_ writer: any DatabaseWriter) throws {
        _ = try writer.write { db in try Schema.migrate(SQLiteConnection(db)) }
    }
}
