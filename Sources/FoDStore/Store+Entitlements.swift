import FoDCore
import Foundation
import FoDEntitlements
import FoDRevenue

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
    /// Who sold it at the site (a dealer key that names a salesperson); the site's partner is
    /// recorded beside the site as the sale is stored.
    public let salesperson: SalespersonID?
    /// The catalog version the sale was priced by, and the campaign whose price it was (`nil`: the list price).
    public let catalogVersion: String?
    public let campaign: String?
    /// Why the sale is credited to its site (``AttributionRule``).
    public let attribution: Attribution?
    /// The quote whose acceptance booked it.
    public let quote: String?

    public init(entitlement: IssuedToken<EntitlementClaims>, channel: String, market: Market, gross: Money, vat: BasisPoints,
                consent: Consent = .inPerson, extends: EntitlementID? = nil, salesperson: SalespersonID? = nil, catalogVersion: String? = nil,
                campaign: String? = nil, attribution: Attribution? = nil, quote: String? = nil) {
        self.attribution = attribution
        self.quote = quote
        self.catalogVersion = catalogVersion
        self.campaign = campaign
        self.extends = extends
        self.salesperson = salesperson
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

/// One sale to record: what it books (one activation, or every item of an accepted quote: all
/// or none), who asks, under which idempotency key, and the response to store with the key.
public struct ActivationRecord: Sendable {
    /// What it books, at least one; several are booked together or not at all.
    public let activations: [NewActivation]
    /// The acceptance of a quote these activations book.
    public let quote: QuoteAcceptance?
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
        self.init(activations: [activation], quote: nil, principal: principal, idempotencyScope: idempotencyScope, idempotencyKey: idempotencyKey,
                  requestHash: requestHash, response: response)
    }

    /// A record of several activations booked together (`activations` not empty), with the quote they accept.
    public init(activations: [NewActivation], quote: QuoteAcceptance?, principal: Principal, idempotencyScope: String? = nil, idempotencyKey: String,
                requestHash: RequestHash, response: IdempotentResponse) {
        precondition(!activations.isEmpty, "a sale books at least one activation")
        self.activations = activations
        self.quote = quote
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

extension SQLStore {
    /// Entitlements of a vehicle, newest first.
    public func entitlements(of vin: VIN) async throws -> [StoredEntitlement] {
        try await fetch("entitlements read", sql: Self.entitlementsOfVehicle, arguments: [vin.value]).map(Self.storedEntitlement)
    }

    static var entitlementsOfVehicle: String { "SELECT * FROM entitlement WHERE vin = ? ORDER BY issued_at DESC, id DESC" }

    static func entitlements(_ db: any SQLConnection, _ vin: VIN) throws -> [StoredEntitlement] {
        try SQLRow.fetchAll(db, sql: entitlementsOfVehicle, arguments: [vin.value]).map(storedEntitlement)
    }

    /// An entitlement row (`SELECT *`).
    static func storedEntitlement(_ row: SQLRow) throws -> StoredEntitlement {
        try StoredEntitlement.fromColumns(id: row["id"], issuer: row["issuer"], vin: row["vin"], feature: row["feature"], term: row["term"],
                                          dealer: row["dealer_id"], issuedAt: row["issued_at"], notBefore: row["not_before"],
                                          expiresAt: row["expires_at"], token: row["token"], revokedAt: row["revoked_at"],
                                          revokeReason: row["revoke_reason"])
    }

    /// The response stored for an idempotency key, if the key was used; throws when it was used
    /// with a different request.
    /// - Throws: ``StoreError`` `idempotency_key_reused`.
    public func idempotentResponse(principal: String, key: String, requestHash: RequestHash) async throws -> IdempotentResponse? {
        guard let row = try await fetch("idempotency read", sql: "SELECT request_sha256, status, body FROM idempotency WHERE principal = ? AND key = ?",
                                        arguments: [principal, key]).first else { return nil }
        guard requestHash.matches(row["request_sha256"]) else {
            throw StoreError(.idempotencyMismatch, "Idempotency-Key \(key) was already used with a different request")
        }
        return IdempotentResponse(status: row["status"], body: row["body"])
    }

    /// Records a group of activations in one transaction (one commit: group commit), with a
    /// fixed number of statements whatever the group's size — on PostgreSQL every statement is a
    /// round trip. The group is taken once the transaction may write (``PendingGroup/take()``),
    /// so a transaction waiting for the write lock takes everything that arrived meanwhile. Reads:
    /// the group's stored idempotency keys; the entitlements of its vehicles. Each record is then
    /// decided in turn (a key, or a vehicle and feature, named twice in the group replays or
    /// conflicts with the first) and the new ones are written with multi-row inserts: the
    /// entitlements, activation events, consents, idempotency records and audit entries. A record
    /// refused writes nothing and does not affect the others; a failure while writing fails the
    /// whole transaction, so nothing of it is recorded.
    /// - Returns: per record, the response to send (`created` false for a replay), or its
    ///   ``StoreError`` (`idempotency_key_reused`; `conflict` when the feature became active meanwhile).
    /// - Throws: ``StoreError`` `store_database` when the transaction fails as a whole (nothing recorded).
    public func recordActivations(_ group: PendingGroup<ActivationRecord>) async throws -> [Result<RecordedActivation, StoreError>] {
        try await transaction(.groupCommit, "activations") { db in
            let (records, now) = group.take()
            return try Self.recordActivations(records, db, at: now)
        }
    }

    static func recordActivations(_ records: [ActivationRecord], _ db: any SQLConnection, at now: Int64) throws -> [Result<RecordedActivation, StoreError>] {
        guard !records.isEmpty else { return [] }
        var stored = try storedAnswers(records.map { IdempotencyKey(principal: $0.idempotencyScope, key: $0.idempotencyKey) }, db)
        let vins = Array(Set(records.flatMap { $0.activations.map(\.entitlement.claims.vin.value) }))
        var live: [VehicleFeature: [(id: String, notBefore: Int64, expiresAt: Int64?)]] = [:]
        for chunk in vins.chunks(of: 500) {
            for row in try SQLRow.fetchAll(db, sql: """
                SELECT id, vin, feature, not_before, expires_at FROM entitlement
                WHERE vin IN (\(SQLText.list(chunk.count))) AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)
                """, arguments: SQLArguments(chunk) + [now]) {
                live[VehicleFeature(vin: row["vin"], feature: row["feature"]), default: []].append((row["id"], row["not_before"], row["expires_at"]))
            }
        }
        // The quotes accepted in the group, as they stand under the write lock.
        var quotes = try quoteStates(records.compactMap { $0.quote?.quoteID }, db, at: now)
        var results: [Result<RecordedActivation, StoreError>] = []
        var new: [ActivationRecord] = []
        for record in records {
            let key = IdempotencyKey(principal: record.idempotencyScope, key: record.idempotencyKey)
            if let previous = stored[key] {
                do { results.append(.success(RecordedActivation(response: try previous.response(for: record.requestHash, key: record.idempotencyKey), created: false))) }
                catch let error as StoreError { results.append(.failure(error)) }
                continue
            }
            if let acceptance = record.quote {
                let status = quotes[acceptance.quoteID] ?? .cancelled
                if let refusal = StoredQuote.refusal(status, id: acceptance.quoteID) {
                    results.append(.failure(refusal))
                    continue
                }
            }
            // Every activation of the record is checked against what is live (and what the
            // record's earlier activations add) before any is taken: all or none.
            var adding: [VehicleFeature: [(id: String, notBefore: Int64, expiresAt: Int64?)]] = [:]
            var refusal: StoreError?
            for activation in record.activations {
                let claims = activation.entitlement.claims
                let pair = VehicleFeature(vin: claims.vin.value, feature: claims.feature.value)
                let entitlements = (live[pair] ?? []) + (adding[pair] ?? [])
                if let extended = activation.extends {
                    // An extension conflicts with a live permanent one and with another extension of
                    // the same entitlement (a live one starting at or after this one's start), and
                    // needs the extended one still live.
                    let clash = entitlements.contains { $0.id != extended.value && ($0.expiresAt == nil || $0.notBefore >= claims.notBefore) }
                    let extendedLive = try entitlements.contains { $0.id == extended.value }
                        || Bool.fetchOne(db, sql: "SELECT 1 FROM entitlement WHERE id = ? AND revoked_at IS NULL", arguments: [extended.value]) ?? false
                    guard !clash, extendedLive else {
                        refusal = StoreError(.conflict, "\(claims.feature) on \(claims.vin) was extended or changed meanwhile")
                        break
                    }
                } else if entitlements.contains(where: { $0.notBefore <= now && ($0.expiresAt ?? .max) > now }) {
                    refusal = StoreError(.conflict, "\(claims.feature) is already active on \(claims.vin)")
                    break
                }
                adding[pair, default: []].append((claims.id.value, claims.notBefore, claims.expiresAt))
            }
            if let refusal {
                results.append(.failure(refusal))
                continue
            }
            live.merge(adding) { $0 + $1 }
            stored[key] = StoredAnswer(requestHash: record.requestHash.stored, response: record.response)
            new.append(record)
            results.append(.success(RecordedActivation(response: record.response, created: true)))
            for activation in record.activations {
                try db.appendAudit(at: now, actor: record.principal.actor, action: "activation.create", subject: activation.entitlement.claims.id.value,
                                   details: StoreRows.activationDetails(activation))
            }
            if let acceptance = record.quote {
                quotes[acceptance.quoteID] = .accepted
                try acceptQuote(acceptance, actor: record.principal.actor, db, at: now)
            }
        }
        try insertSales(new.flatMap(\.activations), db, at: now)
        for chunk in new.chunks(of: 500) {
            var arguments = SQLArguments([])
            for record in chunk {
                arguments += [record.idempotencyScope, record.idempotencyKey, record.requestHash.stored, record.response.status, record.response.body, now]
            }
            try db.enqueue(sql: "INSERT INTO idempotency (principal, key, request_sha256, status, body, created_at) VALUES \(SQLText.rows(chunk.count, columns: 6))",
                           arguments: arguments)
        }
        return results
    }

    /// The stored answers of several idempotency keys.
    static func storedAnswers(_ keys: [IdempotencyKey], _ db: any SQLConnection) throws -> [IdempotencyKey: StoredAnswer] {
        var stored: [IdempotencyKey: StoredAnswer] = [:]
        let wanted = Set(keys)
        for chunk in keys.chunks(of: 500) {
            // Both lists, and the pairs picked out here: an `IN` on each column of the primary key
            // is an index search on both databases (a row value `IN (VALUES …)` is a scan on SQLite).
            let principals = Array(Set(chunk.map(\.principal))), names = chunk.map(\.key)
            for row in try SQLRow.fetchAll(db, sql: """
                SELECT principal, key, request_sha256, status, body FROM idempotency
                WHERE principal IN (\(SQLText.list(principals.count))) AND key IN (\(SQLText.list(names.count)))
                """, arguments: SQLArguments(principals) + SQLArguments(names)) where wanted.contains(IdempotencyKey(principal: row["principal"], key: row["key"])) {
                stored[IdempotencyKey(principal: row["principal"], key: row["key"])] = StoredAnswer(
                    requestHash: row["request_sha256"], response: IdempotentResponse(status: row["status"], body: row["body"]))
            }
        }
        return stored
    }

    /// Sales' rows: the entitlements, their priced activation events (with the site's partner and
    /// the salesperson as they are at the sale: later network changes never move it) and their consents.
    static func insertSales(_ activations: [NewActivation], _ db: any SQLConnection, at now: Int64) throws {
        try insertEntitlements(activations.map(\.entitlement), db)
        for chunk in activations.chunks(of: 500) {
            var events = SQLArguments([]), consents = SQLArguments([])
            for activation in chunk {
                let claims = activation.entitlement.claims
                events += [StoreRows.activationEventID(claims.id), claims.issuedAt, "activation", claims.vin.value, claims.feature.value, claims.term.rawValue,
                           activation.channel, claims.dealer?.value, activation.market.code, activation.gross.currency.code,
                           activation.gross.minor, activation.vat.value, claims.id.value, claims.dealer?.value, activation.salesperson?.value,
                           activation.catalogVersion, activation.campaign, activation.attribution?.rawValue, activation.quote]
                consents += [claims.id.value, activation.consent.termsVersion, activation.consent.immediateStart, activation.consent.acknowledgedAt, now]
            }
            try db.enqueue(sql: """
                INSERT INTO event (event_id, occurred_at, kind, vin, feature, term, channel, dealer_id, market, currency, gross_minor, vat_bps, entitlement_id,
                  partner_id, salesperson_id, catalog_version, campaign_id, attribution, quote_id)
                VALUES \(Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, (SELECT d.partner_id FROM dealer d WHERE d.id = ?), ?, ?, ?, ?, ?)", count: chunk.count).joined(separator: ", "))
                """, arguments: events)
            try db.enqueue(sql: "INSERT INTO consent (entitlement_id, terms_version, immediate_start, acknowledged_at, recorded_at) VALUES \(SQLText.rows(chunk.count, columns: 5))",
                           arguments: consents)
        }
    }

    /// Entitlements' rows (a sale's, or one issued directly).
    static func insertEntitlements(_ tokens: [IssuedToken<EntitlementClaims>], _ db: any SQLConnection) throws {
        for chunk in tokens.chunks(of: 500) {
            var arguments = SQLArguments([])
            for token in chunk {
                let claims = token.claims
                arguments += [claims.id.value, claims.issuer.value, claims.vin.value, claims.feature.value, claims.term.rawValue,
                              claims.dealer?.value, claims.issuedAt, claims.notBefore, claims.expiresAt, token.token, StoreRows.keyID(of: token.token)]
            }
            try db.enqueue(sql: """
                INSERT INTO entitlement (id, issuer, vin, feature, term, dealer_id, issued_at, not_before, expires_at, token, kid)
                VALUES \(SQLText.rows(chunk.count, columns: 11))
                """, arguments: arguments)
        }
    }

    /// Why each sale was credited to its site, read in pages of 500 ids (``LedgerStore/attributions(of:)``).
    public func attributions(of eventIDs: [String]) async throws -> [String: String] {
        guard !eventIDs.isEmpty else { return [:] }
        return try await transaction(.report, "attributions read") { db in
            var reasons: [String: String] = [:]
            for chunk in Array(Set(eventIDs)).chunks(of: 500) {
                for row in try SQLRow.fetchAll(db, sql: "SELECT event_id, attribution FROM event WHERE event_id IN (\(SQLText.list(chunk.count))) AND attribution IS NOT NULL",
                                               arguments: SQLArguments(chunk)) {
                    reasons[row["event_id"]] = row["attribution"]
                }
            }
            return reasons
        }
    }

    /// The number of activation events (tests, metrics).
    public func activationCount() async throws -> Int {
        try await read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM event WHERE kind = 'activation'") ?? 0 }
    }
}

/// An idempotency key of a principal.
struct IdempotencyKey: Hashable {
    let principal: String
    let key: String
}

/// What is stored with an idempotency key.
struct StoredAnswer {
    let requestHash: String
    let response: IdempotentResponse

    /// The response, when the key is presented with the request it was stored for.
    /// - Throws: ``StoreError`` `idempotency_key_reused`.
    func response(for request: RequestHash, key: String) throws -> IdempotentResponse {
        guard request.matches(requestHash) else {
            throw StoreError(.idempotencyMismatch, "Idempotency-Key \(key) was already used with a different request")
        }
        return response
    }
}

/// A vehicle and a feature.
struct VehicleFeature: Hashable {
    let vin: String
    let feature: String
}

extension Array {
    /// The array in consecutive slices of at most `size` elements (the bound of one statement's parameters).
    func chunks(of size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
