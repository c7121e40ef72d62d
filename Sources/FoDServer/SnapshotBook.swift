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
    private let state: Mutex<(value: Value, loadedAt: ContinuousClock.Instant, loading: Bool)>

    /// Reads the first snapshot.
    init(load: @escaping @Sendable () async throws -> Value) async throws {
        self.load = load
        state = Mutex((try await load(), ContinuousClock.now, false))
    }

    /// The snapshot as last read; starts a reading when it is older than ``ttl``.
    func current() -> Value {
        let now = ContinuousClock.now
        let (value, stale) = state.withLock { state -> (Value, Bool) in
            let stale = !state.loading && now - state.loadedAt > Self.ttl
            if stale { state.loading = true }
            return (state.value, stale)
        }
        if stale {
            Task { [self] in
                do { try await reload() } catch { state.withLock { $0.loading = false } }
            }
        }
        return value
    }

    /// Reads the snapshot again now.
    func reload() async throws {
        let value = try await load()
        state.withLock { $0 = (value, ContinuousClock.now, false) }
    }
}
