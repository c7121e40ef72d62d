import FoDEntitlements
import FoDInvoicing

/// The embedded store: ``FoDDatabase`` (SQLite) behind the async protocols. Every call runs on
/// ``BlockingPool`` — requests in the short lane, group commits in the commit lane, exports in the
/// long lane — so no SQLite read or fsync'd write runs on an event loop or a Swift concurrency
/// thread.
public struct SQLiteStore: EntitlementStore {
    /// The database underneath (synchronous: start-up, the command line, tests).
    public let database: FoDDatabase
    public let location: String

    /// Wraps an opened database.
    public init(_ database: FoDDatabase, location: String = "sqlite (in memory)") {
        self.database = database
        self.location = location
    }

    /// Opens (creating if needed) the SQLite file at `path`.
    /// - Throws: ``StoreError`` `store_database`.
    public init(path: String) throws {
        self.init(try FoDDatabase(path: path), location: "sqlite \(path)")
    }

    private func run<T: Sendable>(_ lane: BlockingPool.Lane = .short, _ work: @escaping @Sendable (FoDDatabase) throws -> T) async throws -> T {
        let database = database
        return try await BlockingPool.run(lane) { try work(database) }
    }

    public func importFixtures(dealers: String, vehicles: String, catalog: String, actor: String, at now: Int64) async throws {
        try await run { try $0.importFixtures(dealers: dealers, vehicles: vehicles, catalog: catalog, actor: actor, at: now) }
    }
    public func register(_ vehicle: Vehicle, actor: String, at now: Int64) async throws { try await run { try $0.register(vehicle, actor: actor, at: now) } }
    public func vehicle(_ vin: VIN) async throws -> Vehicle? { try await run { try $0.vehicle(vin) } }
    public func vehicleWithEntitlements(_ vin: VIN) async throws -> (vehicle: Vehicle, entitlements: [StoredEntitlement])? {
        try await run { try $0.vehicleWithEntitlements(vin) }
    }
    public func catalog() async throws -> Catalog { try await run { try $0.catalog() } }
    public func dealer(_ id: DealerID) async throws -> Dealer? { try await run { try $0.dealer(id) } }

