import FoDCore
import FoDEntitlements
import FoDRevenue

/// The touchpoint a quote is made at (docs/journeys.md).
public enum QuoteChannel: String, Codable, Sendable, Hashable, CaseIterable {
    /// The OEM's app.
    case app
    /// The OEM's web shop.
    case web
    /// The car's own screen.
    case vehicle
    /// A site's counter or tablet (a dealer key).
    case dealer

    /// The sales channel of what a quote made here books when it is accepted online (not at a counter).
    public var salesChannel: Channel {
        switch self {
        case .app, .web: .online
        case .vehicle: .vehicle
        case .dealer: .online
        }
    }
}

/// One item of a quote request: a feature and term (`extend`: as on an activation).
public struct QuoteItemRequest: StrictDecodable, CodingKeyed, Encodable, Sendable, Hashable {
    public enum Keys: String, CodingKey, CaseIterable { case feature, term, extend }
    public var feature: FeatureCode
    public var term: Term
    public var extend: Bool

    public init(feature: FeatureCode, term: Term, extend: Bool = false) {
        self.feature = feature
        self.term = term
        self.extend = extend
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let feature = try c.decode(String.self, forKey: .feature), term = try c.decode(String.self, forKey: .term)
        self.init(feature: try FeatureCode(feature), term: try Term(validating: term), extend: try c.decodeIfPresent(Bool.self, forKey: .extend) ?? false)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(feature, forKey: .feature)
        try c.encode(term, forKey: .term)
        if extend { try c.encode(true, forKey: .extend) }
    }
}

/// `POST /v1/quotes`: a basket for one vehicle, priced now and locked until `expires_at`
/// (absent: the service's validity), with the customer's preferred site if chosen.
public struct QuoteRequest: StrictDecodable, CodingKeyed, Encodable, Sendable, Hashable {
    public enum Keys: String, CodingKey, CaseIterable {
        case vin, items, channel
        case preferredDealer = "preferred_dealer"
        case expiresAt = "expires_at"
    }
    /// How many items one quote may hold.
    public static let maxItems = 20

    public var vin: VIN
    public var items: [QuoteItemRequest]
    public var channel: QuoteChannel
    public var preferredDealer: DealerID?
    /// Unix seconds; `nil`: the service's default validity.
    public var expiresAt: Int64?

    public init(vin: VIN, items: [QuoteItemRequest], channel: QuoteChannel, preferredDealer: DealerID? = nil, expiresAt: Int64? = nil) {
        self.vin = vin
        self.items = items
        self.channel = channel
        self.preferredDealer = preferredDealer
        self.expiresAt = expiresAt
    }

    /// - Throws: ``EntitlementError`` (`field_missing`, `field_type`, `field_unknown`, `request_invalid`).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let vin = try c.decode(String.self, forKey: .vin), channel = try c.decode(String.self, forKey: .channel)
        let values = try c.decode([JSONValue].self, forKey: .items)
        let preferred = try c.decodeIfPresent(String.self, forKey: .preferredDealer)
        expiresAt = try c.decodeInstantIfPresent(forKey: .expiresAt)
        self.vin = try VIN(vin)
        guard (1...QuoteRequest.maxItems).contains(values.count) else {
            throw EntitlementError(.requestInvalid, "items: a quote has 1 to \(QuoteRequest.maxItems) items")
        }
        var items: [QuoteItemRequest] = []
        for (index, value) in values.enumerated() {
            guard case .object(let object) = value else { throw EntitlementError(.fieldType, "items[\(index)] must be an object") }
            do { items.append(try StrictJSON.decode(QuoteItemRequest.self, from: object)) } catch let error as EntitlementError {
                throw EntitlementError(error.code, "items[\(index)]: \(error.reason)")
            }
        }
        var seen: Set<FeatureCode> = []
        for item in items where !seen.insert(item.feature).inserted {
            throw EntitlementError(.requestInvalid, "items: \(item.feature) appears twice (a quote books each feature once)")
        }
        self.items = items
        guard let known = QuoteChannel(rawValue: channel) else {
            throw EntitlementError(.requestInvalid, "channel must be one of \(QuoteChannel.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.channel = known
        preferredDealer = try preferred.map { try DealerID($0) }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(vin, forKey: .vin)
        try c.encode(items, forKey: .items)
        try c.encode(channel, forKey: .channel)
        try c.encodeIfPresent(preferredDealer, forKey: .preferredDealer)
        try c.encodeIfPresent(expiresAt.map { Instant(unixSeconds: $0).rfc3339 }, forKey: .expiresAt)
    }
}

/// `POST /v1/quotes/{id}/accept`: the customer's consent (required from the shop, app or car: the
/// terms accepted; at a counter, absent means given in person), the channel it is accepted on
/// from an issuer key (absent: the quote's), and the code when a site other than the quote's
/// accepts it (the customer showed it).
public struct QuoteAcceptRequest: StrictDecodable, CodingKeyed, Encodable, Sendable, Hashable {
    public enum Keys: String, CodingKey, CaseIterable { case consent, channel, code }
    public var consent: Consent?
    public var channel: QuoteChannel?
    public var code: String?

