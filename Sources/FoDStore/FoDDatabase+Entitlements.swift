import FoDCore
import Foundation
import FoDEntitlements
import GRDB

/// An entitlement as stored.
public struct StoredEntitlement: Sendable, Hashable {
    public let claims: EntitlementClaims
    public let token: String
    public let revokedAt: Int64?
    public let revokeReason: String?

    /// Whether it is in force at `now`: not revoked, started, not ended.
    public func isActive(at now: Int64) -> Bool {
        state(at: now) == .active
    }

    /// Where an entitlement stands at a moment.
    public enum State: Sendable, Hashable {
        case active
        /// Its start is still ahead.
        case scheduled
        /// Its term ended at the time given.
        case expired(at: Int64)
        /// Refunded (which revokes it) at the time given.
        case refunded(at: Int64)
        /// Withdrawn by the customer within the withdrawal period (refunded and revoked) at the time given.
        case withdrawn(at: Int64)
        /// Revoked at the time given, with the reason.
        case revoked(at: Int64, reason: String)
    }

    /// The state at `now`: a revocation (or refund) first, then the term.
    public func state(at now: Int64) -> State {
        if let revokedAt {
            // The refund path revokes with the reason "refund" or "withdrawal" (RefundReason).
            switch revokeReason {
            case RefundReason.refund.rawValue: return .refunded(at: revokedAt)
            case RefundReason.withdrawal.rawValue: return .withdrawn(at: revokedAt)
            default: return .revoked(at: revokedAt, reason: revokeReason ?? "")
            }
        }
        if let end = claims.expiresAt, end <= now { return .expired(at: end) }
        return claims.notBefore > now ? .scheduled : .active
    }
}

/// What one activation records, computed before the transaction (eligibility, price, signed token).
public struct NewActivation: Sendable {
    public let entitlement: IssuedToken<EntitlementClaims>
    public let channel: String
    /// The vehicle's market.
    public let market: Market
    /// The gross price paid, VAT included.
    public let gross: Money
    /// The VAT rate in ``gross``.
    public let vat: BasisPoints
    /// The customer's consent, stored with the sale.
    public let consent: Consent
    /// The entitlement an extension continues (its new entitlement starts at that one's end, or
    /// now for an upgrade to permanent); `nil` for a new sale.
    public let extends: EntitlementID?

    public init(entitlement: IssuedToken<EntitlementClaims>, channel: String, market: Market, gross: Money, vat: BasisPoints,
                consent: Consent = .inPerson, extends: EntitlementID? = nil) {
        self.extends = extends
        self.entitlement = entitlement
        self.channel = channel
        self.market = market
        self.gross = gross
        self.vat = vat
        self.consent = consent
    }
}

/// Why an activation is refunded: the revocation's reason and the audit entry's action.
public enum RefundReason: String, Sendable, Hashable {
    /// The OEM's refund (`POST /v1/activations/{id}/refund`).
    case refund
    /// The customer's withdrawal within the withdrawal period (`POST /v1/entitlements/{id}/withdraw`).
    case withdrawal

    /// The audit log's action.
    public var auditAction: String { self == .refund ? "activation.refund" : "activation.withdraw" }
}

/// A sale as the ledger holds it: the activation event of an entitlement, its consent, and
/// whether it was refunded.
public struct Sale: Sendable, Hashable {
    public let entitlementID: EntitlementID
    /// When it was sold (the activation event, Unix seconds).
    public let soldAt: Int64
    public let channel: String
    public let dealer: DealerID?
    public let market: Market
    /// The consent stored with it; ``Consent/inPerson`` for sales recorded before consents were.
    public let consent: Consent
    public let refunded: Bool
    /// A renewal of a subscription (its next period), not a new contract.
    public let renewal: Bool

    public init(entitlementID: EntitlementID, soldAt: Int64, channel: String, dealer: DealerID?, market: Market, consent: Consent, refunded: Bool,
                renewal: Bool = false) {
        self.renewal = renewal
        self.entitlementID = entitlementID
        self.soldAt = soldAt
        self.channel = channel
        self.dealer = dealer
        self.market = market
        self.consent = consent
        self.refunded = refunded
    }
}

/// One activation to record: what it books, who asks, under which idempotency key, and the
/// response to store with the key.
public struct ActivationRecord: Sendable {
    public let activation: NewActivation
    public let principal: Principal
    /// Whose keys ``idempotencyKey`` is one of: the caller's API key id for an activation, one
    /// scope for every purchase (an order id is unique whichever of the shop's keys sends it).
    public let idempotencyScope: String
    public let idempotencyKey: String
    /// Identifies the request, so the same key with another request is refused.
    public let requestHash: RequestHash
    /// The answer stored with the key and sent now and on every replay.
    public let response: IdempotentResponse

