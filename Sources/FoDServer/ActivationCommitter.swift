import FoDEntitlements
import FoDStore
import Synchronization

/// Group commit for activations: requests that arrive while a transaction is being written wait and
/// are then written together in the next transaction — one commit (one fsync with
/// `synchronous = FULL`) for the whole group, each under its own savepoint. A request is answered
/// only after the transaction holding it has committed, so a 2xx answer is on disk. The writer
/// loop runs on ``BlockingPool``, never on the threads that serve requests; one loop at a time.
final class ActivationCommitter: Sendable {
    /// The most activations one transaction writes.
    static let maxBatch = 64

    private typealias Waiter = (record: ActivationRecord, continuation: CheckedContinuation<RecordedActivation, any Error>)
    private struct State {
        var waiting: [Waiter] = []
        var writing = false
    }

    private let store: any LedgerStore
    private let clock: any WallClock
    private let state = Mutex(State())

    /// Told how long each group's transaction took, with its outcome (for the metrics).
    private let observe: @Sendable (_ took: Duration, _ failed: Bool) -> Void

    init(store: any LedgerStore, clock: any WallClock, observe: @escaping @Sendable (_ took: Duration, _ failed: Bool) -> Void = { _, _ in }) {
        self.store = store
        self.clock = clock
        self.observe = observe
    }

    /// Records one activation in the next group.
    /// - Throws: the record's ``StoreError`` (conflict, idempotency key reused), or the group's.
    func record(_ record: ActivationRecord) async throws -> RecordedActivation {
        try await withCheckedThrowingContinuation { continuation in
            let start = state.withLock { state -> Bool in
                state.waiting.append((record, continuation))
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            if start { BlockingPool.start(.commit) { self.drain() } }
        }
    }

    /// Writes groups until nobody waits.
    private func drain() {
        while true {
            let group = state.withLock { state -> [Waiter] in
                let group = Array(state.waiting.prefix(ActivationCommitter.maxBatch))
                state.waiting.removeFirst(group.count)
                if group.isEmpty { state.writing = false }
                return group
            }
            guard !group.isEmpty else { return }
            let started = ContinuousClock.now
            do {
                let results = try store.recordActivations(group.map(\.record), at: clock.unixSeconds())
                observe(ContinuousClock.now - started, false)
                for (waiter, result) in zip(group, results) { waiter.continuation.resume(with: result.mapError { $0 as any Error }) }
            } catch {
                observe(ContinuousClock.now - started, true)
                for waiter in group { waiter.continuation.resume(throwing: error) }
            }
        }
    }
}
