import FoDCore
import Foundation

/// One event of the outbox: what changed, when, and the resource's new state (JSON).
public struct OutboxEvent: Sendable, Hashable {
    public let seq: Int64
    public let type: String
    /// Unix seconds.
    public let occurredAt: Int64
    public let subject: String
    /// The dealer the event concerns (a dealer's feed shows only its own), or `nil`.
    public let dealerID: String?
    /// The resource's state after the change, a JSON object (no token, no key).
    public let data: String
    /// Who made the change, as the audit log names them: a key (`issuer:key_…`), a dealer's key, or
    /// a person in the back office (`ROLE:person:SUBJECT (NAME)`): its audit entry's actor.
    public let actor: String?

    public init(seq: Int64, type: String, occurredAt: Int64, subject: String, dealerID: String?, data: String, actor: String? = nil) {
        self.seq = seq
        self.type = type
        self.occurredAt = occurredAt
        self.subject = subject
        self.dealerID = dealerID
        self.data = data
        self.actor = actor
    }

    /// The event's id, stable across deliveries and instances: the `webhook-id` a receiver drops duplicates by.
    public var id: String { "evt_\(seq)" }

    /// The event as delivered and listed: `{"id", "seq", "type", "occurred_at", "actor", "data"}`,
    /// compact. `actor` is left out of a dealer's feed (`withActor` false): a dealer does not learn
    /// who at the OEM or which key made a change.
    public func json(withActor: Bool = true) -> String {
        let by = withActor ? actor.flatMap { try? JSONEncoder().encode($0) }.map { ",\"actor\":" + String(decoding: $0, as: UTF8.self) } ?? "" : ""
        return "{\"id\":\"\(id)\",\"seq\":\(seq),\"type\":\"\(type)\",\"occurred_at\":\"\(Instant(unixSeconds: occurredAt).rfc3339)\"\(by),\"data\":\(data)}"
    }
}

/// A subscriber's endpoint.
public struct WebhookEndpoint: Sendable, Hashable {
    public let id: String
    public let url: String
    /// The event types it receives; empty: all.
    public let types: [String]
    public let createdAt: Int64
    /// The last event seq it was given (delivered, or failed for good); delivery goes on after it.
    public let position: Int64
    /// When the next attempt may be made (Unix milliseconds).
    public let nextAttemptMs: Int64
    /// The signing secret (`whsec_…`); shown once, at creation.
    public let secret: String
    /// When it was deleted (it gets nothing since; its delivery log is kept); `nil` while subscribed.
    public var deletedAt: Int64? = nil

    public init(id: String, url: String, types: [String], createdAt: Int64, position: Int64, nextAttemptMs: Int64, secret: String) {
        self.id = id
        self.url = url
        self.types = types
        self.createdAt = createdAt
        self.position = position
        self.nextAttemptMs = nextAttemptMs
        self.secret = secret
    }

    /// ``types`` as kept.
    public var storedTypes: String { WebhookEndpoint.storedTypes(types) }

    /// How the types are kept: `,a,b,` (`*` for all), so a store can test one with a substring match.
    public static func storedTypes(_ types: [String]) -> String { types.isEmpty ? "*" : "," + types.joined(separator: ",") + "," }
    public static func types(stored: String) -> [String] { stored == "*" ? [] : stored.split(separator: ",").map(String.init) }
}

/// One event's delivery to one endpoint, as the log shows it.
public struct WebhookDelivery: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable { case retrying, delivered, failed }
    public let endpointID: String
    public let seq: Int64
    public let status: Status
    public let attempts: Int64
    /// Unix milliseconds.
    public let firstAttemptMs: Int64
    public let lastAttemptMs: Int64
    /// The receiver's HTTP status of the last attempt, if it answered.
    public let lastStatus: Int64?
    /// Why the last attempt failed (a timeout, a refused connection, a status), if it did.
    public let lastError: String?

    public init(endpointID: String, seq: Int64, status: Status, attempts: Int64, firstAttemptMs: Int64, lastAttemptMs: Int64,
                lastStatus: Int64?, lastError: String?) {
        self.endpointID = endpointID
        self.seq = seq
        self.status = status
        self.attempts = attempts
        self.firstAttemptMs = firstAttemptMs
        self.lastAttemptMs = lastAttemptMs
        self.lastStatus = lastStatus
        self.lastError = lastError
    }
}

