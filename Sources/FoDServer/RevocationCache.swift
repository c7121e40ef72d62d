import FoDEntitlements
import FoDStore
import Foundation
import Synchronization

/// Verification step 7 without a database read per token: the revoked ids in memory, loaded at
/// start, updated at once by this process's own revocations and refunds, and refreshed from the
/// store at most ``refreshInterval`` apart for revocations made by other processes on the same
/// database. A refresh that fails makes verification fail (503), never pass unchecked.
final class RevocationCache: RevocationSource, Sendable {
    /// The longest another process's revocation can go unseen here.
    static let refreshInterval: TimeInterval = 1
    /// Revocations are fetched again from this many seconds before the last refresh, so a
    /// revocation committed with an earlier timestamp during the refresh is not missed.
    static let overlap: Int64 = 5

    private struct State {
        var revoked: Set<EntitlementID>
        var refreshedAt: Date
        var since: Int64
    }

    private let store: any LedgerStore
    private let clock: any WallClock
    private let state: Mutex<State>

    /// Loads every revoked id.
    /// - Throws: ``StoreError`` when the store cannot answer.
    init(store: any LedgerStore, clock: any WallClock) throws {
        self.store = store
        self.clock = clock
        let now = clock.unixSeconds()
        state = Mutex(State(revoked: Set(try store.revokedIDs(since: Int64.min)), refreshedAt: Date(), since: now))
    }

    func isRevoked(_ id: EntitlementID) throws -> Bool {
        // One lock on the common path: the answer, and whether a refresh is due.
        let (revoked, due, since) = state.withLock {
            ($0.revoked.contains(id), $0.refreshedAt.timeIntervalSinceNow < -RevocationCache.refreshInterval, $0.since)
        }
        guard due else { return revoked }
        let now = clock.unixSeconds()
        let fresh = try store.revokedIDs(since: since - RevocationCache.overlap)
        return state.withLock { state in
            state.revoked.formUnion(fresh)
            state.refreshedAt = Date()
            state.since = max(state.since, now)
            return state.revoked.contains(id)
        }
    }

    /// Records a revocation this process has just committed.
    func insert(_ id: EntitlementID) {
        _ = state.withLock { $0.revoked.insert(id) }
    }
}
