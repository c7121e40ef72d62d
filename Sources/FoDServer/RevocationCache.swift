import FoDEntitlements
import FoDStore
import Foundation
import Synchronization

/// Verification step 7 without a database read per token: the revoked ids in memory, loaded at
/// start, updated at once by this process's own revocations and refunds, and refreshed from the
/// store when they are older than ``refreshInterval``, for revocations made by other processes on
/// the same database — every instance of a PostgreSQL deployment sees another's revocation within
/// ``refreshInterval`` plus one read (under 1 s). The refresh is awaited by the verify route before it
/// verifies (``refreshIfDue()``), so verification itself never reads the database; when the set
/// is older than ``staleLimit`` — the refresh fails — verification fails (503), never passes
/// unchecked.
final class RevocationCache: RevocationSource, Sendable {
    /// The longest another process's revocation can go unseen here, less one read (an indexed
    /// query: `entitlement_revoked`).
    static let refreshInterval: Duration = .milliseconds(500)
    /// Revocations are fetched again from this many seconds before the last refresh, so a
    /// revocation committed with an earlier timestamp during the refresh is not missed.
    static let overlap: Int64 = 5
    /// The oldest the set may be when a token is checked against it.
    static let staleLimit: Duration = .seconds(3)

    private struct State {
        var revoked: Set<EntitlementID>
        /// When the set was last refreshed, on the monotonic clock: a wall clock stepped back
        /// must neither stop the refreshes nor make a stale set look fresh.
        var refreshedAt: ContinuousClock.Instant
        var since: Int64
        var refreshing = false
    }

    private let store: any LedgerStore
    private let clock: any WallClock
    private let state: Mutex<State>

    /// Starts with every revoked id, read from `store` just before.
    init(store: any LedgerStore, clock: any WallClock, revoked: [EntitlementID]) {
        self.store = store
        self.clock = clock
        state = Mutex(State(revoked: Set(revoked), refreshedAt: .now, since: clock.unixSeconds()))
    }

    /// Reads the revocations since the last refresh when the set is older than ``refreshInterval``
    /// (one caller reads; others meanwhile check against the set they have).
    /// - Throws: ``StoreError`` when the store cannot answer.
    func refreshIfDue() async throws {
        let (due, since) = state.withLock { state -> (Bool, Int64) in
            let due = ContinuousClock.now - state.refreshedAt > RevocationCache.refreshInterval && !state.refreshing
            if due { state.refreshing = true }
            return (due, state.since)
        }
        guard due else { return }
        let now = clock.unixSeconds()
        let store = store
        do {
            let fresh = try await store.revokedIDs(since: since - RevocationCache.overlap)
            let reinstated = try await store.reinstatedIDs(since: since - RevocationCache.overlap)
            merge(fresh, reinstated: reinstated, readAt: now)
        } catch {
            state.withLock { $0.refreshing = false }
            throw error
        }
    }

    /// Whether `id` is revoked.
    /// - Throws: ``StoreError`` `store_database` when the set is older than ``staleLimit`` (its
    ///   refreshes failed, or the caller did not await ``refreshIfDue()``): fail closed.
    func isRevoked(_ id: EntitlementID) throws -> Bool {
        let (revoked, age) = state.withLock { ($0.revoked.contains(id), ContinuousClock.now - $0.refreshedAt) }
        guard age <= RevocationCache.staleLimit else {
            throw StoreError(.database, "the revocations could not be read for \(age.components.seconds) s: tokens are not checked against a stale list")
        }
        return revoked
    }

    /// Takes what a refresh read at `now`: reinstated ids (live now) out, revoked ids in.
    private func merge(_ fresh: [EntitlementID], reinstated: [EntitlementID], readAt now: Int64) {
        state.withLock { state in
            state.revoked.subtract(reinstated)
            state.revoked.formUnion(fresh)
            state.refreshedAt = .now
            // The wall-clock time of this read, even when it is earlier than the last: after the
            // clock was stepped back, revocations carry the earlier times and are still found.
            state.since = now
            state.refreshing = false
        }
    }

    /// Records a revocation this process has just committed.
    func insert(_ id: EntitlementID) {
        _ = state.withLock { $0.revoked.insert(id) }
    }

    /// Records a reinstatement this process has just committed.
    func remove(_ id: EntitlementID) {
        _ = state.withLock { $0.revoked.remove(id) }
    }
}
