import FoDPostgres
import FoDStore
import FoDCrypto
import Foundation
import FoDTestSupport
import Testing

/// The stores the store and service tests run against: SQLite always, PostgreSQL when
/// `FOD_TEST_DATABASE_URL` names a database (scripts/test starts one when PostgreSQL is
/// installed). Each PostgreSQL test works in a schema of its own.
enum StoreBackend: String, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    static let postgresURL: String? = ProcessInfo.processInfo.environment["FOD_TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }

    /// The backends of this run.
    static var all: [StoreBackend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    var testDescription: String { rawValue }

    /// A new, empty store — an SQLite file in `folder`, or a new schema (`schema`, or one named at random).
    func makeDatabase(folder: URL, schema: String? = nil) async throws -> TestDatabase {
        switch self {
        case .sqlite:
            let path = folder.appendingPathComponent("fod.sqlite").path
            return TestDatabase(store: try SQLiteStore(path: path), reopen: { try SQLiteStore(path: path) }) { sql in
                try ProcessRunner.run("python3", ["-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(sys.argv[2]); c.commit()", path, sql])
            }
        case .postgres:
            let base = try #require(StoreBackend.postgresURL)
            let schema = schema ?? "t_" + Hex.encode(SecureRandom.bytes(8))
            let url = try DatabaseURL(base + (base.contains("?") ? "&" : "?") + "search_path=\(schema)")
            let open: @Sendable () async throws -> any EntitlementStore = {
                let store = try PostgresStore(url: url, maximumConnections: 4)
                try await store.start()
                return store
            }
            return TestDatabase(store: try await open(), reopen: open) { sql in
                try ProcessRunner.run("psql", [base, "-v", "ON_ERROR_STOP=1", "-qc", "SET search_path TO \(schema); \(sql)"])
            }
        }
    }
}

/// A test's database: the store, another connection to it (as another process), and a way to
/// change rows behind the store's back (tampering tests).
struct TestDatabase: Sendable {
    let store: any EntitlementStore
    let reopen: @Sendable () async throws -> any EntitlementStore
    let execute: @Sendable (String) throws -> ProcessResult
}
