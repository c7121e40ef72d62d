import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDRevenue

// What both stores build from the rows they read and compute before they write: one definition
// each, so SQLite and PostgreSQL answer alike.

extension StoredEntitlement {
    /// An entitlement from its table's columns.
    /// - Throws: ``StoreError`` `store_database` when a stored value does not validate.
    public static func fromColumns(id: String, issuer: String, vin: String, feature: String, term: String, dealer: String?,
                                   issuedAt: Int64, notBefore: Int64, expiresAt: Int64?, token: String,
                                   revokedAt: Int64?, revokeReason: String?) throws -> StoredEntitlement {
        try StoreRows.stored {
            let claims = EntitlementClaims(issuer: try IssuerID(issuer), vin: try VIN(vin), id: try EntitlementID(id), issuedAt: issuedAt,
                                           notBefore: notBefore, expiresAt: expiresAt, feature: try FeatureCode(feature),
                                           term: try Term(validating: term), dealer: try dealer.map { try DealerID($0) })
            return StoredEntitlement(claims: claims, token: token, revokedAt: revokedAt, revokeReason: revokeReason)
        }
    }
}

/// Shared row conversions and pre-write computations of the stores.
public enum StoreRows {
    /// The `kid` a token's header names (`nil`: none, or not a JWS).
    public static func keyID(of token: String) -> String? {
        guard let parsed = try? CompactJWS(token), case .object(let header)? = try? JSONParser.parse(parsed.headerBytes) else { return nil }
        return header["kid"]?.string
    }

    /// A value read back from a table, validated: one that does not validate is a damaged
    /// database, not a bad request.
    /// - Throws: ``StoreError`` `store_database`.
    public static func stored<T>(_ make: () throws -> T) throws -> T {
        do { return try make() } catch let error as StoreError { throw error } catch let error as any CodedError {
            throw StoreError(.database, "a stored value does not validate: \(error.reason)")
        }
    }

    /// A vehicle from its table's columns (equipment comma-separated).
    public static func vehicle(vin: VIN, model: String, modelYear: Int, market: String, equipment: String, dealer: String?) throws -> Vehicle {
        try stored {
            Vehicle(vin: vin, model: model, modelYear: modelYear, market: try Market(market),
                    equipment: Set(equipment.split(separator: ",").map(String.init)), servicingDealer: try dealer.map { try DealerID($0) })
        }
    }

    /// A subscription that can still be cancelled: not revoked (withdrawn, refunded), its last period not over.
    /// - Throws: ``StoreError`` `subscription_ended`.
    public static func requireRunning(_ subscription: StoredEntitlement, at now: Int64) throws {
        if let revoked = subscription.revokedAt {
            throw StoreError(.subscriptionEnded, "the subscription ended on \(Instant(unixSeconds: revoked).rfc3339) (\(subscription.revokeReason ?? "revoked")): there is nothing to cancel")
        }
        if let end = subscription.claims.expiresAt, end <= now {
            throw StoreError(.subscriptionEnded, "the subscription ended on \(Instant(unixSeconds: end).rfc3339): there is nothing to cancel")
        }
    }

    /// The stored form of a vehicle's equipment.
    public static func equipmentColumn(_ vehicle: Vehicle) -> String { vehicle.equipment.sorted().joined(separator: ",") }

    /// A principal from an API key's columns `id`, `role`, `dealer_id`, `salesperson_id` and its
    /// site's `partner_id` (`nil` for a role this version does not know).
    static func principal(_ row: SQLRow) throws -> Principal? {
        guard let role = Role(rawValue: row["role"]) else { return nil }
        let dealer: String? = row["dealer_id"], salesperson: String? = row["salesperson_id"], partner: String? = row["partner_id"]
        return try stored {
            Principal(keyID: row["id"], role: role, dealer: try dealer.map { try DealerID($0) }, partner: try partner.map { try PartnerID($0) },
                      salesperson: try salesperson.map { try SalespersonID($0) })
        }
    }

    /// A new API key: its record, its secret (`fod_<id>_<random>`, 256 bits of CSPRNG output,
    /// shown once) and the secret's SHA-256 (what is stored).
    /// - Throws: ``StoreError`` `invalid` when a dealer key has no dealer (or another role has one),
    ///   or the label is not display text.
    public static func newAPIKey(role: Role, dealer: DealerID?, salesperson: SalespersonID? = nil, label: String,
                                 at now: Int64) throws -> (record: APIKeyRecord, secret: String, hash: String) {
        guard (role == .dealer) == (dealer != nil) else {
            throw StoreError(.invalid, role == .dealer ? "a dealer key needs --dealer" : "only dealer keys name a dealer")
        }
        guard salesperson == nil || dealer != nil else { throw StoreError(.invalid, "only dealer keys name a salesperson") }
        if !label.isEmpty {
            do { try DisplayText.check(label, "label", maxLength: 100) } catch let error as EntitlementError {
                throw StoreError(.invalid, error.reason)
            }
        }
        let id = Hex.encode(SecureRandom.bytes(6))
        let secret = "fod_\(id)_\(Base64URL.encode(SecureRandom.bytes(32)))"
        return (APIKeyRecord(id: id, role: role, dealer: dealer, salesperson: salesperson, label: label, createdAt: now, revokedAt: nil), secret, secretHash(secret))
    }