    public init(activation: NewActivation, principal: Principal, idempotencyScope: String? = nil, idempotencyKey: String, requestHash: RequestHash,
                response: IdempotentResponse) {
        self.activation = activation
        self.principal = principal
        self.idempotencyScope = idempotencyScope ?? principal.keyID
        self.idempotencyKey = idempotencyKey
        self.requestHash = requestHash
        self.response = response
    }

    public init(activation: NewActivation, principal: Principal, idempotencyKey: String, requestHash: String, response: IdempotentResponse) {
        self.init(activation: activation, principal: principal, idempotencyKey: idempotencyKey, requestHash: RequestHash(requestHash), response: response)
    }
}

/// What identifies a request for its idempotency key: the hash stored with a new key, and hashes
/// an earlier version of fod stored for the same request (so a retry across an upgrade replays).
public struct RequestHash: Sendable, Hashable {
    /// The hash stored with a new key.
    public let stored: String
    /// Hashes that also mean "the same request".
    public let earlier: [String]

    public init(_ stored: String, earlier: [String] = []) {
        self.stored = stored
        self.earlier = earlier
    }

    /// Whether a stored hash is this request's.
    public func matches(_ hash: String) -> Bool { hash == stored || earlier.contains(hash) }
}

/// The outcome of one recorded activation.
public struct RecordedActivation: Sendable, Hashable {
    /// The response to send.
    public let response: IdempotentResponse
    /// False when the key had been used: the response is the first one.
    public let created: Bool

    public init(response: IdempotentResponse, created: Bool) {
        self.response = response
        self.created = created
    }
}

/// A stored response for an idempotency key.
public struct IdempotentResponse: Sendable, Hashable {
    public let status: Int
    public let body: [UInt8]
    /// Creates a response to store.
    public init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }
}

extension FoDDatabase {
    /// Entitlements of a vehicle, newest first.
    public func entitlements(of vin: VIN) throws -> [StoredEntitlement] {
        try read { db in try FoDDatabase.entitlements(db, vin) }
    }

