import FoDEntitlements
import FoDInvoicing

/// The embedded store: the operations of ``SQLStore`` on ``FoDDatabase`` (SQLite). Every
/// transaction runs on ``BlockingPool`` — requests in the short lane, group commits in the commit
/// lane, reports, exports and bulk writes in the long lane — so no SQLite read or fsync'd write
/// runs on an event loop or a Swift concurrency thread. SQLite has one writer: a write
/// transaction is the write lock.
public struct SQLiteStore: SQLStore {
    /// The database underneath (synchronous: start-up, the command line, tests).
    public let database: FoDDatabase
    public let location: String

    /// Wraps an opened database.
    public init(_ database: FoDDatabase, location: String = "sqlite (in memory)") {
        self.database = database
        self.location = location
    }

    /// Opens (creating if needed) the SQLite file at `path`.
    /// - Throws: ``StoreError`` `store_database`.
    public init(path: String) throws {
        self.init(try FoDDatabase(path: path), location: "sqlite \(path)")
    }

    public func transaction<T: Sendable>(_ work: SQLWork, _ what: String, _ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        let database = database
        switch work {
        case .read, .snapshot: return try await BlockingPool.run(.short) { try database.readSQL(body) }
        case .report: return try await BlockingPool.run(.long) { try database.readSQL(body) }
        case .write: return try await BlockingPool.run(.short) { try database.write(body) }
        case .groupCommit: return try await BlockingPool.run(.commit) { try database.write(body) }
        // The webhook bookkeeping never takes the request lane's threads, also while a writer holds the lock.
        case .bulk, .unlocked: return try await BlockingPool.run(.long) { try database.write(body) }
        }
    }

    public func ping() async -> Bool { (try? await BlockingPool.run(.short) { database.ping() }) ?? false }
}
