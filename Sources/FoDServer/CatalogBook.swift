import FoDEntitlements
import FoDStore
import Synchronization

/// The catalog history in memory (versions, campaigns, retirements: small), read again from the
/// store at most once a second when asked — in the background, so a request never waits for it —
/// and at once after a change on this instance. Another instance's change is seen within about a
/// second; a version or campaign scheduled ahead is in memory long before it takes effect.
final class CatalogBook: Sendable {
    /// How long a snapshot is used before it is read again.
    static let ttl: Duration = .seconds(1)
    private let store: any EntitlementStore
    /// What the service was started with, for a store that holds no catalog at all.
    private let base: CatalogHistory
    private let state: Mutex<(history: CatalogHistory, loadedAt: ContinuousClock.Instant, loading: Bool)>

    init(store: any EntitlementStore, base: Catalog) async throws {
        self.store = store
        self.base = CatalogHistory(versions: [CatalogVersion(label: base.version, effectiveAt: 0, catalog: base)])
        let history = try await store.catalogHistory()
        state = Mutex((history.versions.isEmpty ? self.base : history, ContinuousClock.now, false))
    }

    /// The history as last read; starts a reading when it is older than ``ttl``.
    func history() -> CatalogHistory {
        let now = ContinuousClock.now
        let (history, stale) = state.withLock { state -> (CatalogHistory, Bool) in
            let stale = !state.loading && now - state.loadedAt > CatalogBook.ttl
            if stale { state.loading = true }
            return (state.history, stale)
        }
        if stale {
            Task { [self] in
                do { try await reload() } catch { state.withLock { $0.loading = false } }
            }
        }
        return history
    }

    /// Reads the history again now.
    func reload() async throws {
        let history = try await store.catalogHistory()
        state.withLock { $0 = (history.versions.isEmpty ? base : history, ContinuousClock.now, false) }
    }
}