    public init(consent: Consent? = nil, channel: QuoteChannel? = nil, code: String? = nil) {
        self.consent = consent
        self.channel = channel
        self.code = code
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        consent = try c.decodeStrictIfPresent(Consent.self, forKey: .consent)
        if let channel = try c.decodeIfPresent(String.self, forKey: .channel) {
            guard let known = QuoteChannel(rawValue: channel), known != .dealer else {
                throw EntitlementError(.requestInvalid, "channel must be app, web or vehicle (a counter accepts with a dealer key)")
            }
            self.channel = known
        }
        code = try c.decodeIfPresent(String.self, forKey: .code)
        if let code, code.utf8.count > 40 { throw EntitlementError(.requestInvalid, "code is too long") }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encodeIfPresent(consent, forKey: .consent)
        try c.encodeIfPresent(channel, forKey: .channel)
        try c.encodeIfPresent(code, forKey: .code)
    }
}

/// One item of a quote as answered: the price locked.
public struct QuoteItemBody: Codable, Sendable, Hashable {
    public var feature: FeatureCode
    public var name: String
    public var term: Term
    public var extend: Bool
    public var price: PriceBody

    public init(feature: FeatureCode, name: String, term: Term, extend: Bool, price: PriceBody) {
        self.feature = feature
        self.name = name
        self.term = term
        self.extend = extend
        self.price = price
    }
}

/// A sale a quote's acceptance booked: the entitlement, the site credited and the rule that credited it.
public struct QuoteBookingBody: Codable, Sendable, Hashable {
    public var id: EntitlementID
    public var feature: FeatureCode
    public var term: Term
    @Nullable public var dealer: DealerID?
    /// The reason of the attribution rule that credited the site (`counter`, `preferred`, `quoted`, `servicing`).
    @Nullable public var attribution: Attribution?
    public var channel: String
    /// Set in the acceptance's answer: the entitlement's start and end, its price and token.
    public var notBefore: Int64?
    @Nullable public var expiresAt: Int64?
    public var price: PriceBody?
    public var token: String?

    enum CodingKeys: String, CodingKey {
        case id, feature, term, dealer, attribution, channel
        case notBefore = "not_before"
        case expiresAt = "expires_at"
        case price, token
    }

    public init(id: EntitlementID, feature: FeatureCode, term: Term, dealer: DealerID?, attribution: Attribution?, channel: String,
                notBefore: Int64? = nil, expiresAt: Int64? = nil, price: PriceBody? = nil, token: String? = nil) {
        self.id = id
        self.feature = feature
        self.term = term
        self.dealer = dealer
        self.attribution = attribution
        self.channel = channel
        self.notBefore = notBefore
        self.expiresAt = expiresAt
        self.price = price
        self.token = token
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(feature, forKey: .feature)
        try c.encode(term, forKey: .term)
        try c.encode(dealer, forKey: .dealer)
        try c.encode(attribution, forKey: .attribution)
        try c.encode(channel, forKey: .channel)
        try c.encodeIfPresent(notBefore, forKey: .notBefore)
        if notBefore != nil { try c.encode(expiresAt, forKey: .expiresAt) }
        try c.encodeIfPresent(price, forKey: .price)
        try c.encodeIfPresent(token, forKey: .token)
    }
}

/// A quote (`Quote` in `docs/openapi.yaml`).
public struct QuoteResponse: Codable, Sendable, Hashable {
    public var id: String
    /// The short code to show (groups of four, dashes between); opened with or without dashes, any case.
    public var code: String
    /// `open`, `accepted`, `expired` or `cancelled`.
    public var status: String
    public var vin: VIN
    public var channel: QuoteChannel
    @Nullable public var dealer: DealerID?
    @Nullable public var salesperson: String?
    @Nullable public var preferredDealer: DealerID?
    public var catalogVersion: String
    public var createdAt: String
    public var expiresAt: String
    public var items: [QuoteItemBody]
    /// The total of the items' gross prices, in minor units of ``currency``.
    public var totalMinor: Int64
    public var currency: Currency
    @Nullable public var closedAt: String?
    /// Once accepted: the site credited and the rule's reason.
    @Nullable public var creditedDealer: DealerID?
    @Nullable public var attribution: Attribution?
    /// Once accepted: what it booked.
    public var bookings: [QuoteBookingBody]
    /// Where the quote's QR code is (`GET`, SVG), and the dealer page's address it encodes.
    public var qr: String
    public var dealerPage: String

    enum CodingKeys: String, CodingKey {
        case id, code, status, vin, channel, dealer, salesperson
        case preferredDealer = "preferred_dealer"
        case catalogVersion = "catalog_version"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case items
        case totalMinor = "total_minor"
        case currency
        case closedAt = "closed_at"
        case creditedDealer = "credited_dealer"
        case attribution, bookings, qr
        case dealerPage = "dealer_page"
    }