    static func entitlements(_ db: Database, _ vin: VIN) throws -> [StoredEntitlement] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT * FROM entitlement WHERE vin = ? ORDER BY issued_at DESC, id DESC"), arguments: [vin.value])
            .map(storedEntitlement)
    }

    /// An entitlement row (`SELECT *`).
    static func storedEntitlement(_ row: Row) throws -> StoredEntitlement {
        try StoredEntitlement.fromColumns(id: row["id"], issuer: row["issuer"], vin: row["vin"], feature: row["feature"], term: row["term"],
                                          dealer: row["dealer_id"], issuedAt: row["issued_at"], notBefore: row["not_before"],
                                          expiresAt: row["expires_at"], token: row["token"], revokedAt: row["revoked_at"],
                                          revokeReason: row["revoke_reason"])
    }

    /// The response stored for an idempotency key, if the key was used; throws when it was used
    /// with a different request.
    /// - Throws: ``StoreError`` `idempotency_key_reused`.
    public func idempotentResponse(principal: String, key: String, requestHash: RequestHash) throws -> IdempotentResponse? {
        try read { db in try FoDDatabase.idempotent(db, principal, key, requestHash) }
    }

    static func idempotent(_ db: Database, _ principal: String, _ key: String, _ requestHash: RequestHash) throws -> IdempotentResponse? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT request_sha256, status, body FROM idempotency WHERE principal = ? AND key = ?"),
                                         arguments: [principal, key]) else { return nil }
        guard requestHash.matches(row["request_sha256"]) else {
            throw StoreError(.idempotencyMismatch, "Idempotency-Key \(key) was already used with a different request")
        }
        let body: [UInt8] = [UInt8](row["body"] as Data)
        return IdempotentResponse(status: row["status"], body: body)
    }

    /// Records activations, all in one transaction (one commit, one fsync: group commit). Each
    /// record is first checked — its idempotency key (a replay returns the first response) and
    /// whether the feature is already active — and then written: the idempotency record with its
    /// response, the entitlement, the activation event and the audit entry. A record refused by
    /// its check writes nothing and does not affect the others; a failure while writing fails
    /// the whole transaction, so nothing of it is recorded.
    /// - Returns: per record, the response to send (`created` false for a replay), or its
    ///   ``StoreError`` (`idempotency_key_reused`; `conflict` when the feature became active meanwhile).
    /// - Throws: ``StoreError`` `store_database` when the transaction fails as a whole (nothing recorded).
    public func recordActivations(_ records: [ActivationRecord], at now: Int64) throws -> [Result<RecordedActivation, StoreError>] {
        try write { db in
            try records.map { record in
                let replay: RecordedActivation?
                do { replay = try FoDDatabase.check(record, db, at: now) } catch let error as StoreError where error.code != .database {
                    return .failure(error)
                }
                if let replay { return .success(replay) }
                try FoDDatabase.insert(record, db, at: now)
                return .success(RecordedActivation(response: record.response, created: true))
            }
        }
    }

    /// The replay of a used key, `nil` for a new activation, or the refusal.
    private static func check(_ record: ActivationRecord, _ db: Database, at now: Int64) throws -> RecordedActivation? {
        if let previous = try idempotent(db, record.idempotencyScope, record.idempotencyKey, record.requestHash) {
            return RecordedActivation(response: previous, created: false)
        }
        let claims = record.activation.entitlement.claims
        if let extended = record.activation.extends {
            // An extension conflicts with a live permanent one and with another extension of the
            // same entitlement (a live one starting at or after this one's start), and needs the
            // extended one still live.
            let clash = try Bool.fetchOne(db.cachedStatement(sql: """
                SELECT 1 FROM entitlement WHERE vin = ? AND feature = ? AND id <> ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)
                  AND (expires_at IS NULL OR not_before >= ?) LIMIT 1
                """), arguments: [claims.vin.value, claims.feature.value, extended.value, now, claims.notBefore]) ?? false
            let live = try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM entitlement WHERE id = ? AND revoked_at IS NULL"),
                                         arguments: [extended.value]) ?? false
            if clash || !live { throw StoreError(.conflict, "\(claims.feature) on \(claims.vin) was extended or changed meanwhile") }
            return nil
        }
        let active = try Bool.fetchOne(db.cachedStatement(sql: """
            SELECT 1 FROM entitlement WHERE vin = ? AND feature = ? AND revoked_at IS NULL AND not_before <= ?
              AND (expires_at IS NULL OR expires_at > ?) LIMIT 1
            """), arguments: [claims.vin.value, claims.feature.value, now, now]) ?? false
        if active { throw StoreError(.conflict, "\(claims.feature) is already active on \(claims.vin)") }
        return nil
    }

    private static func insert(_ record: ActivationRecord, _ db: Database, at now: Int64) throws {
        let principal = record.principal, activation = record.activation
        try insertSale(activation, db, at: now)
        try db.cachedStatement(sql: "INSERT INTO idempotency (principal, key, request_sha256, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)")
            .execute(arguments: [record.idempotencyScope, record.idempotencyKey, record.requestHash.stored, record.response.status, Data(record.response.body), now])
        try appendAudit(db, at: now, actor: principal.actor, action: "activation.create", subject: activation.entitlement.claims.id.value,
                        details: StoreRows.activationDetails(activation))
    }

    /// A sale's rows: the entitlement, its priced activation event and its consent.
    static func insertSale(_ activation: NewActivation, _ db: Database, at now: Int64) throws {
        let claims = activation.entitlement.claims
        try db.cachedStatement(sql: """
            INSERT INTO entitlement (id, issuer, vin, feature, term, dealer_id, issued_at, not_before, expires_at, token)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [claims.id.value, claims.issuer.value, claims.vin.value, claims.feature.value, claims.term.rawValue,
                                     claims.dealer?.value, claims.issuedAt, claims.notBefore, claims.expiresAt, activation.entitlement.token])
        try db.cachedStatement(sql: """
            INSERT INTO event (event_id, occurred_at, kind, refers_to, vin, feature, term, channel, dealer_id, market, currency, gross_minor, vat_bps, entitlement_id)
            VALUES (?, ?, 'activation', NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [StoreRows.activationEventID(claims.id), claims.issuedAt, claims.vin.value, claims.feature.value, claims.term.rawValue,
                                     activation.channel, claims.dealer?.value, activation.market.code, activation.gross.currency.code,
                                     activation.gross.minor, activation.vat.value, claims.id.value])
        try db.cachedStatement(sql: "INSERT INTO consent (entitlement_id, terms_version, immediate_start, acknowledged_at, recorded_at) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [claims.id.value, activation.consent.termsVersion, activation.consent.immediateStart, activation.consent.acknowledgedAt, now])
    }

    /// The number of activation events (tests, metrics).
    public func activationCount() throws -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM event WHERE kind = 'activation'") ?? 0 }
    }
}
