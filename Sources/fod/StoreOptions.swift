import ArgumentParser
import FoDPostgres
import FoDEntitlements
import FoDStore
import Foundation
import Logging

/// Where a command finds the service's data: the SQLite database in a data folder (the
/// default), or PostgreSQL by URL.
struct StoreOptions: ParsableArguments {
    @Option(help: "Data folder of the service (its SQLite database fod.sqlite). Env FOD_DATA.")
    var data: String = ProcessInfo.processInfo.environment["FOD_DATA"] ?? "data"

    @Option(name: .customLong("database"),
            help: "PostgreSQL instead of --data: postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require|verify-full&sslrootcert=CA.pem&host=/socket/folder]. Env FOD_DATABASE_URL.")
    var databaseURL: String? = ProcessInfo.processInfo.environment["FOD_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }

    /// Whether the command was told which data folder or database to use (`--data`, `--database`,
    /// `FOD_DATA`, `FOD_DATABASE_URL`) rather than taking the default `./data`.
    var isNamed: Bool {
        let environment = ProcessInfo.processInfo.environment
        return databaseURL != nil || !(environment["FOD_DATA"] ?? "").isEmpty
            || CommandLine.arguments.contains { $0 == "--data" || $0.hasPrefix("--data=") }
    }

    func validate() throws {
        guard let databaseURL else { return }
        do { _ = try DatabaseURL(databaseURL) } catch let error as StoreError { throw ValidationError("--database: \(error.reason)") }
    }

    /// Opens the store (creating and migrating it if needed).
    /// - Parameter connections: the PostgreSQL pool's size.
    func open(connections: Int = 4, quiet: Bool = true) async throws -> OpenedStore {
        try await StoreOptions.open(databaseURL: databaseURL, data: data, connections: connections, quiet: quiet)
    }

    /// Opens PostgreSQL when `databaseURL` is given, else the SQLite database in `data`.
    /// - Parameter quiet: the pool logs only errors (a command; `fod serve` logs its reconnections).
    static func open(databaseURL: String?, data: String, connections: Int = 4, quiet: Bool = true) async throws -> OpenedStore {
        if let databaseURL {
            var logger = Logger(label: "fod.postgres")
            if quiet { logger.logLevel = .error }
            let store = try PostgresStore(url: try DatabaseURL(databaseURL), maximumConnections: connections, logger: logger)
            do {
                let isNew = try await store.start()
                return OpenedStore(store: store, isNew: isNew, postgres: store)
            } catch {
                store.shutdown()
                throw error
            }
        }
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let database = try FoDDatabase(path: (data as NSString).appendingPathComponent("fod.sqlite"))
        return OpenedStore(store: SQLiteStore(database, location: "sqlite \((data as NSString).appendingPathComponent("fod.sqlite"))"),
                           isNew: database.isNew, postgres: nil)
    }

    /// Runs `body` with the opened store and closes it after.
    func with<T>(_ body: (OpenedStore) async throws -> T) async throws -> T {
        let opened = try await open()
        defer { opened.close() }
        return try await body(opened)
    }
}

/// An opened store, and which kind it is.
struct OpenedStore: Sendable {
    let store: any EntitlementStore
    /// Whether this open created fod's tables (only then is the store seeded).
    let isNew: Bool
    let postgres: PostgresStore?

    /// Stops the PostgreSQL pool (nothing for SQLite).
    func close() { postgres?.shutdown() }
}

extension OpenedStore {
    /// The loaded catalog, or an empty one when none is loaded yet (a new production database,
    /// before the OEM's master data is imported): commands run and offer nothing.
    func catalog() async throws -> Catalog {
        do { return try await store.catalog() } catch let error as StoreError where error.code == .notFound {
            return Catalog(version: "none", features: [])
        }
    }
}
