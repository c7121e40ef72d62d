import FoDCrypto
import FoDEntitlements

/// One vehicle's manifest content, to be given a version.
public struct ManifestVersionRequest: Sendable {
    public let vin: VIN
    /// The content's digest (``ManifestSnapshot/digest(_:)``), computed once.
    public let digest: String
    /// The last version is given again only if it was issued at or after this (Unix seconds);
    /// older, the manifest is due for a fresher `exp` and gets the next version (docs/trust.md,
    /// "Manifest freshness").
    public let reusableSince: Int64

    /// - Parameter signer: the `kid` the manifest is signed with (part of the content: a manifest
    ///   signed by another key is a new version).
    public init(vin: VIN, entries: [ManifestClaims.Entry], signer: String = "", reusableSince: Int64 = .min) {
        self.vin = vin
        self.digest = ManifestSnapshot.digest(entries, signer: signer)
        self.reusableSince = reusableSince
    }
}

/// A manifest version and when it was issued: a manifest's `iat` (its `exp` follows from it), so
/// that the same version is always the same claims.
public struct ManifestVersion: Sendable, Equatable {
    public let version: Int64
    public let issuedAt: Int64

    public init(version: Int64, issuedAt: Int64) {
        self.version = version
        self.issuedAt = issuedAt
    }
}

/// What a manifest is made from: the vehicle's entitlements and the version last given to it,
/// with that content's digest (``digest(_:)``).
public struct ManifestSnapshot: Sendable {
    public let entitlements: [StoredEntitlement]
    public let last: (version: Int64, digest: String, issuedAt: Int64)?

    public init(entitlements: [StoredEntitlement], last: (version: Int64, digest: String, issuedAt: Int64)?) {
        self.entitlements = entitlements
        self.last = last
    }

    /// The content digest of a manifest's entries, which decides whether its version changes.
    public static func digest(_ entries: [ManifestClaims.Entry], signer: String = "") -> String {
        var input: [UInt8] = signer.isEmpty ? [] : Array("signer|\(signer)\n".utf8)
        for entry in entries.sorted(by: { $0.id < $1.id }) {
            input += Array("\(entry.id)|\(entry.feature)|\(entry.term)|\(entry.notBefore)|\(entry.expiresAt.map(String.init) ?? "-")\n".utf8)
        }
        return SHA256.hexHash(input)
    }

    /// The last version, if `request`'s content is what it was given for and it is recent enough
    /// (``ManifestVersionRequest/reusableSince``).
    public func reusableVersion(for request: ManifestVersionRequest) -> ManifestVersion? {
        guard let last, last.digest == request.digest, last.issuedAt >= request.reusableSince else { return nil }
        return ManifestVersion(version: last.version, issuedAt: last.issuedAt)
    }
}

/// Dealers, vehicles and the catalog.
public protocol MasterDataStore: Sendable {
    /// Loads dealers, vehicles and the catalog from JSON documents, replacing the catalog.
    func importFixtures(dealers: String, vehicles: String, catalog: String, actor: String, at now: Int64) async throws
    /// Registers or updates a vehicle.
    func register(_ vehicle: Vehicle, actor: String, at now: Int64) async throws
    /// The vehicle with this VIN, or `nil`.
    func vehicle(_ vin: VIN) async throws -> Vehicle?
    /// The vehicle with this VIN and its entitlements (newest first) in one read, or `nil`.
    func vehicleWithEntitlements(_ vin: VIN) async throws -> (vehicle: Vehicle, entitlements: [StoredEntitlement])?
    /// The current catalog.
    func catalog() async throws -> Catalog
    /// Makes `dealer` the vehicle's servicing dealer from `from` (Unix seconds) on; a second
    /// assignment with the same `from` replaces the first. Sales already recorded keep their dealer.
    /// - Throws: ``StoreError`` `not_found` (no such vehicle), `dealer_unknown`.
    func assignDealer(_ dealer: DealerID, to vin: VIN, from: Int64, actor: String, at now: Int64) async throws
    /// The vehicle's servicing dealers with their effective dates, oldest first (empty: none
    /// assigned; the registration's `dealer_id` applies).
    func dealerAssignments(of vin: VIN) async throws -> [DealerAssignment]
}

