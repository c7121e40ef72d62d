import FoDCore
import FoDEntitlements

/// `POST /v1/catalog/versions`: a catalog document shaped like `fixtures/catalog.json`
/// (`version`, `equipment_names`, `features`) and `effective_at` (RFC 3339; absent: now).
public struct CatalogVersionRequest: StrictDecodable, Encodable, Sendable, Hashable {
    /// The document without `effective_at`.
    public var document: JSONValue
    public var effectiveAt: Int64?

    public static var members: Set<String> { ["version", "equipment_names", "features", "effective_at"] }

    public init(document: JSONValue, effectiveAt: Int64?) {
        self.document = document
        self.effectiveAt = effectiveAt
    }

    private enum Keys: String, CodingKey { case version, equipmentNames = "equipment_names", features, effectiveAt = "effective_at" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        effectiveAt = try c.decodeInstantIfPresent(forKey: .effectiveAt)
        var members = [JSONObject.Member(name: "version", value: .string(try c.decode(String.self, forKey: .version)))]
        if let names = try c.decodeIfPresent(JSONValue.self, forKey: .equipmentNames) { members.append(.init(name: "equipment_names", value: names)) }
        members.append(.init(name: "features", value: try c.decode(JSONValue.self, forKey: .features)))
        document = .object(JSONObject(members: members))
    }

    public func encode(to encoder: any Encoder) throws {
        try document.encode(to: encoder)
    }
}

/// A catalog version as listed.
public struct CatalogVersionBody: Codable, Sendable, Hashable {
    public var version: String
    public var effectiveAt: String

    public init(version: String, effectiveAt: String) {
        self.version = version
        self.effectiveAt = effectiveAt
    }

    enum CodingKeys: String, CodingKey { case version, effectiveAt = "effective_at" }
}

/// `GET /v1/catalog/versions`.
public struct CatalogVersionList: Codable, Sendable, Hashable {
    public var versions: [CatalogVersionBody]
    public init(versions: [CatalogVersionBody]) { self.versions = versions }
}

/// `GET /v1/catalog?at=`: what is sold at that moment — the version in force, its features with
/// the prices then (a running campaign's in place of the list price) and their retirement.
public struct CatalogAtBody: Codable, Sendable, Hashable {
    public var at: String
    public var version: String
    public var effectiveAt: String
    public var features: [FeatureBody]

    public init(at: String, version: String, effectiveAt: String, features: [FeatureBody]) {
        self.at = at
        self.version = version
        self.effectiveAt = effectiveAt
        self.features = features
    }

    enum CodingKeys: String, CodingKey { case at, version, effectiveAt = "effective_at", features }
}

/// `POST /v1/campaigns`: a price for a feature, market and term from `from` to `to` (RFC 3339).
public struct CampaignRequest: StrictDecodable, CodingKeyed, Encodable, Sendable, Hashable {
    public enum Keys: String, CodingKey, CaseIterable { case id, feature, market, term, grossMinor = "gross_minor", from, to }
    public typealias CodingKeys = Keys
    public var id: String
    public var feature: FeatureCode
    public var market: Market
    public var term: Term
    public var grossMinor: Int64
    public var from: Int64
    public var to: Int64

    public init(id: String, feature: FeatureCode, market: Market, term: Term, grossMinor: Int64, from: Int64, to: Int64) {
        self.id = id
        self.feature = feature
        self.market = market
        self.term = term
        self.grossMinor = grossMinor
        self.from = from
        self.to = to
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        id = try c.decode(String.self, forKey: .id)
        feature = try FeatureCode(try c.decode(String.self, forKey: .feature))
        market = try c.decode(Market.self, forKey: .market)
        term = try Term(validating: try c.decode(String.self, forKey: .term))
        grossMinor = try c.decode(Int64.self, forKey: .grossMinor)
        guard let from = try c.decodeInstantIfPresent(forKey: .from), let to = try c.decodeInstantIfPresent(forKey: .to) else {
            throw EntitlementError(.fieldMissing, "from and to are required")
        }
        self.from = from
        self.to = to
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encode(id, forKey: .id)
        try c.encode(feature.value, forKey: .feature)
        try c.encode(market, forKey: .market)
        try c.encode(term.rawValue, forKey: .term)
        try c.encode(grossMinor, forKey: .grossMinor)
        try c.encode(Instant(unixSeconds: from).rfc3339, forKey: .from)
        try c.encode(Instant(unixSeconds: to).rfc3339, forKey: .to)
    }
}

/// A campaign as answered.
public struct CampaignBody: Codable, Sendable, Hashable {
    public var id: String
    public var feature: String
    public var market: String
    public var term: String
    public var grossMinor: Int64
    public var from: String
    public var to: String

    public init(id: String, feature: String, market: String, term: String, grossMinor: Int64, from: String, to: String) {
        self.id = id
        self.feature = feature
        self.market = market
        self.term = term
        self.grossMinor = grossMinor
        self.from = from
        self.to = to
    }

    enum CodingKeys: String, CodingKey { case id, feature, market, term, grossMinor = "gross_minor", from, to }
}

/// `GET /v1/campaigns`.
public struct CampaignList: Codable, Sendable, Hashable {
    public var campaigns: [CampaignBody]
    public init(campaigns: [CampaignBody]) { self.campaigns = campaigns }
}

/// `POST /v1/features/{code}/retire`: the answer.
public struct RetirementBody: Codable, Sendable, Hashable {
    public var feature: String
    public var effectiveAt: String

    public init(feature: String, effectiveAt: String) {
        self.feature = feature
        self.effectiveAt = effectiveAt
    }

    enum CodingKeys: String, CodingKey { case feature, effectiveAt = "effective_at" }
}
