import FoDCore
import FoDEntitlements

/// The channels a purchase comes from besides the counter (docs/revenue-share.md).
public enum PurchaseChannel: String, Codable, Sendable, Hashable, CaseIterable {
    /// The OEM's web shop or app.
    case online
    /// The car's own store.
    case vehicle
}

/// `POST /v1/purchases`: a sale in the OEM's shop, app or car, credited to the vehicle's
/// servicing dealer; idempotent by `order_id`.
public struct PurchaseRequest: StrictDecodable, CodingKeyed, Encodable, Sendable, Hashable {
    public enum Keys: String, CodingKey, CaseIterable {
        case vin, feature, term, channel
        case orderID = "order_id"
        case grossMinor = "gross_minor"
        case currency, consent, extend
    }
    public var vin: VIN
    public var feature: FeatureCode
    public var term: Term
    public var channel: PurchaseChannel
    /// The shop's order id: 1–128 visible ASCII characters, unique across the shop's keys.
    public var orderID: String
    /// The price the customer paid, VAT included, in minor units: must be the catalog's.
    public var grossMinor: Int64
    public var currency: Currency
    public var consent: Consent
    /// An extension (a fixed term appended to the current end) or an upgrade to `permanent`.
    public var extend: Bool

    public init(vin: VIN, feature: FeatureCode, term: Term, channel: PurchaseChannel, orderID: String, grossMinor: Int64, currency: Currency, consent: Consent,
                extend: Bool = false) {
        self.extend = extend
        self.vin = vin
        self.feature = feature
        self.term = term
        self.channel = channel
        self.orderID = orderID
        self.grossMinor = grossMinor
        self.currency = currency
        self.consent = consent
    }

    /// Every member's JSON type first, then the values in member order.
    /// - Throws: ``EntitlementError`` (`field_missing`, `field_type`, `request_invalid` for a bad
    ///   channel or order id, a member's own code), ``CoreError`` for the currency.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let vin = try c.decode(String.self, forKey: .vin), feature = try c.decode(String.self, forKey: .feature)
        let term = try c.decode(String.self, forKey: .term), channel = try c.decode(String.self, forKey: .channel)
        let order = try c.decode(String.self, forKey: .orderID), gross = try c.decode(Int64.self, forKey: .grossMinor)
        let currency = try c.decode(String.self, forKey: .currency)
        let consent = try c.decodeStrict(Consent.self, forKey: .consent)
        extend = try c.decodeIfPresent(Bool.self, forKey: .extend) ?? false
        self.vin = try VIN(vin)
        self.feature = try FeatureCode(feature)
        self.term = try Term(validating: term)
        guard let known = PurchaseChannel(rawValue: channel) else {
            throw EntitlementError(.requestInvalid, "channel must be online or vehicle (a counter sale is POST /v1/activations)")
        }
        self.channel = known
        guard PurchaseRequest.isValidOrderID(order) else {
            throw EntitlementError(.requestInvalid, "order_id must be 1 to 128 visible ASCII characters")
        }
        self.orderID = order
        guard gross >= 0 else { throw EntitlementError(.requestInvalid, "gross_minor must not be negative") }
        self.grossMinor = gross
        self.currency = try Currency(currency)
        guard consent.termsVersion != nil else {
            throw EntitlementError(.fieldMissing, "consent: \"terms_version\" is required on a purchase (the terms the customer accepted)")
        }
        self.consent = consent
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(vin, forKey: .vin)
        try c.encode(feature, forKey: .feature)
        try c.encode(term, forKey: .term)
        try c.encode(channel, forKey: .channel)
        try c.encode(orderID, forKey: .orderID)
        try c.encode(grossMinor, forKey: .grossMinor)
        try c.encode(currency.code, forKey: .currency)
        try c.encode(consent, forKey: .consent)
        if extend { try c.encode(true, forKey: .extend) }
    }

    /// 1–128 visible ASCII characters.
    public static func isValidOrderID(_ id: String) -> Bool { VisibleToken.isValid(id, maxLength: 128) }
}

/// The answer to a purchase (`Purchase` in `docs/openapi.yaml`): the activation's answer with the
/// order and channel; stored with the order id and replayed byte for byte.
public struct PurchaseResponse: Codable, Sendable, Hashable {
    public var orderID: String
    public var channel: PurchaseChannel
    public var id: EntitlementID
    public var vin: VIN
    public var feature: FeatureCode
    public var term: Term
    /// The servicing dealer credited.
    public var dealer: DealerID
    public var notBefore: Int64
    @Nullable public var expiresAt: Int64?
    public var price: PriceBody
    public var token: String

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
        case channel, id, vin, feature, term, dealer
        case notBefore = "not_before"
        case expiresAt = "expires_at"
        case price, token
    }

    public init(orderID: String, channel: PurchaseChannel, claims: EntitlementClaims, dealer: DealerID, token: String, price: Price) {
        self.orderID = orderID
        self.channel = channel
        id = claims.id
        vin = claims.vin
        feature = claims.feature
        term = claims.term
        self.dealer = dealer
        notBefore = claims.notBefore
        expiresAt = claims.expiresAt
        self.price = PriceBody(price)
        self.token = token
    }
}

/// `PUT /v1/vehicles/{vin}/dealer`: the vehicle's servicing dealer from `from` on (RFC 3339; absent: now).
public struct DealerAssignmentRequest: StrictDecodable, CodingKeyed, Encodable, Sendable, Hashable {
    public enum Keys: String, CodingKey, CaseIterable {
        case dealerID = "dealer_id"
        case from
    }
    public var dealerID: DealerID
    /// Unix seconds; `nil`: from now.
    public var from: Int64?