    public func entitlements(of vin: VIN) async throws -> [StoredEntitlement] { try await run { try $0.entitlements(of: vin) } }
    public func entitlement(_ id: EntitlementID) async throws -> StoredEntitlement? { try await run { try $0.entitlement(id) } }
    public func idempotentResponse(principal: String, key: String, requestHash: RequestHash) async throws -> IdempotentResponse? {
        try await run { try $0.idempotentResponse(principal: principal, key: key, requestHash: requestHash) }
    }
    public func recordActivations(_ group: PendingGroup<ActivationRecord>) async throws -> [Result<RecordedActivation, StoreError>] {
        try await run(.commit) { database in
            let (records, now) = group.take()
            return try database.recordActivations(records, at: now)
        }
    }
    public func activationCount() async throws -> Int { try await run { try $0.activationCount() } }
    public func recordIssued(_ issued: IssuedToken<EntitlementClaims>, actor: String, at now: Int64) async throws {
        try await run { try $0.recordIssued(issued, actor: actor, at: now) }
    }
    public func liveEntitlements(after: EntitlementID?, limit: Int, at now: Int64) async throws -> [StoredEntitlement] {
        try await run { try $0.liveEntitlements(after: after, limit: limit, at: now) }
    }
    public func reissue(_ id: EntitlementID, token: String, replacing old: String, details: String, actor: String, at now: Int64) async throws -> Bool {
        try await run { try $0.reissue(id, token: token, replacing: old, details: details, actor: actor, at: now) }
    }
    public func revoke(entitlement id: EntitlementID, reason: String, actor: String, at now: Int64) async throws {
        try await run { try $0.revoke(entitlement: id, reason: reason, actor: actor, at: now) }
    }
    public func refund(activation id: EntitlementID, reason: RefundReason, note: String?, actor: String, at now: Int64) async throws {
        try await run { try $0.refund(activation: id, reason: reason, note: note, actor: actor, at: now) }
    }
    public func sale(of id: EntitlementID) async throws -> Sale? { try await run { try $0.sale(of: id) } }
    public func renewalsDue(at now: Int64, until: Int64, after: EntitlementID?, limit: Int) async throws -> [StoredEntitlement] {
        try await run { try $0.renewalsDue(at: now, until: until, after: after, limit: limit) }
    }
    public func recordRenewal(_ renewal: RenewalRecord, actor: String, at now: Int64) async throws -> Bool {
        try await run(.commit) { try $0.recordRenewal(renewal, actor: actor, at: now) }
    }
    public func cancelSubscription(_ id: EntitlementID, actor: String, at now: Int64) async throws -> StoredEntitlement {
        try await run { try $0.cancelSubscription(id, actor: actor, at: now) }
    }
    public func expiring(at now: Int64, until: Int64, dealer: DealerID?) async throws -> [StoredEntitlement] {
        try await run { try $0.expiring(at: now, until: until, dealer: dealer) }
    }
    public func assignDealer(_ dealer: DealerID, to vin: VIN, from: Int64, actor: String, at now: Int64) async throws {
        try await run { try $0.assignDealer(dealer, to: vin, from: from, actor: actor, at: now) }
    }
    public func dealerAssignments(of vin: VIN) async throws -> [DealerAssignment] { try await run { try $0.dealerAssignments(of: vin) } }
    public func revokedIDs(since: Int64) async throws -> [EntitlementID] { try await run { try $0.revokedIDs(since: since) } }
    public func reinstate(_ id: EntitlementID, reason: String, actor: String, at now: Int64) async throws {
        try await run { try $0.reinstate(id, reason: reason, actor: actor, at: now) }
    }
    public func reinstatedIDs(since: Int64) async throws -> [EntitlementID] { try await run { try $0.reinstatedIDs(since: since) } }
    public func transfers(of vin: VIN) async throws -> [Int64] { try await run { try $0.transfers(of: vin) } }
    public func transfersTakingEffect(after from: Int64, upTo to: Int64) async throws -> [(vin: VIN, effectiveAt: Int64)] {
        try await run { try $0.transfersTakingEffect(after: from, upTo: to) }
    }
    public func recordTransfer(_ plan: TransferPlan, actor: String, at now: Int64) async throws {
        try await run { try $0.recordTransfer(plan, actor: actor, at: now) }
    }
    public func manifestSnapshot(of vin: VIN) async throws -> ManifestSnapshot? { try await run { try $0.manifestSnapshot(of: vin) } }
    public func manifestVersions(_ requests: [ManifestVersionRequest], at now: Int64) async throws -> [ManifestVersion] {
        try await run(.commit) { try $0.manifestVersions(requests, at: now) }
    }
    public func exportEvents(_ query: EventQuery, write: @escaping @Sendable ([UInt8]) async throws -> Void) async throws {
        // Page by page on the long lane, each handed over before the next is read (a large
        // export is never held whole); bounded by the ledger's mark, so the pages are one moment's.
        let query = try await run { try $0.atLedgerMark(query) }
        var after: FoDDatabase.ExportCursor?
        repeat {
            try Task.checkCancellation()
            let from = after
            let page = try await run(.long) { try $0.exportPage(query, after: from) }
            try await write(page.bytes)
            after = page.next
        } while after != nil
    }

    public func ledgerMark() async throws -> LedgerMark { try await run { try $0.ledgerMark() } }
    public func eventStamps(_ query: EventQuery) async throws -> [EventStamp] { try await run(.long) { try $0.eventStamps(query) } }
    public func closedPeriod(_ period: String) async throws -> ClosedPeriod? { try await run { try $0.closedPeriod(period) } }
    public func firstEventAt() async throws -> Int64? { try await run { try $0.firstEventAt() } }
    public func statementKeys() async throws -> [String] { try await run { try $0.statementKeys() } }
    public func keepStatementKey(kid: String, jwk: String, at now: Int64) async throws { try await run { try $0.keepStatementKey(kid: kid, jwk: jwk, at: now) } }
    public func closedRange() async throws -> (first: String, last: String)? {
        let range = try await run { database -> [String]? in try database.closedRange().map { [$0.first, $0.last] } }
        return range.map { ($0[0], $0[1]) }
    }
    public func dealerParties() async throws -> [String: LegalParty] { try await run { try $0.dealerParties() } }
    public func latestCreditNote(dealer: String, currency: String) async throws -> String? {
        try await run { try $0.latestCreditNote(dealer: dealer, currency: currency) }
    }
    public func pendingAdjustments(upTo now: Int64) async throws -> [Adjustment] { try await run { try $0.pendingAdjustments(upTo: now) } }
    public func closePeriod(_ plan: ClosePlan, actor: String) async throws -> ClosedPeriod {
        try await run(.long) { try $0.closePeriod(plan, actor: actor) }
    }
    public func creditNotes(period: String?, dealer: String?) async throws -> [CreditNote] {
        try await run { try $0.creditNotes(period: period, dealer: dealer) }
    }
    public func creditNote(_ number: String) async throws -> CreditNote? { try await run { try $0.creditNote(number) } }
    public func bookExtract(dealer: String, from: String, to: String) async throws -> [BookLine] {
        try await run(.long) { try $0.bookExtract(dealer: dealer, from: from, to: to) }
    }
    public func raiseObjection(creditNote: String, dealer: String, eventID: String?, reason: String, actor: String, at now: Int64) async throws -> Objection {
        try await run { try $0.raiseObjection(creditNote: creditNote, dealer: dealer, eventID: eventID, reason: reason, actor: actor, at: now) }
    }
    public func objections(creditNote: String?, dealer: String?, status: Objection.Status?) async throws -> [Objection] {
        try await run { try $0.objections(creditNote: creditNote, dealer: dealer, status: status) }
    }
    public func objection(_ id: String) async throws -> Objection? { try await run { try $0.objection(id) } }
    public func resolveObjection(_ id: String, _ decision: ObjectionDecision, actor: String, at now: Int64) async throws -> Objection {
        try await run { try $0.resolveObjection(id, decision, actor: actor, at: now) }
    }

