import AsyncHTTPClient
import CFoDSupport
import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDStore
import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// Delivers the outbox's events to the subscribed endpoints, following Standard Webhooks
/// (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>`): at least
/// once, in order per endpoint (the next event goes only after the previous one was delivered or
/// failed for good), retried with exponential backoff and jitter for ``WebhookPolicy/retryWindow``.
/// A service under `fod serve`'s group; with several instances each endpoint is delivered by one
/// at a time (``EventStore/claimWebhook(owner:nowMs:leaseMs:limit:)``); an endpoint's next events
/// are claimed together and recorded together, so the bookkeeping is two transactions for up to
/// ``batch`` events. A slow or dead receiver holds one worker for at most the timeout and never the API.
public struct WebhookDeliveryJob: Service {
    let services: FoDServices
    let policy: WebhookPolicy
    let logger: Logger
    /// This instance's name in the leases.
    let owner = "instance-" + Hex.encode(SecureRandom.bytes(8))
    /// How often an idle worker looks for work.
    let idle: Duration
    /// Events claimed at once for one endpoint: delivered one after the other, recorded together.
    static let batch = 100

    public init(services: FoDServices, policy: WebhookPolicy, logger: Logger, idle: Duration = .milliseconds(200)) {
        self.services = services
        self.policy = policy
        self.logger = logger
        self.idle = idle
    }