/// Entitlements, activation and refund events, idempotency records and manifest versions: the ledger.
public protocol LedgerStore: Sendable {
    /// Entitlements of a vehicle, newest first.
    func entitlements(of vin: VIN) async throws -> [StoredEntitlement]
    /// One entitlement by id.
    func entitlement(_ id: EntitlementID) async throws -> StoredEntitlement?
    /// The stored answer of an idempotency key; throws `idempotency_key_reused` for another request.
    func idempotentResponse(principal: String, key: String, requestHash: RequestHash) async throws -> IdempotentResponse?
    /// Records activations (each: entitlement, event, idempotency record, audit entry) in one
    /// transaction, with one result per record. Two records with one key (or one vehicle and
    /// feature) in a group are taken in turn: the second replays (or conflicts with) the first.
    /// The group is taken (``PendingGroup/take()``) once the transaction may write.
    func recordActivations(_ group: PendingGroup<ActivationRecord>) async throws -> [Result<RecordedActivation, StoreError>]
    /// The number of activation events.
    func activationCount() async throws -> Int
    /// Why each of these activation events' sales was credited to its site (event id → reason;
    /// events without one are left out).
    func attributions(of eventIDs: [String]) async throws -> [String: String]
    /// Records a directly issued entitlement.
    func recordIssued(_ issued: IssuedToken<EntitlementClaims>, actor: String, at now: Int64) async throws
    /// The key ids (`kid`) that signed entitlements not revoked, each once (an index walk, not a
    /// read of every token), after recording the key id of rows stored before it was kept.
    func entitlementKeyIDs() async throws -> [String]
    /// Live entitlements signed by one of `kids`, in id order after `after`, at most `limit`.
    func liveEntitlements(signedBy kids: [String], after: EntitlementID?, limit: Int, at now: Int64) async throws -> [StoredEntitlement]
    /// Replaces an entitlement's token by one of the same claims signed by another key, if its
    /// token is still `replacing` (another instance may have done it): returns whether it did,
    /// with an audit entry `entitlement.reissue`.
    func reissue(_ id: EntitlementID, token: String, replacing old: String, details: String, actor: String, at now: Int64) async throws -> Bool
    /// Revokes an entitlement with a reason.
    func revoke(entitlement id: EntitlementID, reason: String, actor: String, at now: Int64) async throws
    /// Records the refund of an activation (a withdrawal is one) and revokes its entitlement with
    /// the reason's name.
    /// - Throws: ``StoreError`` `not_found` for an unknown activation, `conflict` when already refunded.
    func refund(activation id: EntitlementID, reason: RefundReason, note: String?, actor: String, at now: Int64) async throws
    /// The sale of an entitlement (activation event, consent, refund), or `nil` when it was not sold.
    func sale(of id: EntitlementID) async throws -> Sale?
    /// Subscriptions due for renewal: live `subscription` entitlements ending after `now` and at
    /// or before `until`, neither renewed nor cancelled, in id order after `after`, at most `limit`.
    func renewalsDue(at now: Int64, until: Int64, after: EntitlementID?, limit: Int) async throws -> [StoredEntitlement]
    /// Records a renewal once (the next period's entitlement, event and consent with the link to
    /// the previous period, in one transaction); `false` when the previous period was renewed by
    /// another run, cancelled or revoked meanwhile, and nothing is written.
    func recordRenewal(_ renewal: RenewalRecord, actor: String, at now: Int64) async throws -> Bool
    /// Cancels a subscription at the end of its paid period; returns the period that ends.
    /// - Throws: ``StoreError`` `not_found`, `invalid` (not a subscription), `conflict` (cancelled already).
    func cancelSubscription(_ id: EntitlementID, actor: String, at now: Int64) async throws -> StoredEntitlement
    /// Live entitlements ending after `now` and at or before `until` that do not go on (not
    /// renewed; a subscription only once cancelled), soonest first, one dealer's or all: at most
    /// `limit`, after `after` (the last of the page before: its end and id).
    func expiring(at now: Int64, until: Int64, dealer: DealerID?, after: ExpiringCursor?, limit: Int) async throws -> [StoredEntitlement]
    /// Ids of the entitlements revoked at or after `since` (Unix seconds), for revocation caches.
    func revokedIDs(since: Int64) async throws -> [EntitlementID]
    /// Undoes a revocation with a reason (kept with the revocation it undid, and audited).
    /// - Throws: ``StoreError`` `not_found`, `not_revoked`, `refund_not_reinstatable`, `conflict`
    ///   (the feature is active through another entitlement).
    func reinstate(_ id: EntitlementID, reason: String, actor: String, at now: Int64) async throws
    /// Ids reinstated at or after `since` and live now, for revocation caches.
    func reinstatedIDs(since: Int64) async throws -> [EntitlementID]
    /// Records a change of owner (``TransferPlan``) in one transaction.
    /// - Throws: ``StoreError`` `not_found`, `transfer_recorded`, `conflict` (changed meanwhile).
    func recordTransfer(_ plan: TransferPlan, actor: String, at now: Int64) async throws
    /// The moments the vehicle's changes of owner take effect, earliest first.
    func transfers(of vin: VIN) async throws -> [Int64]
    /// Changes of owner recorded ahead of their date that take effect in `(from, to]`.
    func transfersTakingEffect(after from: Int64, upTo to: Int64) async throws -> [(vin: VIN, effectiveAt: Int64)]
    /// The vehicle's entitlements and last manifest version in one read; `nil` when not registered.
    func manifestSnapshot(of vin: VIN) async throws -> ManifestSnapshot?
    /// The manifest versions for several vehicles' content in one transaction (one commit), in
    /// order: the last version when a vehicle's content is unchanged and the version recent
    /// enough (``ManifestVersionRequest/reusableSince``), else the next, issued `now` (never
    /// reused); a vehicle named twice gets its versions in turn.
    func manifestVersions(_ requests: [ManifestVersionRequest], at now: Int64) async throws -> [ManifestVersion]
    /// Writes the events a query selects — all, or one dealer's activations and their refunds,
    /// by occurrence and by commit (``EventQuery``) — as the CSV `fod report` reads, in blocks.
    func exportEvents(_ query: EventQuery, write: @escaping @Sendable ([UInt8]) async throws -> Void) async throws
}