    public func events(after seq: Int64, limit: Int, dealer: String?) async throws -> [OutboxEvent] {
        try await run { try $0.events(after: seq, limit: limit, dealer: dealer) }
    }
    public func createWebhook(url: String, types: [String], secret: String, actor: String, at now: Int64) async throws -> WebhookEndpoint {
        try await run { try $0.createWebhook(url: url, types: types, secret: secret, actor: actor, at: now) }
    }
    public func webhooks() async throws -> [WebhookEndpoint] { try await run { try $0.webhooks() } }
    public func webhook(_ id: String) async throws -> WebhookEndpoint? { try await run { try $0.webhook(id) } }
    public func deleteWebhook(_ id: String, actor: String, at now: Int64) async throws { try await run { try $0.deleteWebhook(id, actor: actor, at: now) } }
    public func claimWebhook(owner: String, nowMs: Int64, leaseMs: Int64, limit: Int) async throws -> WebhookClaim? {
        // The long lane: webhook bookkeeping never takes the request lane's threads, also while a writer holds the lock.
        try await run(.long) { try $0.claimWebhook(owner: owner, nowMs: nowMs, leaseMs: leaseMs, limit: limit) }
    }
    public func recordAttempts(_ claim: WebhookClaim, owner: String, _ attempts: [WebhookAttempt]) async throws {
        try await run(.long) { try $0.recordAttempts(claim, owner: owner, attempts) }
    }
    public func deliveries(of id: String, limit: Int) async throws -> [WebhookDelivery] { try await run { try $0.deliveries(of: id, limit: limit) } }
    public func rewindWebhook(_ id: String, after seq: Int64?, actor: String, at now: Int64) async throws -> WebhookEndpoint {
        try await run { try $0.rewindWebhook(id, after: seq, actor: actor, at: now) }
    }
    public func recordRootVersion(_ root: RootVersionRecord, at now: Int64) async throws -> Bool {
        try await run { try $0.recordRootVersion(root, at: now) }
    }

    public func createAPIKey(role: Role, dealer: DealerID?, label: String, actor: String, at now: Int64) async throws -> (record: APIKeyRecord, secret: String) {
        let created = try await run { try $0.createAPIKey(role: role, dealer: dealer, label: label, actor: actor, at: now) }
        return (created.record, created.secret)
    }
    public func authenticate(secret: String) async throws -> Principal? { try await run { try $0.authenticate(secret: secret) } }
    public func listAPIKeys() async throws -> [APIKeyRecord] { try await run { try $0.listAPIKeys() } }
    public func revokeAPIKey(id: String, actor: String, at now: Int64) async throws { try await run { try $0.revokeAPIKey(id: id, actor: actor, at: now) } }
    public func createSession(for principal: Principal, lifetime: Int64, at now: Int64) async throws -> (cookie: String, session: WebSession) {
        let created = try await run { try $0.createSession(for: principal, lifetime: lifetime, at: now) }
        return (created.cookie, created.session)
    }
    public func session(cookie: String, at now: Int64) async throws -> WebSession? { try await run { try $0.session(cookie: cookie, at: now) } }
    public func endSession(cookie: String, at now: Int64) async throws { try await run { try $0.endSession(cookie: cookie, at: now) } }
    public func sharedSecret(_ name: String) async throws -> [UInt8] { try await run { try $0.sharedSecret(name) } }

    public func verifyAudit() async throws -> Int64 { try await run(.long) { try $0.verifyAudit() } }
    public func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry] { try await run { try $0.auditEntries(after: seq, limit: limit) } }

    public func ping() async -> Bool { (try? await run { $0.ping() }) ?? false }
    public func checkWritable() async throws { try await run { try $0.checkWritable() } }
}