    /// The stored hash of a secret (an API key, a session cookie).
    public static func secretHash(_ secret: String) -> String { SHA256.hexHash(Array(secret.utf8)) }

    /// A new dealer web session: the cookie value (256 random bits, shown to the browser only) and the session.
    public static func newSession(for principal: Principal, lifetime: Int64, at now: Int64) -> (cookie: String, session: WebSession) {
        (Base64URL.encode(SecureRandom.bytes(32)),
         WebSession(principal: principal, csrf: Base64URL.encode(SecureRandom.bytes(32)), expiresAt: now + lifetime))
    }

    /// The audit details of an activation.
    public static func activationDetails(_ activation: NewActivation) -> String {
        let claims = activation.entitlement.claims
        return "vin=\(claims.vin) feature=\(claims.feature) term=\(claims.term) channel=\(activation.channel)\(activation.extends.map { " extends=\($0)" } ?? "") dealer=\(claims.dealer?.value ?? "") gross=\(activation.gross.minor) \(activation.gross.currency) \(activation.consent.auditText)"
    }

    /// A sale from its stored columns; no consent row (`immediateStart` `nil`): ``Consent/inPerson``.
    /// - Throws: ``StoreError`` `invalid` for a stored value that does not validate.
    public static func sale(_ id: EntitlementID, soldAt: Int64, channel: String?, dealer: String?, market: String?, termsVersion: String?,
                            immediateStart: Bool?, acknowledgedAt: Int64?, refunded: Bool, renewal: Bool) throws -> Sale {
        try stored {
            let consent = try immediateStart.map { try Consent(termsVersion: termsVersion, immediateStart: $0, acknowledgedAt: acknowledgedAt) } ?? .inPerson
            return Sale(entitlementID: id, soldAt: soldAt, channel: channel ?? "", dealer: try dealer.map { try DealerID($0) },
                        market: try Market(market ?? ""), consent: consent, refunded: refunded, renewal: renewal)
        }
    }

    /// Fails unless `stored` is revoked by a revocation that can be undone (not a refund or withdrawal).
    /// - Throws: ``StoreError`` `not_revoked`, `refund_not_reinstatable`.
    public static func checkReinstatable(_ stored: StoredEntitlement) throws {
        guard let reason = stored.revokeReason, stored.revokedAt != nil else {
            throw StoreError(.notRevoked, "entitlement \(stored.claims.id) is not revoked")
        }
        guard RefundReason(rawValue: reason) == nil else {
            throw StoreError(.refundNotReinstatable, "entitlement \(stored.claims.id) was refunded (\(reason)): that is not undone; book a new sale")
        }
    }

    /// The event id of an activation and of its refund.
    public static func activationEventID(_ id: EntitlementID) -> String { "act-\(id.value)" }
    public static func refundEventID(_ id: EntitlementID) -> String { "ref-\(id.value)" }

    /// One row of the events export, in ``EventColumn`` order, from a column lookup.
    public static func exportRow(_ text: (EventColumn) -> String?, occurredAt: Int64, gross: Int64?, vat: Int64?) -> [String] {
        EventColumn.allCases.map { column -> String in
            switch column {
            case .occurredAt: Timestamp.format(occurredAt * 1_000_000_000)
            case .grossMinor: gross.map(String.init) ?? ""
            case .vatBps: vat.map(String.init) ?? ""
            default: text(column) ?? ""
            }
        }
    }
}

/// The audit chain's arithmetic, shared by the stores.
public enum AuditChain {
    /// The hash of the (absent) entry before the first.
    public static let genesisHash = String(repeating: "0", count: 64)

    /// The SHA-256 that chains an entry: over the previous hash and every field, each
    /// length-prefixed so that no two different entries hash alike.
    public static func hash(previous: String, seq: Int64, at: Int64, actor: String, action: String, subject: String, details: String) -> String {
        var bytes: [UInt8] = []
        for field in [previous, String(seq), String(at), actor, action, subject, details] {
            let utf8 = Array(field.utf8)
            bytes += Array(String(utf8.count).utf8) + [0x3A] + utf8
        }
        return SHA256.hexHash(bytes)
    }

    /// Checks entries read in order: numbering from 1 without gaps, each stored hash recomputed,
    /// each entry pointing at the previous one's hash. Feed every entry, then read ``count``.
    public struct Verifier: Sendable {
        private var previous = AuditChain.genesisHash
        private var expectedSeq: Int64 = 1
        public init() {}

        /// The number of entries checked.
        public var count: Int64 { expectedSeq - 1 }

        /// Checks the next entry.
        /// - Throws: ``StoreError`` `audit_chain_broken` naming the entry.
        public mutating func check(_ entry: AuditEntry) throws {
            guard entry.seq == expectedSeq else {
                throw StoreError(.auditBroken, "entry \(expectedSeq) is missing (next is \(entry.seq)): rows were deleted")
            }
            guard entry.previousHash == previous else {
                throw StoreError(.auditBroken, "entry \(entry.seq) does not follow entry \(entry.seq - 1): the chain was changed")
            }
            let recomputed = AuditChain.hash(previous: previous, seq: entry.seq, at: entry.at, actor: entry.actor, action: entry.action,
                                             subject: entry.subject, details: entry.details)
            guard recomputed == entry.hash else { throw StoreError(.auditBroken, "entry \(entry.seq) was changed after it was written") }
            previous = entry.hash
            expectedSeq += 1
        }
    }
}
