import NIOCore
import NIOPosix

/// The one way fod moves blocking work — every SQLite call, a month's report, an events export,
/// the activations' group commit — off the threads that serve requests: SwiftNIO's `NIOThreadPool`
/// in three lanes, which a handler awaits.
///
/// - ``Lane/short``: the database calls of requests, one thread per core. More threads than cores
///   cost half the activations' and manifests' throughput on the 2-core benchmark machine
///   (8 threads: 1,417 activations/s, 2 threads: 3,167/s; `scripts/bench-service.py`).
/// - ``Lane/long``: reports and exports, which take seconds and must not hold up the short calls.
/// - ``Lane/commit``: the group-commit writers (activations, manifest versions), a thread each so
///   that one busy writer does not hold up the other.
/// - ``Lane/resolve``: name resolution (`getaddrinfo`, the webhook address checks), which a slow
///   resolver can block for many seconds: kept off the short lane the API's database calls use.
public enum BlockingPool {
    /// Which threads run the work.
    public enum Lane: Sendable {
        case short, long, commit, resolve
    }

    private static func started(_ threads: Int) -> NIOThreadPool {
        let pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        return pool
    }

    /// The lanes, started on first use and kept for the process's life.
    private static let short = started(System.coreCount)
    private static let long = started(2)
    private static let commit = started(2)
    private static let resolve = started(2)

    private static func pool(_ lane: Lane) -> NIOThreadPool {
        switch lane {
        case .short: short
        case .long: long
        case .commit: commit
        case .resolve: resolve
        }
    }

    /// Runs `work` in `lane` and returns its result.
    public static func run<T: Sendable>(_ lane: Lane = .short, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool(lane).runIfActive(work)
    }

    /// Starts `work` in `lane` without waiting for it (the group commit's writer loop).
    public static func start(_ lane: Lane, _ work: @escaping @Sendable () -> Void) {
        pool(lane).submit { _ in work() }
    }
}
