import NIOCore
import NIOPosix

/// The one way fod moves blocking work — every database call, a month's report, an events export,
/// the activations' group commit — off the threads that serve requests: a pool of threads for
/// blocking I/O (SwiftNIO's `NIOThreadPool`), which a handler awaits.
///
/// Sized for waiting, not for computing: a thread in the pool mostly waits on SQLite's disk I/O or
/// lock, and a long report must not hold up the small reads of other requests.
enum BlockingPool {
    /// Threads in the pool.
    static let threads = max(8, 4 * System.coreCount)

    /// The process's pool, started on first use and kept for the process's life.
    static let shared: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        return pool
    }()

    /// Runs `work` on the pool and returns its result.
    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await shared.runIfActive(work)
    }

    /// Starts `work` on the pool without waiting for it (the group commit's writer loop).
    static func start(_ work: @escaping @Sendable () -> Void) {
        shared.submit { _ in work() }
    }
}