/// An endpoint claimed for delivery: the next events it is due, in sequence order, delivered one
/// after the other and recorded together (one claim and one record for many events). Only the first
/// may have been attempted before.
public struct WebhookClaim: Sendable, Hashable {
    public let endpoint: WebhookEndpoint
    /// At least one; at most the limit claimed.
    public let events: [OutboxEvent]
    /// Attempts made already for the first event (0: none).
    public let attempts: Int64
    /// When the first event's first attempt was made (Unix ms), or the claim's time.
    public let firstAttemptMs: Int64

    public init(endpoint: WebhookEndpoint, events: [OutboxEvent], attempts: Int64, firstAttemptMs: Int64) {
        precondition(!events.isEmpty, "a claim has an event")
        self.endpoint = endpoint
        self.events = events
        self.attempts = attempts
        self.firstAttemptMs = firstAttemptMs
    }
}

/// One attempt of a claimed event, as recorded.
public struct WebhookAttempt: Sendable, Hashable {
    public let seq: Int64
    public let outcome: WebhookOutcome
    /// This event's attempts, this one included.
    public let attempts: Int64
    /// Unix ms of the event's first attempt, and of this one.
    public let firstAttemptMs: Int64
    public let atMs: Int64

    public init(seq: Int64, outcome: WebhookOutcome, attempts: Int64, firstAttemptMs: Int64, atMs: Int64) {
        self.seq = seq
        self.outcome = outcome
        self.attempts = attempts
        self.firstAttemptMs = firstAttemptMs
        self.atMs = atMs
    }
}

/// What an attempt came to.
public enum WebhookOutcome: Sendable, Hashable {
    case delivered(status: Int64)
    /// Failed; tried again at `nextAttemptMs`.
    case retry(status: Int64?, error: String, nextAttemptMs: Int64)
    /// Failed for good (the retry window is over): the endpoint goes on with the next event.
    case failed(status: Int64?, error: String)
}

/// The outbox's events, and webhook endpoints with their deliveries.
public protocol EventStore: Sendable {
    /// Events after `seq`, oldest first; a dealer's own only when `dealer` is given.
    func events(after seq: Int64, limit: Int, dealer: String?) async throws -> [OutboxEvent]
    /// Makes an endpoint that receives the events from now on (after the outbox's last).
    func createWebhook(url: String, types: [String], secret: String, actor: String, at now: Int64) async throws -> WebhookEndpoint
    func webhooks() async throws -> [WebhookEndpoint]
    /// An endpoint by id, a deleted one too (with ``WebhookEndpoint/deletedAt``).
    func webhook(_ id: String) async throws -> WebhookEndpoint?
    /// Deletes an endpoint: nothing more is delivered to it; its log stays.
    /// - Throws: ``StoreError`` `not_found`.
    func deleteWebhook(_ id: String, actor: String, at now: Int64) async throws
    /// Claims an endpoint that is due and has events to deliver (its next `limit` at most), for
    /// `leaseMs`, as `owner` (several instances: each endpoint by one at a time).
    func claimWebhook(owner: String, nowMs: Int64, leaseMs: Int64, limit: Int) async throws -> WebhookClaim?
    /// Records the attempts of a claim — its first events in order, each delivered but perhaps the
    /// last — and releases it. Ignored when the lease was lost meanwhile.
    func recordAttempts(_ claim: WebhookClaim, owner: String, _ attempts: [WebhookAttempt]) async throws
    /// An endpoint's deliveries, newest first.
    func deliveries(of id: String, limit: Int) async throws -> [WebhookDelivery]
    /// Delivers again from after `seq` (a replay), at once; `nil`: retries the pending event now.
    /// - Throws: ``StoreError`` `not_found`.
    func rewindWebhook(_ id: String, after seq: Int64?, actor: String, at now: Int64) async throws -> WebhookEndpoint
    /// Records a root version the service took, once per version (its `keys.rotated` event).
    /// - Returns: whether it was new (another instance, or an earlier start, may have recorded it).
    func recordRootVersion(_ root: RootVersionRecord, at now: Int64) async throws -> Bool
}

