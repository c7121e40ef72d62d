import Synchronization

/// Groups concurrent requests into one store call: requests that arrive while a call is under
/// way wait and then go together in the next. Used for group commit (activations and new
/// manifest versions: one transaction, one fsync for the group, each request answered only once
/// the transaction holding it has committed — so a 2xx answer is on disk) and for batched reads
/// (PostgreSQL's vehicle read: one statement for the group). Alone, a request goes at once.
///
/// One call at a time. The call takes its group through ``PendingGroup/take()`` when it is ready
/// to handle it: a PostgreSQL transaction first takes the write lock and only then takes what is
/// waiting. A request only joins a group not yet taken, so it sees every write committed before
/// it. (Two calls at once — one writing, the next waiting for the lock and taking its group when
/// the lock passes — was measured on PostgreSQL and gained nothing: see docs/benchmarks.md.)
public final class Batcher<Record: Sendable, Output: Sendable>: Sendable {
    /// The most records one call handles.
    public let maxBatch: Int
    /// The most records that may wait for a call; more are refused at once with `store_busy`
    /// (the store is stalled: better a quick 503 than an unbounded queue).
    public let maxWaiting: Int

    fileprivate typealias Waiter = (id: UInt64, record: Record, continuation: CheckedContinuation<Output, any Error>)
    private struct State {
        var waiting: [Waiter] = []
        var running = false
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())
    private let call: @Sendable (PendingGroup<Record>) async throws -> [Result<Output, StoreError>]
    private let observe: @Sendable (_ took: Duration, _ failed: Bool) -> Void
    private let clock: @Sendable () -> Int64

    /// - Parameters:
    ///   - clock: the time a group is handled at (Unix seconds), read when it is taken.
    ///   - call: handles a group, with one result per record it took (in order).
    ///   - observe: told how long each non-empty group's call took, and whether it failed.
    public init(maxBatch: Int = 64, maxWaiting: Int = 1_024, clock: @escaping @Sendable () -> Int64 = { 0 },
                call: @escaping @Sendable (PendingGroup<Record>) async throws -> [Result<Output, StoreError>],
                observe: @escaping @Sendable (_ took: Duration, _ failed: Bool) -> Void = { _, _ in }) {
        precondition(maxBatch >= 1 && maxWaiting >= 1)
        self.maxBatch = maxBatch
        self.maxWaiting = maxWaiting
        self.clock = clock
        self.call = call
        self.observe = observe
    }

    /// Handles one record in the next group. A caller cancelled while its record still waits
    /// leaves the queue (`CancellationError`); once a call has taken it, it is answered with the
    /// call's outcome (it may be committed).
    /// - Throws: the record's ``StoreError`` (a conflict, an idempotency key reused), or the group's;
    ///   `store_busy` when ``maxWaiting`` records wait already.
    public func submit(_ record: Record) async throws -> Output {
        let id = state.withLock { state -> UInt64 in
            state.nextID &+= 1
            return state.nextID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let admission = state.withLock { state -> Admission in
                    if Task.isCancelled { return .cancelled }
                    guard state.waiting.count < maxWaiting else { return .full }
                    state.waiting.append((id, record, continuation))
                    guard !state.running else { return .queued }
                    state.running = true
                    return .start
                }
                switch admission {
                case .start: Task { await self.drain() }
                case .queued: break
                case .full: continuation.resume(throwing: StoreError(.busy, "\(maxWaiting) requests are waiting for the store already"))
                case .cancelled: continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            let removed = state.withLock { state -> Waiter? in
                guard let index = state.waiting.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiting.remove(at: index)
            }
            removed?.continuation.resume(throwing: CancellationError())
        }
    }

    /// How many records wait for a call now.
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// Takes up to ``maxBatch`` waiting records.
    private func takeWaiting() -> [Waiter] {
        state.withLock { state in
            let group = Array(state.waiting.prefix(maxBatch))
            state.waiting.removeFirst(group.count)
            return group
        }
    }

    /// Handles groups until nobody waits.
    private func drain() async {
        while true {
            let idle = state.withLock { state -> Bool in
                guard state.waiting.isEmpty else { return false }
                state.running = false
                return true
            }
            if idle { return }
            let taken = TakenGroup<Record, Output>()
            let group = PendingGroup<Record> { [self] in
                let waiters = takeWaiting()
                taken.hold(waiters)
                return (waiters.map(\.record), clock())
            }
            let started = ContinuousClock.now
            do {
                let results = try await call(group)
                let waiters = taken.waiters
                if !waiters.isEmpty { observe(ContinuousClock.now - started, false) }
                for (index, waiter) in waiters.enumerated() {
                    let result = index < results.count ? results[index] : .failure(StoreError(.database, "the store gave no result for this record"))
                    waiter.continuation.resume(with: result.mapError { $0 as any Error })
                }
            } catch {
                // A call that failed before it took its group (the database cannot be reached)
                // fails the group it would have taken, rather than leaving it waiting.
                let waiters = taken.didTake ? taken.waiters : takeWaiting()
                observe(ContinuousClock.now - started, true)
                for waiter in waiters { waiter.continuation.resume(throwing: error) }
            }
        }
    }
}

/// What ``Batcher/submit(_:)`` did with a record.
private enum Admission { case start, queued, full, cancelled }

/// The group a ``Batcher`` call handles, handed out when the call asks for it.
public struct PendingGroup<Record: Sendable>: Sendable {
    private let takeGroup: @Sendable () -> (records: [Record], now: Int64)

    init(_ take: @escaping @Sendable () -> (records: [Record], now: Int64)) { takeGroup = take }

    /// A group of records known already (a direct call, a test).
    public init(_ records: [Record], at now: Int64) { takeGroup = { (records, now) } }

    /// Takes the records waiting now (possibly none), and the time they are handled at. Called
    /// once per call, when it is ready for them (after taking the write lock).
    public func take() -> (records: [Record], now: Int64) { takeGroup() }
}

/// The waiters one call took.
private final class TakenGroup<Record: Sendable, Output: Sendable>: Sendable {
    private let state = Mutex<(taken: Bool, waiters: [Batcher<Record, Output>.Waiter])>((false, []))

    func hold(_ waiters: [Batcher<Record, Output>.Waiter]) { state.withLock { $0 = (true, $0.waiters + waiters) } }
    var waiters: [Batcher<Record, Output>.Waiter] { state.withLock { $0.waiters } }
    var didTake: Bool { state.withLock { $0.taken } }
}