/// API keys (stored as hashes), dealer web sessions and the secrets instances share.
public protocol AccessStore: Sendable {
    /// Creates a key; the secret is returned once.
    func createAPIKey(role: Role, dealer: DealerID?, salesperson: SalespersonID?, label: String, actor: String, at now: Int64) async throws -> (record: APIKeyRecord, secret: String)
    /// The principal of a presented secret, or `nil`.
    func authenticate(secret: String, at now: Int64) async throws -> Principal?
    /// Every key, without secrets.
    func listAPIKeys() async throws -> [APIKeyRecord]
    /// Revokes a key.
    func revokeAPIKey(id: String, actor: String, at now: Int64) async throws
    /// Starts a dealer web session.
    func createSession(for principal: Principal, lifetime: Int64, at now: Int64) async throws -> (cookie: String, session: WebSession)
    /// The live session of a cookie value, or `nil`.
    func session(cookie: String, at now: Int64) async throws -> WebSession?
    /// Ends a session.
    func endSession(cookie: String, at now: Int64) async throws
    /// A 256-bit secret by name, made on first use and the same for every instance on this
    /// database (the dealer sign-in form's CSRF key).
    func sharedSecret(_ name: String) async throws -> [UInt8]
}

/// The append-only, hash-chained audit log.
public protocol AuditStore: Sendable {
    /// Checks the chain; returns the number of entries.
    func verifyAudit() async throws -> Int64
    /// Entries after a sequence number.
    func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry]
    /// The entries about any of `subjects`, newest first.
    func auditEntries(subjects: [String], limit: Int) async throws -> [AuditEntry]
    /// A search: subject, who (contains), action, time, before a sequence number; newest first;
    /// with `window`, only the `window` entries before `before` (or the newest) are searched, and
    /// the answer says the lowest sequence number searched (`nil`: back to the first entry).
    func searchAudit(subject: String?, actor: String?, action: String?, from: Int64?, to: Int64?, before: Int64?, window: Int64?,
                     limit: Int) async throws -> (entries: [AuditEntry], searchedFrom: Int64?)
}

