import Dispatch

/// Runs long blocking work (a month's report, an events export) on a dispatch queue instead of the
/// event loop that serves the request, so other connections on that loop are not held up.
enum Offload {
    private static let queue = DispatchQueue(label: "fod.reports", attributes: .concurrent)

    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }
}
