import FoDCore
import FoDEntitlements

/// `POST /v1/webhooks`: the endpoint's URL and the event types it wants (absent or empty: all).
public struct WebhookRequest: StrictDecodable, CodingKeyed, Encodable, Sendable, Hashable {
    public var url: String
    public var types: [String]?

    public init(url: String, types: [String]? = nil) {
        self.url = url
        self.types = types
    }

    public enum Keys: String, CodingKey, CaseIterable { case url, types }
    public typealias CodingKeys = Keys
}

/// An endpoint; `secret` only in the answer that made it (shown once).
public struct WebhookBody: Codable, Sendable, Hashable {
    public var id: String
    public var url: String
    public var types: [String]
    public var createdAt: String
    /// The last event seq given to it; delivery goes on after it.
    public var position: Int64
    public var secret: String?

    public init(id: String, url: String, types: [String], createdAt: String, position: Int64, secret: String?) {
        self.id = id
        self.url = url
        self.types = types
        self.createdAt = createdAt
        self.position = position
        self.secret = secret
    }

    enum CodingKeys: String, CodingKey { case id, url, types, createdAt = "created_at", position, secret }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(url, forKey: .url)
        try c.encode(types, forKey: .types)
        try c.encode(createdAt, forKey: .createdAt)
        try c.encode(position, forKey: .position)
        try c.encodeIfPresent(secret, forKey: .secret)
    }
}

/// `GET /v1/webhooks`.
public struct WebhookList: Codable, Sendable, Hashable {
    public var webhooks: [WebhookBody]
    public init(webhooks: [WebhookBody]) { self.webhooks = webhooks }
}

/// One delivery of the log.
public struct DeliveryBody: Codable, Sendable, Hashable {
    public var seq: Int64
    public var eventID: String
    /// `retrying`, `delivered` or `failed`.
    public var status: String
    public var attempts: Int64
    public var firstAttemptAt: String
    public var lastAttemptAt: String
    @Nullable public var lastStatus: Int64?
    @Nullable public var lastError: String?

    public init(seq: Int64, eventID: String, status: String, attempts: Int64, firstAttemptAt: String, lastAttemptAt: String, lastStatus: Int64?,
                lastError: String?) {
        self.seq = seq
        self.eventID = eventID
        self.status = status
        self.attempts = attempts
        self.firstAttemptAt = firstAttemptAt
        self.lastAttemptAt = lastAttemptAt
        self.lastStatus = lastStatus
        self.lastError = lastError
    }

    enum CodingKeys: String, CodingKey {
        case seq, eventID = "event_id", status, attempts, firstAttemptAt = "first_attempt_at", lastAttemptAt = "last_attempt_at"
        case lastStatus = "last_status", lastError = "last_error"
    }
}

/// `GET /v1/webhooks/{id}/deliveries`.
public struct DeliveriesResponse: Codable, Sendable, Hashable {
    public var deliveries: [DeliveryBody]
    public init(deliveries: [DeliveryBody]) { self.deliveries = deliveries }
}

/// `POST /v1/webhooks/{id}/replay`: deliver again every event after `after`.
public struct ReplayRequest: StrictDecodable, CodingKeyed, Encodable, Sendable, Hashable {
    public var after: Int64
    public init(after: Int64) { self.after = after }
    public enum Keys: String, CodingKey, CaseIterable { case after }
    public typealias CodingKeys = Keys
}
