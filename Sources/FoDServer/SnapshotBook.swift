import Synchronization

/// Master data that changes by date and is small — the catalog history, the commission plan —
/// held in memory and read again from the store at most once a second when asked, in the
/// background (a request never waits for it), and at once after a change on this instance. Another
/// instance's change is seen within about a second; what is scheduled ahead is in memory long
/// before it takes effect.
final class SnapshotBook<Value: Sendable>: Sendable {
    /// How long a snapshot is used before it is read again.
    static var ttl: Duration { .seconds(1) }
    private let load: @Sendable () async throws -> Value
    private let state: Mutex<(value: Value, loadedAt: ContinuousClock.Instant, loading: Bool, generation: Int)>

    /// Reads the first snapshot.
    init(load: @escaping @Sendable () async throws -> Value) async throws {
        self.load = load
        state = Mutex((try await load(), ContinuousClock.now, false, 0))
    }

    /// The snapshot as last read; starts a reading when it is older than ``ttl``.
    func current() -> Value { versioned().value }

    /// The snapshot and its generation (a number that changes when a reading replaces it), for
    /// caches of what is derived from it.
    func versioned() -> (value: Value, generation: Int) {
        let now = ContinuousClock.now
        let (value, generation, stale) = state.withLock { state -> (Value, Int, Bool) in
            let stale = !state.loading && now - state.loadedAt > Self.ttl
            if stale { state.loading = true }
            return (state.value, state.generation, stale)
        }
        if stale {
            Task { [self] in
                do { try await reload() } catch { state.withLock { $0.loading = false } }
            }
        }
        return (value, generation)
    }

    /// Reads the snapshot again now.
    func reload() async throws {
        let value = try await load()
        state.withLock { $0 = (value, ContinuousClock.now, false, $0.generation + 1) }
    }
}

/// One value derived from a snapshot, shared by the requests that ask for it (a struct's cache).
final class Memo<Value: Sendable>: Sendable {
    let value = Mutex<Value?>(nil)
}