    public init(id: String, code: String, status: String, vin: VIN, channel: QuoteChannel, dealer: DealerID?, salesperson: String?, preferredDealer: DealerID?,
                catalogVersion: String, createdAt: Int64, expiresAt: Int64, items: [QuoteItemBody], totalMinor: Int64, currency: Currency,
                closedAt: Int64?, creditedDealer: DealerID?, attribution: Attribution?, bookings: [QuoteBookingBody], qr: String, dealerPage: String) {
        self.id = id
        self.code = code
        self.status = status
        self.vin = vin
        self.channel = channel
        self.dealer = dealer
        self.salesperson = salesperson
        self.preferredDealer = preferredDealer
        self.catalogVersion = catalogVersion
        self.createdAt = Instant(unixSeconds: createdAt).rfc3339
        self.expiresAt = Instant(unixSeconds: expiresAt).rfc3339
        self.items = items
        self.totalMinor = totalMinor
        self.currency = currency
        self.closedAt = closedAt.map { Instant(unixSeconds: $0).rfc3339 }
        self.creditedDealer = creditedDealer
        self.attribution = attribution
        self.bookings = bookings
        self.qr = qr
        self.dealerPage = dealerPage
    }
}

/// `POST /v1/quotes/{id}/accept`: the quote accepted, the site credited and why, and what it
/// booked (each with its token). The whole quote is `GET /v1/quotes/{id}`.
public struct QuoteAcceptResponse: Codable, Sendable, Hashable {
    public var id: String
    /// `accepted`.
    public var status: String
    public var vin: VIN
    public var creditedDealer: DealerID
    public var attribution: Attribution
    /// The total of the locked prices, in minor units of ``currency``.
    public var totalMinor: Int64
    public var currency: Currency
    public var bookings: [QuoteBookingBody]

    enum CodingKeys: String, CodingKey {
        case id, status, vin
        case creditedDealer = "credited_dealer"
        case attribution
        case totalMinor = "total_minor"
        case currency, bookings
    }

    public init(id: String, vin: VIN, creditedDealer: DealerID, attribution: Attribution, totalMinor: Int64, currency: Currency, bookings: [QuoteBookingBody]) {
        self.id = id
        self.status = "accepted"
        self.vin = vin
        self.creditedDealer = creditedDealer
        self.attribution = attribution
        self.totalMinor = totalMinor
        self.currency = currency
        self.bookings = bookings
    }
}

/// `GET /v1/vehicles/{vin}/quotes`: the vehicle's open quotes the caller may see.
public struct QuotesResponse: Codable, Sendable, Hashable {
    public var quotes: [QuoteResponse]

    public init(quotes: [QuoteResponse]) { self.quotes = quotes }
}

// The acceptance's answer as a value tree written directly: the same members, order and bytes
// as its `Encodable` form (a test compares them), without the encoder's containers. Measured
// (scripts/bench-quotes.py): the generic encoding was 8 % of an acceptance's CPU, the largest
// cost an acceptance has beyond what its three bookings need.
extension QuoteAcceptResponse {
    /// The answer as JSON.
    public var json: JSONValue {
        .object(JSONObject(members: [
            .init(name: "id", value: .string(id)), .init(name: "status", value: .string(status)), .init(name: "vin", value: .string(vin.value)),
            .init(name: "credited_dealer", value: .string(creditedDealer.value)), .init(name: "attribution", value: .string(attribution.rawValue)),
            .init(name: "total_minor", value: .number(String(totalMinor))), .init(name: "currency", value: .string(currency.code)),
            .init(name: "bookings", value: .array(bookings.map(\.json))),
        ]))
    }
}

extension QuoteBookingBody {
    /// The booking as JSON (as its `Encodable` form).
    public var json: JSONValue {
        var members: [JSONObject.Member] = [
            .init(name: "id", value: .string(id.value)), .init(name: "feature", value: .string(feature.value)), .init(name: "term", value: .string(term.rawValue)),
            .init(name: "dealer", value: dealer.map { .string($0.value) } ?? .null),
            .init(name: "attribution", value: attribution.map { .string($0.rawValue) } ?? .null), .init(name: "channel", value: .string(channel)),
        ]
        if let notBefore {
            members.append(.init(name: "not_before", value: .number(String(notBefore))))
            members.append(.init(name: "expires_at", value: expiresAt.map { .number(String($0)) } ?? .null))
        }
        if let price {
            members.append(.init(name: "price", value: .object(JSONObject(members: [
                .init(name: "term", value: .string(price.term.rawValue)), .init(name: "market", value: .string(price.market.code)),
                .init(name: "currency", value: .string(price.currency.code)), .init(name: "gross_minor", value: .number(String(price.grossMinor))),
                .init(name: "vat_bps", value: .number(String(price.vatBps))), .init(name: "campaign", value: price.campaign.map { .string($0) } ?? .null),
            ]))))
        }
        if let token { members.append(.init(name: "token", value: .string(token))) }
        return .object(JSONObject(members: members))
    }
}
