import FoDStore
import Synchronization

/// Group commit: requests that arrive while a transaction is being written wait and are then
/// written together in the next transaction — one commit (one fsync with `synchronous = FULL`)
/// for the whole group. A request is answered only after the transaction holding it has committed,
/// so a 2xx answer is on disk. One writer loop at a time per committer, in a task of its own; the
/// store runs the transaction where it must (SQLite in ``BlockingPool``'s commit lane, PostgreSQL
/// on its connection).
///
/// Used for activations (``FoDServices/activations``) and for new manifest versions
/// (``FoDServices/manifestVersions``).
final class GroupCommitter<Record: Sendable, Output: Sendable>: Sendable {
    /// The most records one transaction writes.
    let maxBatch: Int

    private typealias Waiter = (record: Record, continuation: CheckedContinuation<Output, any Error>)
    private struct State {
        var waiting: [Waiter] = []
        var writing = false
    }

    private let state = Mutex(State())
    /// Writes a group in one transaction, with one result per record.
    private let write: @Sendable ([Record]) async throws -> [Result<Output, StoreError>]
    /// Told how long each group's transaction took, with its outcome (for the metrics).
    private let observe: @Sendable (_ took: Duration, _ failed: Bool) -> Void

    init(maxBatch: Int = 64, write: @escaping @Sendable ([Record]) async throws -> [Result<Output, StoreError>],
         observe: @escaping @Sendable (_ took: Duration, _ failed: Bool) -> Void = { _, _ in }) {
        self.maxBatch = maxBatch
        self.write = write
        self.observe = observe
    }

    /// Records one record in the next group.
    /// - Throws: the record's ``StoreError`` (a conflict, an idempotency key reused), or the group's.
    func record(_ record: Record) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            let start = state.withLock { state -> Bool in
                state.waiting.append((record, continuation))
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            if start { Task { await self.drain() } }
        }
    }

    /// Writes groups until nobody waits.
    private func drain() async {
        while true {
            let group = state.withLock { state -> [Waiter] in
                let group = Array(state.waiting.prefix(maxBatch))
                state.waiting.removeFirst(group.count)
                if group.isEmpty { state.writing = false }
                return group
            }
            guard !group.isEmpty else { return }
            let started = ContinuousClock.now
            do {
                let results = try await write(group.map(\.record))
                observe(ContinuousClock.now - started, false)
                for (waiter, result) in zip(group, results) { waiter.continuation.resume(with: result.mapError { $0 as any Error }) }
            } catch {
                observe(ContinuousClock.now - started, true)
                for waiter in group { waiter.continuation.resume(throwing: error) }
            }
        }
    }
}
