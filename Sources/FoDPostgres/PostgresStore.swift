import FoDEntitlements
import FoDStore
import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The store on PostgreSQL (postgres-nio's `PostgresClient`, a pool of connections), for several
/// `fod serve` instances on one database. The same tables as ``FoDDatabase``, the same protocols.
///
/// Several instances stay correct without a coordinator of their own: every transaction that
/// writes first takes one transaction-scoped advisory lock (``writeLockKey``), so writers — on
/// this instance and on every other — run one after the other. Inside that lock an idempotency
/// key is looked up and booked once, a manifest version follows the last one, and the audit
/// chain's head is read and extended; reads never wait for it. A group of activations or
/// manifest versions is one such transaction (one commit), which keeps the lock's cost per
/// request small.
///
/// ``start()`` runs the connection pool in a task of its own and migrates the schema; the pool
/// runs until ``shutdown()``. In `fod serve` the store is also a `Service` of the application's
/// `ServiceGroup`, listed first: the group stops it last, after the HTTP server has drained.
public final class PostgresStore: SQLStore, Service {
    let client: PostgresClient
    let logger: Logger
    public let location: String
    /// The schema of the URL's `search_path`, created if missing.
    let schema: String?
    /// Where the store connects (for the one probe connection that explains a failed start).
    let url: DatabaseURL
    private let runner = Mutex<Task<Void, Never>?>(nil)
    /// The threads that drive transactions (one per connection: each waits for its statements'
    /// answers), so that no event loop and no Swift concurrency thread ever waits.
    let threads: NIOThreadPool
    /// Vehicle reads, batched: one statement for the reads that arrive while one is under way
    /// (set once, at the end of `init`, as it calls back into the store).
    private let vehicleBatcher = Mutex<Batcher<VIN, Vehicle?>?>(nil)

    /// The first key of the advisory lock writers take (the second is the schema's hash), so
    /// that databases, and schemas in one database, do not wait for each other.
    static let writeLockKey: Int32 = 0x0F0D

    /// A store on `url`; nothing connects until it runs (``run()`` or ``start()``).
    /// - Parameter maximumConnections: the pool's size.
    /// - Throws: ``StoreError`` `invalid` when the TLS settings cannot be used.
    public init(url: DatabaseURL, maximumConnections: Int = 16, logger: Logger = Logger(label: "fod.postgres")) throws {
        var configuration: PostgresClient.Configuration
        if let folder = url.socketFolder {
            configuration = .init(unixSocketPath: "\(folder)/.s.PGSQL.\(url.port)", username: url.user, password: url.password, database: url.database)
        } else {
            configuration = .init(host: url.host ?? "localhost", port: url.port, username: url.user, password: url.password, database: url.database,
                                  tls: try PostgresStore.tls(url))
        }
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = 0
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.additionalStartupParameters = PostgresStore.sessionSettings + (url.searchPath.map { [("search_path", $0)] } ?? [])
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
        location = url.redacted
        schema = url.searchPath
        self.url = url
        threads = NIOThreadPool(numberOfThreads: maximumConnections)
        threads.start()
        vehicleBatcher.withLock {
            $0 = Batcher(maxBatch: 256) { [weak self] group in
                guard let self else { throw StoreError(.database, "the store is closed") }
                let vins = group.take().records
                let found = try await self.vehicles(vins)
                return vins.map { .success(found[$0]) }
            }
        }
    }

    /// A vehicle: concurrent reads (one per activation) share one statement, one round trip.
    public func vehicle(_ vin: VIN) async throws -> Vehicle? {
        guard let batcher = vehicleBatcher.withLock({ $0 }) else { throw StoreError(.database, "the store is closed") }
        return try await batcher.submit(vin)
    }

    /// The one definition of the URL's TLS settings, for the pool and the start-up probe alike:
    /// `nil` for `disable`; `prefer` and `require` (libpq's: encrypted, the certificate not
    /// checked); `verify-full` checks the certificate and host name against `sslrootcert` (or the
    /// system's roots).
    /// - Throws: ``StoreError`` `invalid` when `sslrootcert` cannot be read.
    static func tlsSettings(_ url: DatabaseURL) throws -> TLSConfiguration? {
        var settings = TLSConfiguration.makeClientConfiguration()
        switch url.tls {
        case .disable: return nil
        case .prefer, .require: settings.certificateVerification = .none
        case .verifyFull:
            settings.certificateVerification = .fullVerification
            if let file = url.rootCertificate {
                do { settings.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(file)) } catch {
                    throw StoreError(.invalid, "sslrootcert \(file) cannot be read as PEM certificates")
                }
            }
        }
        return settings
    }

    private static func tls(_ url: DatabaseURL) throws -> PostgresClient.Configuration.TLS {
        guard let settings = try tlsSettings(url) else { return .disable }
        return url.tls == .prefer ? .prefer(settings) : .require(settings)
    }

    /// As a service: waits for the group's graceful shutdown (or cancellation), then stops the pool.
    public func run() async throws {
        try? await gracefulShutdown()
        shutdown()
    }

    /// Runs the pool in a task of its own and migrates the schema.
    /// - Returns: whether the database was new (this call created fod's tables): only then may
    ///   the caller seed it.
    /// - Throws: ``StoreError`` `store_database` when the database cannot be reached or migrated.
    @discardableResult
    public func start() async throws -> Bool {
        let client = client
        runner.withLock { task in
            if task == nil { task = Task { await client.run() } }
        }
        // One connection of our own first: a database that cannot be reached (refused, no such
        // database, authentication, TLS) is reported at once and says why.
        if let error = await probe() { throw error }
        do {
            return try await PostgresStore.bounded(PostgresStore.startTimeout, "connect to \(location) and migrate") { try await self.migrate() }
        } catch let error as StoreError where error.code == .database || error.code == .busy {
            // The pool only says its attempts failed; one connection of our own says why
            // (refused, no such database, authentication, TLS).
            throw await probe() ?? error
        }
    }

    /// How long a start may take to migrate the database once it answered the probe (generous:
    /// many stores migrating at once on a loaded machine took over 15 s).
    static let startTimeout: Duration = .seconds(60)

    /// Why a connection to the database fails, or `nil` when one succeeds.
    private func probe() async -> StoreError? {
        var configuration: PostgresConnection.Configuration
        if let folder = url.socketFolder {
            configuration = .init(unixSocketPath: "\(folder)/.s.PGSQL.\(url.port)", username: url.user, password: url.password, database: url.database)
        } else {
            let tls: PostgresConnection.Configuration.TLS
            do {
                if let settings = try PostgresStore.tlsSettings(url) {
                    let context = try NIOSSLContext(configuration: settings)
                    tls = url.tls == .prefer ? .prefer(context) : .require(context)
                } else {
                    tls = .disable
                }
            } catch {
                return StoreError(.invalid, "the TLS settings of \(location) cannot be used: \(error)")
            }
            configuration = .init(host: url.host ?? "localhost", port: url.port, username: url.user, password: url.password, database: url.database, tls: tls)
        }
        configuration.options.connectTimeout = .seconds(10)
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            try? await connection.close()
            return nil
        } catch {
            return PostgresStore.storeError(error, "cannot connect to \(location)")
        }
    }

    /// Stops the pool started by ``start()``.
    public func shutdown() {
        runner.withLock { task in
            task?.cancel()
            task = nil
        }
    }

    deinit {
        runner.withLock { $0?.cancel() }
        threads.shutdownGracefully { _ in }
    }

    // MARK: Transactions

    public func fetch(_ what: String, sql: String, arguments: SQLArguments) async throws -> [SQLRow] {
        do {
            return try await PostgresStore.bounded(PostgresStore.readTimeout, what) { [client, logger] in
                try await client.withConnection { connection in
                    var rows: [SQLRow] = []
                    var columns: [String]?
                    for try await row in try await connection.query(try PostgresSQLConnection.query(sql, arguments), logger: logger) {
                        let cells = Array(row)
                        let names = columns ?? cells.map(\.columnName)
                        columns = names
                        rows.append(SQLRow(columns: names, values: try cells.map(PostgresSQLConnection.value)))
                    }
                    return rows
                }
            }
        } catch {
            throw PostgresStore.storeError(error, what)
        }
    }

    public func transaction<T: Sendable>(_ work: SQLWork, _ what: String, _ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        let limit = switch work {
        case .read: PostgresStore.readTimeout
        case .snapshot, .write, .groupCommit, .unlocked: PostgresStore.writeTimeout
        case .report, .bulk: PostgresStore.bulkTimeout
        }
        let leased = Mutex<PostgresConnection?>(nil)
        do {
            return try await PostgresStore.bounded(limit, what, onTimeout: {
                // The thread waiting on a connection that does not answer is freed by closing it.
                if let connection = leased.withLock({ $0 }) { connection.close().whenComplete { _ in } }
            }) { [client, logger, threads] in
                try await client.withConnection { connection in
                    leased.withLock { $0 = connection }
                    return try await threads.runIfActive {
                        try PostgresSQLConnection(connection, logger: logger).run(work, body)
                    }
                }
            }
        } catch {
            throw PostgresStore.storeError(error, what)
        }
    }

    /// The longest a read, and a write transaction, may take — waiting for a connection included —
    /// before the caller gets `store_busy` (503) instead of waiting on a database that does not
    /// answer. A write cut off this way may still commit: the client retries it with its
    /// Idempotency-Key and gets the first answer.
    static let readTimeout: Duration = .seconds(5)
    static let writeTimeout: Duration = .seconds(10)
    /// The limit of bulk work: a fixtures import, a move from SQLite, an export.
    static let bulkTimeout: Duration = .seconds(3600)

    /// Runs `work`, or throws `store_busy` once `limit` has passed, or `CancellationError` when
    /// the caller is cancelled. The work is then cancelled and not waited for: a connection that
    /// never answers (seen after the database crashed mid-query) must not hold up the caller, nor
    /// the group commit behind it. The timer ends with the work (no task sleeps on). A transaction
    /// left open by abandoned work is ended by the server (`idle_in_transaction_session_timeout`,
    /// set on every connection: ``sessionSettings``), so it cannot hold the write lock.
    static func bounded<T: Sendable>(_ limit: Duration, _ what: String, onTimeout: @escaping @Sendable () -> Void = {},
                                     _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let race = Race<T>()
        let tasks = RaceTasks()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.begin(continuation)
                let timer = Task {
                    try? await Task.sleep(for: limit)
                    guard !Task.isCancelled else { return }
                    if race.finish(with: .failure(StoreError(.busy, "\(what): PostgreSQL did not answer within \(limit.components.seconds) s"))) {
                        tasks.state.withLock { $0.work }?.cancel()
                        onTimeout()
                    }
                }
                let task = Task {
                    let result = await Result(catching: { try await work() })
                    race.finish(with: result)
                    tasks.state.withLock { $0.timer }?.cancel()
                }
                tasks.state.withLock { $0 = (task, timer) }
                // The work may have finished before the timer was known to it.
                if race.isFinished { timer.cancel() }
                if Task.isCancelled, race.finish(with: .failure(CancellationError())) {
                    task.cancel()
                    timer.cancel()
                }
            }
        } onCancel: {
            if race.finish(with: .failure(CancellationError())) {
                let (work, timer) = tasks.state.withLock { $0 }
                work?.cancel()
                timer?.cancel()
            }
        }
    }

    /// What every connection of the pool sets at start: a transaction left idle (its caller gave
    /// up after ``writeTimeout``) is ended by the server within a minute, releasing its locks.
    static let sessionSettings: [(String, String)] = [("idle_in_transaction_session_timeout", "60s")]

    /// A failure as ``StoreError``: domain errors pass through; PostgreSQL's are `store_database`
    /// with the server's message and SQLSTATE (never a statement's arguments), or `store_busy`
    /// for a lock or statement timeout.
    static func storeError(_ error: any Error, _ what: String) -> StoreError {
        if let error = error as? StoreError { return error }
        if let error = error as? PSQLError {
            if let info = error.serverInfo {
                let state = info[.sqlState] ?? "?"
                if state == "55P03" || state == "57014" || state == "40001" || state == "40P01" {
                    return StoreError(.busy, "\(what): \(info[.message] ?? "busy") (SQLSTATE \(state))")
                }
                return StoreError(.database, "\(what): \(info[.message] ?? "error") (SQLSTATE \(state))")
            }
            return StoreError(.database, "\(what): PostgreSQL cannot be reached (\(error.underlying.map { "\($0)" } ?? "\(error.code)"))")
        }
        return StoreError(.database, "\(what): \(error)")
    }

    // MARK: Readiness

    public func ping() async -> Bool {
        (try? await transaction(.read, "ping") { db in try Int.fetchOne(db, sql: "SELECT 1") == 1 }) ?? false
    }
}

/// The first of two outcomes resumes the caller; the second is dropped.
/// The two tasks of a ``PostgresStore/bounded(_:_:_:)`` race, so either can cancel the other.
final class RaceTasks: Sendable {
    let state = Mutex<(work: Task<Void, Never>?, timer: Task<Void, Never>?)>((nil, nil))
}

final class Race<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T, any Error>?>(nil)

    func begin(_ waiting: CheckedContinuation<T, any Error>) { continuation.withLock { $0 = waiting } }

    /// Whether the caller was resumed (after ``begin(_:)``).
    var isFinished: Bool { continuation.withLock { $0 == nil } }

    /// Resumes the caller with `result` if nothing did before; returns whether this did.
    @discardableResult
    func finish(with result: Result<T, any Error>) -> Bool {
        guard let waiting = continuation.withLock({ state -> CheckedContinuation<T, any Error>? in
            defer { state = nil }
            return state
        }) else { return false }
        waiting.resume(with: result)
        return true
    }
}

extension Result where Failure == any Error {
    /// The outcome of an async throwing call.
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
