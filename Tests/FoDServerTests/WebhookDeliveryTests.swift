import FoDCore
import FoDCrypto
@testable import FoDServer
import FoDStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

/// The delivery job's attempts against a receiver on 127.0.0.1 (a Hummingbird app of the test),
/// driven step by step on a clock the test sets: retries, the 72-hour window, the timeout, order.
/// The same against standardwebhooks' verifier and a real `fod serve`: scripts/webhooks-e2e.py.
@Suite("Webhook deliveries")
struct WebhookDeliveryTests {
    /// What the receiver got: path, webhook-id, body, whether the signature matched.
    final class Receiver: Sendable {
        struct Request: Sendable { let path: String, id: String, body: String, signed: Bool }
        let requests = Mutex<[Request]>([])
        let secret = WebhookSignature.newSecret()

        var router: Router<BasicRequestContext> {
            let router = Router()
            // /flaky fails its first 3 requests; /down always answers 500; /hang answers after 2 s.
            router.post("/{kind}") { request, context -> HTTPResponse.Status in
                let kind = context.parameters.get("kind") ?? ""
                let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
                let id = request.headers[HTTPField.Name("webhook-id")!] ?? ""
                let timestamp = Int64(request.headers[HTTPField.Name("webhook-timestamp")!] ?? "") ?? -1
                let expected = try WebhookSignature.headers(id: id, timestamp: timestamp, body: body, secret: self.secret).last?.1
                let count = self.requests.withLock { list in
                    list.append(Request(path: kind, id: id, body: body, signed: request.headers[HTTPField.Name("webhook-signature")!] == expected))
                    return list.filter { $0.path == kind }.count
                }
                switch kind {
                case "flaky": return count <= 3 ? .internalServerError : .noContent
                case "down": return .internalServerError
                case "hang":
                    try await Task.sleep(for: .seconds(2))
                    return .noContent
                default: return .noContent
                }
            }
            return router
        }

        func got(_ kind: String) -> [Request] { requests.withLock { $0.filter { $0.path == kind } } }
    }

