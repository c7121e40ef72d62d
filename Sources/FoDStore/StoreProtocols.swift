import FoDCrypto
import FoDEntitlements

/// One vehicle's manifest content, to be given a version.
public struct ManifestVersionRequest: Sendable {
    public let vin: VIN
    /// The content's digest (``ManifestSnapshot/digest(_:)``), computed once.
    public let digest: String

    public init(vin: VIN, entries: [ManifestClaims.Entry]) {
        self.vin = vin
        self.digest = ManifestSnapshot.digest(entries)
    }
}

/// What a manifest is made from: the vehicle's entitlements and the version last given to it,
/// with that content's digest (``digest(_:)``).
public struct ManifestSnapshot: Sendable {
    public let entitlements: [StoredEntitlement]
    public let last: (version: Int64, digest: String)?

    public init(entitlements: [StoredEntitlement], last: (version: Int64, digest: String)?) {
        self.entitlements = entitlements
        self.last = last
    }

    /// The content digest of a manifest's entries, which decides whether its version changes.
    public static func digest(_ entries: [ManifestClaims.Entry]) -> String {
        var input: [UInt8] = []
        for entry in entries.sorted(by: { $0.id < $1.id }) {
            input += Array("\(entry.id)|\(entry.feature)|\(entry.term)|\(entry.notBefore)|\(entry.expiresAt.map(String.init) ?? "-")\n".utf8)
        }
        return SHA256.hexHash(input)
    }

    /// The last version, if `entries` are the content it was given for.
    public func unchangedVersion(_ entries: [ManifestClaims.Entry]) -> Int64? { unchangedVersion(digest: ManifestSnapshot.digest(entries)) }

    /// The last version, if it was given for content with this digest.
    public func unchangedVersion(digest: String) -> Int64? {
        guard let last, last.digest == digest else { return nil }
        return last.version
    }
}

/// Dealers, vehicles and the catalog.
public protocol MasterDataStore: Sendable {
    /// Loads dealers, vehicles and the catalog from JSON documents, replacing the catalog.
    func importFixtures(dealers: String, vehicles: String, catalog: String, actor: String, at now: Int64) throws
    /// Registers or updates a vehicle.
    func register(_ vehicle: Vehicle, actor: String, at now: Int64) throws
    /// The vehicle with this VIN, or `nil`.
    func vehicle(_ vin: VIN) throws -> Vehicle?
    /// The current catalog.
    func catalog() throws -> Catalog
    /// The dealer with this id, or `nil`.
    func dealer(_ id: DealerID) throws -> Dealer?
}

/// Entitlements, activation and refund events, idempotency records and manifest versions: the ledger.
public protocol LedgerStore: Sendable {
    /// Entitlements of a vehicle, newest first.
    func entitlements(of vin: VIN) throws -> [StoredEntitlement]
    /// One entitlement by id.
    func entitlement(_ id: EntitlementID) throws -> StoredEntitlement?
    /// The stored answer of an idempotency key; throws `idempotency_key_reused` for another request.
    func idempotentResponse(principal: String, key: String, requestHash: RequestHash) throws -> IdempotentResponse?
    /// Records activations (each: entitlement, event, idempotency record, audit entry) in one
    /// transaction, with one result per record.
    func recordActivations(_ records: [ActivationRecord], at now: Int64) throws -> [Result<RecordedActivation, StoreError>]
    /// The number of activation events.
    func activationCount() throws -> Int
    /// Records a directly issued entitlement.
    func recordIssued(_ issued: IssuedToken<EntitlementClaims>, actor: String, at now: Int64) throws
    /// Revokes an entitlement with a reason.
    func revoke(entitlement id: EntitlementID, reason: String, actor: String, at now: Int64) throws
    /// Records the refund of an activation and revokes its entitlement.
    func refund(activation id: EntitlementID, actor: String, at now: Int64) throws
    /// Ids of the entitlements revoked at or after `since` (Unix seconds), for revocation caches.
    func revokedIDs(since: Int64) throws -> [EntitlementID]
    /// The vehicle's entitlements and last manifest version in one read; `nil` when not registered.
    func manifestSnapshot(of vin: VIN) throws -> ManifestSnapshot?
    /// The manifest version for this content: the last one when unchanged, else the next.
    func manifestVersion(vin: VIN, entries: [ManifestClaims.Entry], at now: Int64) throws -> Int64
    /// ``manifestVersion(vin:entries:at:)`` for several vehicles in one transaction (one fsync),
    /// in order; a vehicle named twice gets its versions in turn.
    func manifestVersions(_ requests: [ManifestVersionRequest], at now: Int64) throws -> [Int64]
    /// Writes the events between `from` and `to` — all, or one dealer's activations and their
    /// refunds — as the CSV `fod report` reads.
    func exportEvents(from: Int64?, to: Int64?, dealer: DealerID?, write: ([UInt8]) throws -> Void) throws
}

/// API keys (stored as hashes) and dealer web sessions.
public protocol AccessStore: Sendable {
    /// Creates a key; the secret is returned once.
    func createAPIKey(role: Role, dealer: DealerID?, label: String, actor: String, at now: Int64) throws -> (record: APIKeyRecord, secret: String)
    /// The principal of a presented secret, or `nil`.
    func authenticate(secret: String) throws -> Principal?
    /// Every key, without secrets.
    func listAPIKeys() throws -> [APIKeyRecord]
    /// Revokes a key.
    func revokeAPIKey(id: String, actor: String, at now: Int64) throws
    /// Starts a dealer web session.
    func createSession(for principal: Principal, lifetime: Int64, at now: Int64) throws -> (cookie: String, session: WebSession)
    /// The live session of a cookie value, or `nil`.
    func session(cookie: String, at now: Int64) throws -> WebSession?
    /// Ends a session.
    func endSession(cookie: String, at now: Int64) throws
}

/// The append-only, hash-chained audit log.
public protocol AuditStore: Sendable {
    /// Checks the chain; returns the number of entries.
    func verifyAudit() throws -> Int64
    /// Entries after a sequence number.
    func auditEntries(after seq: Int64, limit: Int) throws -> [AuditEntry]
}

/// Everything the service keeps: what `fod serve` runs on. ``FoDDatabase`` (SQLite) is the embedded
/// implementation; another database implements the same protocols and runs the same tests.
public protocol EntitlementStore: MasterDataStore, LedgerStore, AccessStore, AuditStore {
    /// Whether the store answers (readiness).
    func ping() -> Bool
    /// Whether a write reaches the disk (readiness).
    /// - Throws: ``StoreError`` `store_database` or `store_busy`.
    func checkWritable() throws
}

extension FoDDatabase: EntitlementStore {}