/// Everything the service keeps: what `fod serve` runs on. ``SQLiteStore`` (over ``FoDDatabase``)
/// is the embedded implementation, `PostgresStore` (module FoDPostgres) the one for several
/// instances; both run the same tests.
public protocol EntitlementStore: MasterDataStore, LedgerStore, AccessStore, AuditStore, PeriodStore, EventStore, NetworkStore, CatalogStore, PlanStore, QuoteStore, VehicleStateStore, StaffSessionStore, ProposalStore {
    /// Whether the store answers (readiness).
    func ping() async -> Bool
    /// Whether a write reaches the disk (readiness).
    /// - Throws: ``StoreError`` `store_database` or `store_busy`.
    func checkWritable() async throws
    /// Which database this is, for logs and the start banner (no password).
    var location: String { get }
}

/// One table's rows for a move between databases: column names and text values (`nil` for NULL;
/// BLOBs in hex).
public struct TableDump: Sendable {
    public let table: String
    public let columns: [String]
    public let rows: [[String?]]

    public init(table: String, columns: [String], rows: [[String?]]) {
        self.table = table
        self.columns = columns
        self.rows = rows
    }

    /// The tables, parents before children (``Schema/tables``).
    public static var tableOrder: [String] { Schema.tables }
}

/// Where a page of ``LedgerStore/expiring(at:until:dealer:after:limit:)`` ended: the last
/// entitlement's end and id; as text `<end>~<id>`.
public struct ExpiringCursor: Sendable, Hashable {
    public let expiresAt: Int64
    public let id: EntitlementID

    public init(expiresAt: Int64, id: EntitlementID) {
        self.expiresAt = expiresAt
        self.id = id
    }

    /// The cursor of `text`, or `nil` when it is not one.
    public init?(_ text: String) {
        let parts = text.split(separator: "~", maxSplits: 1)
        guard parts.count == 2, let end = Int64(parts[0]), let id = try? EntitlementID(String(parts[1])) else { return nil }
        self.init(expiresAt: end, id: id)
    }

    public var text: String { "\(expiresAt)~\(id.value)" }
}

extension AccessStore {
    /// A key that names no salesperson.
    public func createAPIKey(role: Role, dealer: DealerID?, label: String, actor: String, at now: Int64) async throws -> (record: APIKeyRecord, secret: String) {
        try await createAPIKey(role: role, dealer: dealer, salesperson: nil, label: label, actor: actor, at: now)
    }
}

extension LedgerStore {
    /// The first 1,000 of what ends within the window.
    public func expiring(at now: Int64, until: Int64, dealer: DealerID?) async throws -> [StoredEntitlement] {
        try await expiring(at: now, until: until, dealer: dealer, after: nil, limit: 1_000)
    }

    /// The events between `from` and `to` — all, or one dealer's activations and their refunds.
    public func exportEvents(from: Int64?, to: Int64?, dealer: DealerID?, write: @escaping @Sendable ([UInt8]) async throws -> Void) async throws {
        try await exportEvents(EventQuery(from: from, to: to, dealer: dealer), write: write)
    }

    /// Records the OEM's refund of an activation.
    public func refund(activation id: EntitlementID, actor: String, at now: Int64) async throws {
        try await refund(activation: id, reason: .refund, note: nil, actor: actor, at: now)
    }

    /// Records a group of activations known already.
    public func recordActivations(_ records: [ActivationRecord], at now: Int64) async throws -> [Result<RecordedActivation, StoreError>] {
        try await recordActivations(PendingGroup(records, at: now))
    }
}