    /// A service with `count` activations (events), its clock, and the job's policy.
    static func service(_ backend: StoreBackend, activations count: Int) async throws -> (TestService, SettableClock) {
        let clock = SettableClock(TestService.now)
        let service = try await TestService(backend, clock: clock)
        let sales = [("WAUZZZF45RA000001", "NAV_PLUS"), ("3VWD07AJ5EM388202", "NAV_PLUS"), ("JN1DA31D63T505967", "NAV_PLUS")]
        try await service.app.test(.router) { client in
            for (index, (vin, feature)) in sales.prefix(count).enumerated() {
                try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "d-\(index)"),
                                         body: body(#"{"vin":"\#(vin)","feature":"\#(feature)","term":"P1Y"}"#)) { response async throws in
                    #expect(response.status == .created, "\(String(buffer: response.body))")
                }
            }
        }
        return (service, clock)
    }

    /// Claims, attempts and records until `done` holds or `steps` run out; when nothing is due the
    /// clock moves on by `idle` seconds.
    static func drive(_ service: TestService, _ clock: SettableClock, policy: WebhookPolicy, idle: Int64, steps: Int, batch: Int = WebhookDeliveryJob.batch,
                      until done: () async throws -> Bool) async throws {
        let job = WebhookDeliveryJob(services: service.services, policy: policy, logger: .init(label: "test"))
        let store = service.services.store
        try await WebhookClients.with(policy) { client in
            for _ in 0..<steps {
                if try await done() { return }
                let nowMs = Int64(clock.now().timeIntervalSince1970 * 1000)
                if let claim = try await store.claimWebhook(owner: job.owner, nowMs: nowMs, leaseMs: policy.lease.milliseconds, limit: batch) {
                    try await job.record(claim, await job.deliver(claim, client))
                } else {
                    clock.set(Int64(clock.now().timeIntervalSince1970) + idle)
                }
            }
        }
    }

    @Test("a receiver failing its first three requests gets every event once, in order, signed; one that never answers 2xx is given up after 72 hours and the next event goes on",
          arguments: StoreBackend.all)
    func retries(backend: StoreBackend) async throws {
        let (service, clock) = try await Self.service(backend, activations: 3)
        let receiver = Receiver()
        let store = service.services.store
        let expected = try await store.events(after: 0, limit: 1000, dealer: nil).filter { $0.type == "activation.created" }
        try #require(expected.count == 3)
        try await Application(router: receiver.router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            let port = try #require(client.port)
            let flaky = try await store.createWebhook(url: "http://127.0.0.1:\(port)/flaky", types: ["activation.created"], secret: receiver.secret,
                                                      actor: "test", at: TestService.now)
            let down = try await store.createWebhook(url: "http://127.0.0.1:\(port)/down", types: ["activation.created"], secret: receiver.secret,
                                                     actor: "test", at: TestService.now)
            // Made after the events: both start after them; deliver them again from the start.
            _ = try await store.rewindWebhook(flaky.id, after: 0, actor: "test", at: TestService.now)
            _ = try await store.rewindWebhook(down.id, after: 0, actor: "test", at: TestService.now)
            let policy = WebhookPolicy(timeout: .seconds(2), allowPrivate: true)
            try await Self.drive(service, clock, policy: policy, idle: 600, steps: 2_000) {
                let log = try await store.deliveries(of: down.id, limit: 100)
                return log.count == 3 && log.allSatisfy { $0.status == .failed } && receiver.got("flaky").count >= 6
            }

            // flaky: 3 failures, then each event once, in sequence order, every signature right.
            let flakyGot = receiver.got("flaky")
            #expect(flakyGot.count == 6, "\(flakyGot.map(\.id))")
            #expect(flakyGot.allSatisfy { $0.signed })
            var seen: [String] = []
            for request in flakyGot where !seen.contains(request.id) { seen.append(request.id) }
            #expect(seen == expected.map(\.id), "every event, in order")
            #expect(flakyGot.suffix(3).map(\.body) == expected.map { $0.json() }, "the body is the event as the feed lists it")
            let flakyLog = try await store.deliveries(of: flaky.id, limit: 100)
            #expect(flakyLog.map(\.status) == [.delivered, .delivered, .delivered])
            #expect(flakyLog.last?.attempts == 4 && flakyLog.last?.seq == expected[0].seq, "newest first; the first event took 4 attempts")

            // down: each event retried for 72 hours with growing delays, then failed; the next one goes on.
            let downLog = try await store.deliveries(of: down.id, limit: 100).sorted { $0.seq < $1.seq }
            let window = policy.retryWindow.milliseconds
            for delivery in downLog {
                #expect(delivery.status == .failed && delivery.lastStatus == 500 && delivery.lastError == "the receiver answered 500")
                #expect(delivery.lastAttemptMs - delivery.firstAttemptMs >= window, "retried for the whole window")
                #expect(delivery.lastAttemptMs - delivery.firstAttemptMs < window + policy.maxDelay.milliseconds * 13 / 10)
                #expect(delivery.attempts >= 20 && delivery.attempts <= 40, "doubling delays capped at 6 h: \(delivery.attempts) attempts")
            }
            let downIDs = receiver.got("down").map(\.id)
            #expect(downIDs == downIDs.sorted { Int($0.dropFirst(4))! < Int($1.dropFirst(4))! }, "never an event before the previous one is settled")
        }
    }

    @Test("an endpoint's next events are claimed together and delivered in order in one claim; a failure stops the claim there", arguments: StoreBackend.all)
    func batches(backend: StoreBackend) async throws {
        let (service, clock) = try await Self.service(backend, activations: 3)
        let receiver = Receiver()
        let store = service.services.store
        let expected = try await store.events(after: 0, limit: 1000, dealer: nil)
        try await Application(router: receiver.router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            let port = try #require(client.port)
            let ok = try await store.createWebhook(url: "http://127.0.0.1:\(port)/ok", types: [], secret: receiver.secret, actor: "test", at: TestService.now)
            _ = try await store.rewindWebhook(ok.id, after: 0, actor: "test", at: TestService.now)
            let policy = WebhookPolicy(timeout: .seconds(2), allowPrivate: true)
            try await Self.drive(service, clock, policy: policy, idle: 1, steps: 1) { false }
            #expect(receiver.got("ok").map(\.id) == expected.map(\.id), "every event in one claim, in order")
            let log = try await store.deliveries(of: ok.id, limit: 1000)
            #expect(log.count == expected.count && log.allSatisfy { $0.status == .delivered && $0.attempts == 1 })
            #expect(try await store.webhook(ok.id)?.position == expected.last?.seq)
            #expect(try await store.claimWebhook(owner: "test", nowMs: TestService.now * 1000 + 10_000, leaseMs: 1000, limit: 10) == nil, "nothing left")
            let metrics = String(decoding: service.services.metrics.render(), as: UTF8.self)
            func value(_ series: String) -> Double? {
                metrics.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
            }
            #expect(value("fod_webhook_attempts_total{result=\"delivered\"}") == Double(expected.count), "\(metrics.split(separator: "\n").filter { $0.contains("webhook") })")
            #expect(value("fod_webhook_lag_seconds{endpoint=\"\(ok.id)\"}") == 0, "caught up")

            // A batch of 2 to a receiver that fails: the first is attempted, the second waits.
            let down = try await store.createWebhook(url: "http://127.0.0.1:\(port)/down", types: [], secret: receiver.secret, actor: "test", at: TestService.now)
            _ = try await store.rewindWebhook(down.id, after: 0, actor: "test", at: TestService.now)
            try await Self.drive(service, clock, policy: policy, idle: 1, steps: 1, batch: 2) { false }
            #expect(receiver.got("down").map(\.id) == [expected[0].id])
            #expect(try await store.deliveries(of: down.id, limit: 10).map(\.seq) == [expected[0].seq])
        }
    }

    @Test("an attempt to a receiver that does not answer is cut off by the timeout and retried")
    func timeout() async throws {
        let (service, clock) = try await Self.service(.sqlite, activations: 1)
        let receiver = Receiver()
        let store = service.services.store
        try await Application(router: receiver.router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            let port = try #require(client.port)
            let hang = try await store.createWebhook(url: "http://127.0.0.1:\(port)/hang", types: [], secret: receiver.secret, actor: "test", at: TestService.now)
            _ = try await store.rewindWebhook(hang.id, after: 0, actor: "test", at: TestService.now)
            try await Self.drive(service, clock, policy: WebhookPolicy(timeout: .milliseconds(300), allowPrivate: true), idle: 1, steps: 1) { false }
            let log = try await store.deliveries(of: hang.id, limit: 10)
            // Cut off before the receiver answers (after 2 s it would have answered 204 and the delivery
            // would be done): no status, a timeout. Not a wall-clock bound, which a loaded machine broke
            // once (2.58 s for the step, the cut-off itself correct).
            #expect(log.count == 1 && log[0].status == .retrying && log[0].lastStatus == nil, "\(log)")
            #expect(log[0].lastError?.hasPrefix("timed out") == true, "\(log[0].lastError ?? "")")
            let endpoint = try #require(try await store.webhook(hang.id))
            #expect(endpoint.nextAttemptMs > TestService.now * 1000, "the retry is scheduled later")
        }
    }

    @Test("the connection goes to the address the check resolved (pinned), not to a second look-up of the name")
    func pinnedAddress() async throws {
        let (service, clock) = try await Self.service(.sqlite, activations: 1)
        let receiver = Receiver()
        let store = service.services.store
        try await Application(router: receiver.router, configuration: .init(address: .hostname("127.0.0.1", port: 0))).test(.live) { client in
            let port = try #require(client.port)
            // hooks.invalid resolves nowhere (RFC 6761) but through the policy's resolver: only a
            // connection pinned to what the check resolved reaches the receiver.
            let endpoint = try await store.createWebhook(url: "http://hooks.invalid:\(port)/ok", types: [], secret: receiver.secret, actor: "test", at: TestService.now)
            _ = try await store.rewindWebhook(endpoint.id, after: 0, actor: "test", at: TestService.now)
            let resolved = Mutex<[String]>([])
            let policy = WebhookPolicy(timeout: .seconds(2), allowPrivate: true, resolve: { name in
                resolved.withLock { $0.append(name) }
                return name == "hooks.invalid" ? ["127.0.0.1"] : []
            })
            try await Self.drive(service, clock, policy: policy, idle: 1, steps: 1) { false }
            let log = try await store.deliveries(of: endpoint.id, limit: 10)
            #expect(!log.isEmpty && log.allSatisfy { $0.status == .delivered }, "\(log)")
            #expect(receiver.got("ok").count == log.count && resolved.withLock { $0 } == ["hooks.invalid"], "one look-up for the claim")

            // Not allowed: the same resolution is refused before any connection.
            let strict = WebhookPolicy(timeout: .seconds(2), resolve: { _ in ["127.0.0.1"] })
            _ = try await store.rewindWebhook(endpoint.id, after: 0, actor: "test", at: TestService.now)
            let before = receiver.got("ok").count
            try await Self.drive(service, clock, policy: strict, idle: 1, steps: 1) { false }
            #expect(receiver.got("ok").count == before)
            #expect(try await store.deliveries(of: endpoint.id, limit: 10).contains { $0.lastError?.contains("resolves to an address that is not public") == true })
        }
    }

    @Test("a URL that resolves to a private address is not delivered to unless allowed; the attempt says why")
    func privateRefusedAtDelivery() async throws {
        let (service, clock) = try await Self.service(.sqlite, activations: 1)
        let store = service.services.store
        let endpoint = try await store.createWebhook(url: "http://localhost:9/hook", types: [], secret: WebhookSignature.newSecret(), actor: "test", at: TestService.now)
        _ = try await store.rewindWebhook(endpoint.id, after: 0, actor: "test", at: TestService.now)
        try await Self.drive(service, clock, policy: WebhookPolicy(timeout: .seconds(1)), idle: 1, steps: 1) { false }
        let log = try await store.deliveries(of: endpoint.id, limit: 10)
        #expect(log.count == 1 && log[0].status == .retrying && log[0].lastError?.contains("resolves to an address that is not public") == true, "\(log)")
    }
}