    public init(dealerID: DealerID, from: Int64? = nil) {
        self.dealerID = dealerID
        self.from = from
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let dealer = try c.decode(String.self, forKey: .dealerID), from = try c.decodeIfPresent(String.self, forKey: .from)
        self.dealerID = try DealerID(dealer)
        self.from = try from.map { text in
            do { return try Instant(rfc3339: text).unixSeconds } catch {
                throw EntitlementError(.requestInvalid, "from is not an RFC 3339 instant")
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(dealerID, forKey: .dealerID)
        try c.encodeIfPresent(from.map { Instant(unixSeconds: $0).rfc3339 }, forKey: .from)
    }
}

/// A vehicle's servicing dealers (`VehicleDealers` in `docs/openapi.yaml`): the one in force now
/// and every assignment with its effective date.
public struct VehicleDealersBody: Codable, Sendable, Hashable {
    public struct Assignment: Codable, Sendable, Hashable {
        public var dealerID: DealerID
        public var from: String

        enum CodingKeys: String, CodingKey {
            case dealerID = "dealer_id"
            case from
        }

        public init(dealerID: DealerID, from: Int64) {
            self.dealerID = dealerID
            self.from = Instant(unixSeconds: from).rfc3339
        }
    }

    public var vin: VIN
    @Nullable public var servicingDealer: DealerID?
    public var assignments: [Assignment]

    enum CodingKeys: String, CodingKey {
        case vin
        case servicingDealer = "servicing_dealer"
        case assignments
    }

    public init(vin: VIN, servicingDealer: DealerID?, assignments: [Assignment]) {
        self.vin = vin
        self.servicingDealer = servicingDealer
        self.assignments = assignments
    }
}

/// `POST /v1/entitlements/{id}/withdraw`: the customer's withdrawal, with an optional note.
public struct WithdrawRequest: StrictDecodable, CodingKeyed, Codable, Sendable {
    public enum Keys: String, CodingKey, CaseIterable { case note }
    public var note: String?

    public init(note: String? = nil) { self.note = note }
}

/// The answer to a withdrawal: the entitlement refunded and revoked.
public struct WithdrawResponse: Codable, Sendable, Hashable {
    public var id: EntitlementID
    public var withdrawn: Bool
    /// When the withdrawal period ended or would have (RFC 3339).
    public var periodEnds: String

    enum CodingKeys: String, CodingKey {
        case id, withdrawn
        case periodEnds = "period_ends"
    }

    public init(id: EntitlementID, periodEnds: Int64) {
        self.id = id
        self.withdrawn = true
        self.periodEnds = Instant(unixSeconds: periodEnds).rfc3339
    }
}

/// The answer to a cancellation: the subscription period that ends, and when; it is not renewed.
public struct CancelResponse: Codable, Sendable, Hashable {
    /// The newest period's entitlement (the one named, or a renewal of it).
    public var id: EntitlementID
    public var cancelled: Bool
    @Nullable public var endsAt: Int64?

    enum CodingKeys: String, CodingKey {
        case id, cancelled
        case endsAt = "ends_at"
    }

    public init(id: EntitlementID, endsAt: Int64?) {
        self.id = id
        self.cancelled = true
        self.endsAt = endsAt
    }
}

/// `GET /v1/entitlements?expiring_within=P14D`: what ends within the window and does not go on.
public struct ExpiringList: Codable, Sendable, Hashable {
    /// The window's end (RFC 3339).
    public var until: String
    public var entitlements: [EntitlementBody]

    public init(until: Int64, entitlements: [EntitlementBody]) {
        self.until = Instant(unixSeconds: until).rfc3339
        self.entitlements = entitlements
    }
}

/// The answer to a reinstatement: the entitlement is live again.
public struct ReinstateResponse: Codable, Sendable, Hashable {
    public var id: EntitlementID
    public var reinstated: Bool

    public init(id: EntitlementID) {
        self.id = id
        self.reinstated = true
    }
}

/// `POST /v1/vehicles/{vin}/transfer`: the change of owner at `effective_at` (RFC 3339; absent: now).
public struct TransferRequest: StrictDecodable, CodingKeyed, Encodable, Sendable, Hashable {
    public enum Keys: String, CodingKey, CaseIterable {
        case effectiveAt = "effective_at"
    }
    public var effectiveAt: Int64?

    public init(effectiveAt: Int64? = nil) { self.effectiveAt = effectiveAt }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        effectiveAt = try c.decodeIfPresent(String.self, forKey: .effectiveAt).map { text in
            do { return try Instant(rfc3339: text).unixSeconds } catch {
                throw EntitlementError(.requestInvalid, "effective_at is not an RFC 3339 instant")
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encodeIfPresent(effectiveAt.map { Instant(unixSeconds: $0).rfc3339 }, forKey: .effectiveAt)
    }
}

/// The answer to a transfer: what ended at it; everything else stays with the vehicle.
public struct TransferResponse: Codable, Sendable, Hashable {
    public var vin: VIN
    public var effectiveAt: String
    /// Entitlements of features that do not stay with the vehicle, ended at the transfer.
    public var ended: [EntitlementID]
    /// Those that would have started after it, revoked.
    public var revoked: [EntitlementID]

    enum CodingKeys: String, CodingKey {
        case vin
        case effectiveAt = "effective_at"
        case ended, revoked
    }

    public init(vin: VIN, effectiveAt: Int64, ended: [EntitlementID], revoked: [EntitlementID]) {
        self.vin = vin
        self.effectiveAt = Instant(unixSeconds: effectiveAt).rfc3339
        self.ended = ended
        self.revoked = revoked
    }
}
