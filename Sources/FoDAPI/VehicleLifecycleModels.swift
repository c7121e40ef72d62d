import FoDCore
import FoDEntitlements

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
        let dealer = try c.decode(String.self, forKey: .dealerID), from = try c.decodeInstantIfPresent(forKey: .from)
        self.dealerID = try DealerID(dealer)
        self.from = from
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

/// `POST /v1/vehicles/{vin}/transfer`: the change of owner at `effective_at` (RFC 3339; absent: now).
public struct TransferRequest: StrictDecodable, CodingKeyed, Encodable, Sendable, Hashable {
    public enum Keys: String, CodingKey, CaseIterable {
        case effectiveAt = "effective_at"
    }
    public var effectiveAt: Int64?

    public init(effectiveAt: Int64? = nil) { self.effectiveAt = effectiveAt }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        effectiveAt = try c.decodeInstantIfPresent(forKey: .effectiveAt, nullAllowed: false)
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
