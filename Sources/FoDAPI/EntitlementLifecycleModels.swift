import FoDCore
import FoDEntitlements

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
    /// The `after` of the next page; absent on the last.
    public var next: String?

    public init(until: Int64, entitlements: [EntitlementBody], next: String? = nil) {
        self.until = Instant(unixSeconds: until).rfc3339
        self.entitlements = entitlements
        self.next = next
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
