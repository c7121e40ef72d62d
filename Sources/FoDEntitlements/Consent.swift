import FoDCore

/// The consent record EU consumer law asks for with every sale of digital content
/// (docs/revenue-share.md, "Withdrawal"): which terms the customer accepted, whether they asked
/// for the feature to start before the 14-day withdrawal period ends, and when they acknowledged
/// that they lose the right of withdrawal by that (§356(5) BGB). Stored with the sale, in the
/// same transaction, and in the audit log.
public struct Consent: Sendable, Hashable {
    /// The version of the terms accepted; `nil` for a counter sale where none was recorded.
    public let termsVersion: String?
    /// The customer expressly asked for the feature to start within the withdrawal period.
    public let immediateStart: Bool
    /// When the customer acknowledged losing the withdrawal right by the early start (Unix seconds).
    public let acknowledgedAt: Int64?

    /// - Throws: ``EntitlementError`` `request_invalid`: a terms version that is not 1–64
    ///   characters of display text, or an acknowledgement without an early-start request.
    public init(termsVersion: String?, immediateStart: Bool, acknowledgedAt: Int64?) throws {
        if let termsVersion { try DisplayText.check(termsVersion, "consent terms_version", maxLength: 64) }
        if acknowledgedAt != nil, !immediateStart {
            throw EntitlementError(.requestInvalid, "consent acknowledged_at is the acknowledgement of an early start: it needs \"immediate_start\": true")
        }
        self.termsVersion = termsVersion
        self.immediateStart = immediateStart
        self.acknowledgedAt = acknowledgedAt
    }

    /// How far an acknowledgement may lie after the sale's recording (clocks of the shop and fod differ).
    public static let clockSkew: Int64 = 300
    /// How long before the sale an acknowledgement may have been given (a checkout that took days).
    public static let maximumAge: Int64 = 7 * 86_400

    /// Why ``acknowledgedAt`` cannot belong to a sale recorded at `soldAt`: it removes the
    /// statutory withdrawal right, so it must have been given before the sale (within
    /// ``clockSkew``) and not more than ``maximumAge`` before it. `nil` when it can (or is absent).
    public func acknowledgementProblem(soldAt: Int64) -> String? {
        guard let acknowledgedAt else { return nil }
        if acknowledgedAt > soldAt + Consent.clockSkew {
            return "consent acknowledged_at (\(Instant(unixSeconds: acknowledgedAt).rfc3339)) is after the sale (\(Instant(unixSeconds: soldAt).rfc3339)): the customer acknowledges before buying"
        }
        if acknowledgedAt < soldAt - Consent.maximumAge {
            return "consent acknowledged_at (\(Instant(unixSeconds: acknowledgedAt).rfc3339)) is more than 7 days before the sale: record the acknowledgement given at this checkout"
        }
        return nil
    }

    /// What a counter sale records when the dealer recorded no consent: given in person, without
    /// an early-start request, so the withdrawal right stands.
    public static let inPerson = Consent(unchecked: nil, immediateStart: false, acknowledgedAt: nil)

    private init(unchecked termsVersion: String?, immediateStart: Bool, acknowledgedAt: Int64?) {
        self.termsVersion = termsVersion
        self.immediateStart = immediateStart
        self.acknowledgedAt = acknowledgedAt
    }

    /// Whether the withdrawal right lapses once the feature is delivered: the customer asked for
    /// the early start and acknowledged losing the right (§356(5) BGB).
    public var waivesWithdrawalOnDelivery: Bool { immediateStart && acknowledgedAt != nil }

    /// How the audit log records it.
    public var auditText: String {
        "consent=terms:\(termsVersion ?? "-") immediate_start:\(immediateStart) acknowledged_at:\(acknowledgedAt.map { Instant(unixSeconds: $0).rfc3339 } ?? "-")"
    }
}

/// The consent document of a request: `{terms_version, immediate_start, acknowledged_at}`.
extension Consent: StrictDecodable, CodingKeyed, Encodable {
    public enum Keys: String, CodingKey, CaseIterable {
        case termsVersion = "terms_version"
        case immediateStart = "immediate_start"
        case acknowledgedAt = "acknowledged_at"
    }

    /// `immediate_start` is required; `terms_version` (required on a purchase) and
    /// `acknowledged_at` (RFC 3339) may be absent or null.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let terms = try c.decodeIfPresent(String.self, forKey: .termsVersion)
        let immediate = try c.decode(Bool.self, forKey: .immediateStart)
        try self.init(termsVersion: terms, immediateStart: immediate, acknowledgedAt: try c.decodeInstantIfPresent(forKey: .acknowledgedAt))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encodeIfPresent(termsVersion, forKey: .termsVersion)
        try c.encode(immediateStart, forKey: .immediateStart)
        try c.encodeIfPresent(acknowledgedAt.map { Instant(unixSeconds: $0).rfc3339 }, forKey: .acknowledgedAt)
    }
}