    public func run() async throws {
        try await WebhookClients.with(policy) { clients in
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<max(1, policy.workers) { group.addTask { await worker(clients) } }
            }
        }
    }

    private func nowMs() -> Int64 { Int64((services.clock.now().timeIntervalSince1970 * 1000).rounded(.down)) }

    private func worker(_ clients: WebhookClients) async {
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                guard let claim = try await services.store.claimWebhook(owner: owner, nowMs: nowMs(), leaseMs: policy.lease.milliseconds,
                                                                        limit: WebhookDeliveryJob.batch) else {
                    try? await cancelWhenGracefulShutdown { try await Task.sleep(for: idle) }
                    continue
                }
                let attempts = await deliver(claim, clients)
                try await record(claim, attempts)
                if let last = attempts.last, case .failed(_, let error) = last.outcome {
                    logger.error("webhook delivery failed for good", metadata: ["endpoint": "\(claim.endpoint.id)", "event": "evt_\(last.seq)", "reason": "\(error)"])
                }
            } catch {
                logger.error("webhook bookkeeping failed", metadata: ["reason": .string((error as? any CodedError)?.reason ?? "\(error)")])
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(1)) }
            }
        }
    }

    /// Records a claim's attempts and counts them in the metrics, with the endpoint's lag: the age
    /// of the first event not delivered, 0 when the claim delivered everything it held and was not
    /// full (the endpoint caught up; the next claim corrects it if events came meanwhile).
    func record(_ claim: WebhookClaim, _ attempts: [WebhookAttempt]) async throws {
        try await services.store.recordAttempts(claim, owner: owner, attempts)
        let settled = attempts.count(where: { if case .retry = $0.outcome { false } else { true } })
        let caughtUp = settled == claim.events.count && claim.events.count < WebhookDeliveryJob.batch
        let lag = caughtUp ? 0 : Double(nowMs()) / 1000 - Double(claim.events[min(settled, claim.events.count - 1)].occurredAt)
        services.metrics.webhookAttempts(attempts, endpoint: claim.endpoint.id, lagSeconds: lag)
    }

    /// A claim's events, one after the other while each is delivered and the lease has time for
    /// one more: the attempts to record. The address is checked once, before the first.
    func deliver(_ claim: WebhookClaim, _ clients: WebhookClients) async -> [WebhookAttempt] {
        let claimed = nowMs()
        let client: HTTPClient
        do {
            client = try await clients.client(for: claim.endpoint)
        } catch {
            let failure = (error as? APIError)?.detail ?? "\(error)".prefix(200).description
            let outcome = retryOrFail(status: nil, failure: failure, earlierAttempts: claim.attempts, firstAttemptMs: claim.firstAttemptMs)
            return [WebhookAttempt(seq: claim.events[0].seq, outcome: outcome, attempts: claim.attempts + 1, firstAttemptMs: claim.firstAttemptMs, atMs: nowMs())]
        }
        var attempts: [WebhookAttempt] = []
        for (index, event) in claim.events.enumerated() {
            if index > 0, nowMs() - claimed + policy.timeout.milliseconds > policy.lease.milliseconds - 5_000 { break }
            let earlier = index == 0 ? claim.attempts : 0
            let first = index == 0 ? claim.firstAttemptMs : nowMs()
            let outcome = await attempt(claim.endpoint, event, earlierAttempts: earlier, firstAttemptMs: first, client)
            attempts.append(WebhookAttempt(seq: event.seq, outcome: outcome, attempts: earlier + 1, firstAttemptMs: first, atMs: nowMs()))
            guard case .delivered = outcome else { break }
        }
        return attempts
    }

    /// A failed attempt's outcome: retried later, or given up once the retry window is over.
    private func retryOrFail(status: Int64?, failure: String, earlierAttempts: Int64, firstAttemptMs: Int64) -> WebhookOutcome {
        let now = nowMs()
        if now - firstAttemptMs >= policy.retryWindow.milliseconds { return .failed(status: status, error: failure) }
        return .retry(status: status, error: failure, nextAttemptMs: now + policy.delay(afterFailures: earlierAttempts + 1).milliseconds)
    }

    /// One attempt: the request, signed, cut off after the timeout.
    func attempt(_ endpoint: WebhookEndpoint, _ event: OutboxEvent, earlierAttempts: Int64, firstAttemptMs: Int64, _ client: HTTPClient) async -> WebhookOutcome {
        let started = nowMs()
        let body = event.json()
        var status: Int64?
        var failure: String
        do {
            var request = HTTPClientRequest(url: endpoint.url)
            request.method = .POST
            for (name, value) in try WebhookSignature.headers(id: event.id, timestamp: started / 1000, body: body, secret: endpoint.secret) {
                request.headers.add(name: name, value: value)
            }
            request.headers.add(name: "content-type", value: "application/json")
            request.headers.add(name: "user-agent", value: "fod-webhooks/1")
            request.body = .bytes(ByteBuffer(string: body))
            let response = try await client.execute(request, timeout: .milliseconds(policy.timeout.milliseconds))
            status = Int64(response.status.code)
            _ = try? await response.body.collect(upTo: 64 * 1024)
            if (200..<300).contains(response.status.code) { return .delivered(status: Int64(response.status.code)) }
            failure = "the receiver answered \(response.status.code)"
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            failure = "timed out after \(policy.timeout)"
        } catch {
            failure = "\(error)".prefix(200).description
        }
        return retryOrFail(status: status, failure: failure, earlierAttempts: earlierAttempts, firstAttemptMs: firstAttemptMs)
    }
}

/// Standard Webhooks signing: the secret `whsec_<base64>`, the signature over `id.timestamp.body`.
public enum WebhookSignature {
    /// A new secret: 32 random bytes.
    public static func newSecret() -> String { "whsec_" + Data(SecureRandom.bytes(32)).base64EncodedString() }

    /// The three headers of a delivery.
    /// - Throws: ``APIError`` when the stored secret is damaged.
    public static func headers(id: String, timestamp: Int64, body: String, secret: String) throws -> [(String, String)] {
        guard secret.hasPrefix("whsec_"), let key = Data(base64Encoded: String(secret.dropFirst(6))) else {
            throw APIError(.internalServerError, "webhook_secret_damaged", "the endpoint's secret is damaged")
        }
        let mac = HMACSHA256.mac(key: Array(key), message: Array("\(id).\(timestamp).\(body)".utf8))
        return [("webhook-id", id), ("webhook-timestamp", String(timestamp)), ("webhook-signature", "v1," + Data(mac).base64EncodedString())]
    }
}
