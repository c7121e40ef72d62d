import FoDAPI
import FoDCore
import FoDServer
import FoDStore
import FoDTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The outbox, the event feed, webhook endpoints and their safety checks. Deliveries against a
/// real receiver (checked by the standardwebhooks package) are in scripts/webhooks-e2e.py.
@Suite("Events and webhooks")
struct WebhookTests {
    static func feed(_ client: some TestClientProtocol, _ key: String, after: Int64 = 0, limit: Int = 1000) async throws -> [[String: Any]] {
        try await client.execute(uri: "/v1/events?after=\(after)&limit=\(limit)", method: .get, headers: headers(key)) { response async throws in
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            return try json(response)["events"] as? [[String: Any]] ?? []
        }
    }

    @Test("every change writes its event with the resource's new state, in sequence; a change that fails writes none; a dealer's feed is its own",
          arguments: StoreBackend.all)
    func outbox(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            let activated = try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "o-1"),
                                                     body: body(#"{"vin":"WAUZZZF45RA000001","feature":"NAV_PLUS","term":"P1Y"}"#)) { response async throws in
                #expect(response.status == .created)
                return try json(response)["id"] as? String ?? ""
            }
            // Refused (already active): no event.
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "o-2"),
                                     body: body(#"{"vin":"WAUZZZF45RA000001","feature":"NAV_PLUS","term":"P1Y"}"#)) { response async throws in
                #expect(response.status == .conflict)
            }
            try await client.execute(uri: "/v1/entitlements/\(activated)/revoke", method: .post, headers: headers(service.issuer),
                                     body: body(#"{"reason":"fraud"}"#)) { response async throws in
                #expect(response.status == .ok, "\(String(buffer: response.body))")
            }
            let events = try await Self.feed(client, service.auditor)
            let types = events.map { $0["type"] as? String ?? "" }
            #expect(types.filter { $0 == "activation.created" }.count == 1)
            #expect(types.last == "entitlement.revoked", "\(types)")
            let seqs = events.map { $0["seq"] as? Int ?? 0 }
            #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count)
            let created = try #require(events.first { $0["type"] as? String == "activation.created" })
            #expect(created["id"] as? String == "evt_\(created["seq"] as? Int ?? 0)")
            let data = created["data"] as? [String: Any] ?? [:]
            let entitlement = data["entitlement"] as? [String: Any] ?? [:]
            #expect(entitlement["id"] as? String == activated && entitlement["dealer_id"] as? String == "DE-10001")
            #expect((data["sale"] as? [String: Any])?["gross_minor"] as? Int == 14_900)
            let revoked = (events.last?["data"] as? [String: Any])?["entitlement"] as? [String: Any] ?? [:]
            #expect(revoked["revoke_reason"] as? String == "fraud" && revoked["revoked_at"] is String, "the new state")
            // No token or key in any payload.
            let text = String(decoding: try JSONSerialization.data(withJSONObject: events), as: UTF8.self)
            #expect(!text.contains("eyJ"), "no JWS in the events")

            // Paging by the cursor, and a dealer sees only its own.
            let page = try await Self.feed(client, service.auditor, after: Int64(seqs[0]), limit: 1)
            #expect(page.count == 1 && page[0]["seq"] as? Int == seqs[1])
            let other = try await Self.feed(client, service.dealer2)
            #expect(other.allSatisfy { (($0["data"] as? [String: Any])?["entitlement"] as? [String: Any])?["dealer_id"] as? String == "DE-10002" })
            #expect(try await Self.feed(client, service.dealer1).contains { $0["type"] as? String == "activation.created" })
            try await client.execute(uri: "/v1/events?after=-1", method: .get, headers: headers(service.auditor)) { response async throws in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/v1/events", method: .get, headers: headers(service.issuer)) { response async throws in
                #expect(response.status == .forbidden)
            }
        }
    }

    @Test("webhook endpoints: admin only; the secret is shown once; URLs that reach into the network are refused unless allowed", arguments: StoreBackend.all)
    func endpoints(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            func create(_ text: String, key: String, status: HTTPResponse.Status, code: String? = nil) async throws -> [String: Any] {
                try await client.execute(uri: "/v1/webhooks", method: .post, headers: headers(key), body: body(text)) { response async throws in
                    #expect(response.status == status, "\(text): \(String(buffer: response.body))")
                    let answer = try json(response)
                    if let code { #expect(answer["code"] as? String == code, "\(text)") }
                    return answer
                }
            }
            _ = try await create(#"{"url":"https://93.184.215.14/hook"}"#, key: service.auditor, status: .forbidden)
            for url in ["http://93.184.215.14/hook", "https://127.0.0.1/hook", "https://10.1.2.3/", "https://[::1]/", "https://169.254.169.254/latest",
                        "https://[::ffff:192.168.0.1]/", "https://localhost/", "https://user:pw@93.184.215.14/", "ftp://93.184.215.14/", "not a url"] {
                let answer = try await create(#"{"url":"\#(url)"}"#, key: service.admin, status: .unprocessableContent)
                #expect(["webhook_url_invalid", "webhook_url_private"].contains(answer["code"] as? String ?? ""), "\(url): \(answer)")
            }
            _ = try await create(#"{"url":"https://93.184.215.14/hook","types":["no.such"]}"#, key: service.admin, status: .unprocessableContent, code: "event_type_unknown")
            let made = try await create(#"{"url":"https://93.184.215.14/hook","types":["activation.created","activation.refunded"]}"#,
                                        key: service.admin, status: .created)
            #expect((made["secret"] as? String)?.hasPrefix("whsec_") == true)
            let id = made["id"] as? String ?? ""
            let listed = try await client.execute(uri: "/v1/webhooks", method: .get, headers: headers(service.admin)) { String(buffer: $0.body) }
            #expect(listed.contains(id) && !listed.contains("whsec_"), "the secret is not shown again")
            try await client.execute(uri: "/v1/webhooks/\(id)/replay", method: .post, headers: headers(service.admin), body: body(#"{"after":0}"#)) { response async throws in
                #expect(response.status == .ok)
                #expect(try json(response)["position"] as? Int == 0)
            }
            try await client.execute(uri: "/v1/webhooks/\(id)", method: .delete, headers: headers(service.admin)) { #expect($0.status == .noContent) }
            try await client.execute(uri: "/v1/webhooks/\(id)", method: .delete, headers: headers(service.admin)) { #expect($0.status == .notFound) }
        }
    }

    @Test("the signature is Standard Webhooks' (their published example)")
    func signature() throws {
        let headers = try WebhookSignature.headers(id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: #"{"test": 2432232314}"#,
                                                   secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        #expect(headers.first { $0.0 == "webhook-signature" }?.1 == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    }

    @Test("the retry schedule doubles with jitter, caps at 6 hours, and covers at least 72 hours")
    func schedule() {
        let policy = WebhookPolicy()
        let schedule = policy.schedule
        #expect(schedule.first == .seconds(2) && schedule.max() == .seconds(6 * 3600))
        #expect(schedule.reduce(Duration.zero, +) >= .seconds(72 * 3600))
        for failures in Int64(1)...20 {
            let delay = policy.delay(afterFailures: failures)
            let plain = min(6.0 * 3600, 2 * pow(2, Double(failures - 1)))
            #expect(Double(delay.components.seconds) >= plain * 0.8 - 1 && Double(delay.components.seconds) <= plain * 1.2)
        }
    }
}
