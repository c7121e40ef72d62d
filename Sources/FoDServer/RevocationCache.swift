import FoDEntitlements
import FoDStore
import Foundation
import Synchronization

/// Verification step 7 without a database read per token: the revoked ids in memory, loaded at
/// start, updated at once by this process's own revocations and refunds, and refreshed from the
/// store when they are older than ``refreshInterval``, for revocations made by other processes on
/// the same database. The refresh is awaited by the verify route before it verifies
/// (``refreshIfDue()``, on ``BlockingPool``), so verification itself never reads the database;
/// when the set is older than ``staleLimit`` — the refresh fails — verification fails (503), never
/// passes unchecked.
final class RevocationCache: RevocationSource, Sendable {
    /// The longest another process's revocation can go unseen here.
    static let refreshInterval: TimeInterval = 1
    /// Revocations are fetched again from this many seconds before the last refresh, so a
    /// revocation committed with an earlier timestamp during the refresh is not missed.
    static let overlap: Int64 = 5
    /// The oldest the set may be when a token is checked against it.
    static let staleLimit: TimeInterval = 3

    private struct State {
        var revoked: Set<EntitlementID>
        var refreshedAt: Date
        var since: Int64
        var refreshing = false
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

    /// Reads the revocations since the last refresh when the set is older than ``refreshInterval``
    /// (one caller reads; others meanwhile check against the set they have).
    /// - Throws: ``StoreError`` when the store cannot answer.
    func refreshIfDue() async throws {
        let (due, since) = state.withLock { state -> (Bool, Int64) in
            let due = -state.refreshedAt.timeIntervalSinceNow > RevocationCache.refreshInterval && !state.refreshing
            if due { state.refreshing = true }
            return (due, state.since)
        }
        guard due else { return }
        let now = clock.unixSeconds()
        let store = store
        do {
            let fresh = try await BlockingPool.run(.short) { try store.revokedIDs(since: since - RevocationCache.overlap) }
            _ = merge(fresh, readAt: now, checking: nil)
        } catch {
            state.withLock { $0.refreshing = false }
            throw error
        }
    }

    /// Whether `id` is revoked. A set older than ``staleLimit`` (a caller that did not await
    /// ``refreshIfDue()``, such as a test using the verifier directly) is refreshed here first.
    /// - Throws: ``StoreError`` when that refresh fails.
    func isRevoked(_ id: EntitlementID) throws -> Bool {
        let (revoked, age, since) = state.withLock { ($0.revoked.contains(id), -$0.refreshedAt.timeIntervalSinceNow, $0.since) }
        guard age > RevocationCache.staleLimit else { return revoked }
        let now = clock.unixSeconds()
        return merge(try store.revokedIDs(since: since - RevocationCache.overlap), readAt: now, checking: id)
    }

    /// Adds what a refresh read at `now`; answers whether `id` is revoked.
    private func merge(_ fresh: [EntitlementID], readAt now: Int64, checking id: EntitlementID?) -> Bool {
        state.withLock { state in
            state.revoked.formUnion(fresh)
            state.refreshedAt = Date()
            state.since = max(state.since, now)
            state.refreshing = false
            return id.map { state.revoked.contains($0) } ?? false
        }
    }

    /// Records a revocation this process has just committed.
    func insert(_ id: EntitlementID) {
        _ = state.withLock { $0.revoked.insert(id) }
    }
}
