import FoDCore
import FoDEntitlements

/// `POST /v1/plans/{id}/versions`: a rules document shaped like `fixtures/revenue/rules.json` plus
/// `effective_from` (RFC 3339; absent: now) and `model` (`agency`, `referral` or `none`; absent: agency).
public struct PlanVersionRequest: StrictDecodable, Encodable, Sendable, Hashable {
    /// The document as sent (read by the revenue module's plan version reader).
    public var document: JSONObject

    public static var members: Set<String> { ["version", "clawback_days", "rules", "tiers", "effective_from", "model"] }

    public init(document: JSONObject) { self.document = document }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        var members: [JSONObject.Member] = []
        for name in ["version", "clawback_days", "rules", "tiers", "effective_from", "model"] {
            if let value = try c.decodeIfPresent(JSONValue.self, forKey: Key(stringValue: name)) { members.append(.init(name: name, value: value)) }
        }
        document = JSONObject(members: members)
    }

    public func encode(to encoder: any Encoder) throws { try JSONValue.object(document).encode(to: encoder) }
}

/// `POST /v1/plans/{id}/preview`: a draft version (as `POST /v1/plans/{id}/versions` takes it;
/// `effective_from` absent: the month's start) run over a closed month.
public struct PlanPreviewRequest: StrictDecodable, CodingKeyed, Encodable, Sendable, Hashable {
    public enum Keys: String, CodingKey, CaseIterable { case period, version }
    public typealias CodingKeys = Keys
    public var period: String
    public var version: PlanVersionRequest

    public init(period: String, version: PlanVersionRequest) {
        self.period = period
        self.version = version
    }
}

/// A plan version as answered.
public struct PlanVersionBody: Codable, Sendable, Hashable {
    public var version: String
    /// `null`: in force for everything before the next version (the rules of before plans had versions).
    @Nullable public var effectiveFrom: String?
    public var model: String
    /// The rules document.
    public var rules: JSONValue

    public init(version: String, effectiveFrom: String?, model: String, rules: JSONValue) {
        self.version = version
        self.effectiveFrom = effectiveFrom
        self.model = model
        self.rules = rules
    }

    enum CodingKeys: String, CodingKey { case version, effectiveFrom = "effective_from", model, rules }
}

/// `GET /v1/plans/{id}?at=`: the version in force then and every version.
public struct PlanBody: Codable, Sendable, Hashable {
    public var plan: String
    public var at: String
    public var inForce: PlanVersionBody
    public var versions: [PlanVersionBody]

    public init(plan: String, at: String, inForce: PlanVersionBody, versions: [PlanVersionBody]) {
        self.plan = plan
        self.at = at
        self.inForce = inForce
        self.versions = versions
    }

    enum CodingKeys: String, CodingKey { case plan, at, inForce = "in_force", versions }
}

/// `POST /v1/plans/{id}/preview`: per partner and currency, what was paid for the closed month and
/// what the draft would have paid (minor units; adjustments the same in both). Nothing is stored.
public struct PlanPreviewBody: Codable, Sendable, Hashable {
    public struct Row: Codable, Sendable, Hashable {
        public var partnerID: String
        public var currency: String
        public var paid: Int64
        public var wouldBePaid: Int64
        public var difference: Int64

        public init(partnerID: String, currency: String, paid: Int64, wouldBePaid: Int64, difference: Int64) {
            self.partnerID = partnerID
            self.currency = currency
            self.paid = paid
            self.wouldBePaid = wouldBePaid
            self.difference = difference
        }

        enum CodingKeys: String, CodingKey { case partnerID = "partner_id", currency, paid, wouldBePaid = "would_be_paid", difference }
    }

    public var plan: String
    public var period: String
    public var draftVersion: String
    public var partners: [Row]

    public init(plan: String, period: String, draftVersion: String, partners: [Row]) {
        self.plan = plan
        self.period = period
        self.draftVersion = draftVersion
        self.partners = partners
    }

    enum CodingKeys: String, CodingKey { case plan, period, draftVersion = "draft_version", partners }
}
