import FoDCore
import FoDEntitlements
import FoDStore
import HTTPTypes
import Hummingbird
import NIOCore

/// The store as request handlers use it: every call is `async` and runs on ``BlockingPool``, so no
/// SQLite read or fsync'd write runs on an event loop. The protocols below it (``EntitlementStore``)
/// stay synchronous for the command line and the tests.
struct AsyncStore: Sendable {
    /// The store underneath.
    let base: any EntitlementStore

    /// Runs several calls in one trip to the pool (`.long` for a report or an export).
    func run<T: Sendable>(_ lane: BlockingPool.Lane = .short, _ work: @escaping @Sendable (any EntitlementStore) throws -> T) async throws -> T {
        let base = base
        return try await BlockingPool.run(lane) { try work(base) }
    }

    func vehicle(_ vin: VIN) async throws -> Vehicle? { try await run { try $0.vehicle(vin) } }
    func dealer(_ id: DealerID) async throws -> Dealer? { try await run { try $0.dealer(id) } }
    func register(_ vehicle: Vehicle, actor: String, at now: Int64) async throws { try await run { try $0.register(vehicle, actor: actor, at: now) } }
    func entitlements(of vin: VIN) async throws -> [StoredEntitlement] { try await run { try $0.entitlements(of: vin) } }
    func entitlement(_ id: EntitlementID) async throws -> StoredEntitlement? { try await run { try $0.entitlement(id) } }
    func recordIssued(_ issued: IssuedToken<EntitlementClaims>, actor: String, at now: Int64) async throws {
        try await run { try $0.recordIssued(issued, actor: actor, at: now) }
    }
    func revoke(entitlement id: EntitlementID, reason: String, actor: String, at now: Int64) async throws {
        try await run { try $0.revoke(entitlement: id, reason: reason, actor: actor, at: now) }
    }
    func refund(activation id: EntitlementID, actor: String, at now: Int64) async throws {
        try await run { try $0.refund(activation: id, actor: actor, at: now) }
    }
    func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry] { try await run { try $0.auditEntries(after: seq, limit: limit) } }
    func authenticate(secret: String) async throws -> Principal? { try await run { try $0.authenticate(secret: secret) } }
    func createSession(for principal: Principal, lifetime: Int64, at now: Int64) async throws -> (cookie: String, session: WebSession) {
        try await run { try $0.createSession(for: principal, lifetime: lifetime, at: now) }
    }
    func session(cookie: String, at now: Int64) async throws -> WebSession? { try await run { try $0.session(cookie: cookie, at: now) } }
    func endSession(cookie: String, at now: Int64) async throws { try await run { try $0.endSession(cookie: cookie, at: now) } }
    func ping() async -> Bool { (try? await run { $0.ping() }) ?? false }
    func checkWritable() async throws { try await run { try $0.checkWritable() } }
}
