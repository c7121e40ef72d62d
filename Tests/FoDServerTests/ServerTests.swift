import FoDCrypto
import FoDEntitlements
import FoDInvoicing
import FoDRevenue
import FoDServer
import FoDStore
import FoDTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

/// A service over a real store — an SQLite file in a temporary folder, or a PostgreSQL schema —
/// with the demo fixtures.
struct TestService {
    let services: FoDServices
    let admin: String
    let issuer: String
    let auditor: String
    let dealer1: String
    let dealer2: String
    let folder: URL
    /// The database under the service.
    let database: TestDatabase
    static let now: Int64 = 1_795_000_000

    init(_ backend: StoreBackend = .sqlite, manifestLifetime: Int64 = 7 * 86_400, clock: (any WallClock)? = nil, signing: SigningKeys? = nil,
         trialsPerFeature: Int = 1, schema: String? = nil, fourEyesOnly: Bool = false) async throws {
        folder = try TestPaths.temporaryDirectory()
        self.database = try await backend.makeDatabase(folder: folder, schema: schema)
        let database = self.database.store
        let fixtures = TestPaths.file("fixtures")
        try await database.importFixtures(dealers: String(contentsOf: fixtures.appendingPathComponent("dealers.json"), encoding: .utf8),
                                    vehicles: String(contentsOf: fixtures.appendingPathComponent("vehicles.json"), encoding: .utf8),
                                    catalog: String(contentsOf: fixtures.appendingPathComponent("catalog.json"), encoding: .utf8),
                                    actor: "test", at: TestService.now)
        let key = try PrivateKey.generate(.es256)
        let clock = clock ?? FixedClock(unixSeconds: TestService.now)
        services = try await FoDServices(store: database, signing: signing ?? SigningKeys(key: key, issuer: try IssuerID("https://fod.test"), clock: clock),
                               catalog: try await database.catalog(),
                               rules: try RuleSet(json: String(contentsOf: fixtures.appendingPathComponent("revenue/rules.json"), encoding: .utf8)),
                               clock: clock, manifestLifetime: manifestLifetime, trialsPerFeature: trialsPerFeature,
                               issuerProfile: try IssuerProfile(json: Array(try Data(contentsOf: fixtures.appendingPathComponent("revenue/issuer.json")))),
                               fourEyesOnly: fourEyesOnly)
        admin = try await database.createAPIKey(role: .admin, dealer: nil, label: "a", actor: "test", at: TestService.now).secret
        issuer = try await database.createAPIKey(role: .issuer, dealer: nil, label: "i", actor: "test", at: TestService.now).secret
        auditor = try await database.createAPIKey(role: .auditor, dealer: nil, label: "u", actor: "test", at: TestService.now).secret
        dealer1 = try await database.createAPIKey(role: .dealer, dealer: try DealerID("DE-10001"), label: "d1", actor: "test", at: TestService.now).secret
        dealer2 = try await database.createAPIKey(role: .dealer, dealer: try DealerID("DE-10002"), label: "d2", actor: "test", at: TestService.now).secret
    }

    var app: some ApplicationProtocol { Application(responder: try! buildResponder(services: services)) }
}

func headers(_ key: String?, idempotency: String? = nil) -> HTTPFields {
    var fields = HTTPFields()
    if let key { fields[.authorization] = "Bearer \(key)" }
    if let idempotency { fields[HTTPField.Name("Idempotency-Key")!] = idempotency }
    fields[.contentType] = "application/json"
    return fields
}

func json(_ response: TestResponse) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any] ?? [:]
}

func body(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

@Suite("Service through the real router and a real SQLite file")
struct ServerTests {
    static let activation = #"{"vin":"WAUZZZF45RA000001","feature":"NAV_PLUS","term":"P1Y"}"#

    @Test("health, readiness and the published keys need no key; the JWKS verifies issued tokens", arguments: StoreBackend.all)
    func publicEndpoints(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response async throws in #expect(response.status == .ok) }
            try await client.execute(uri: "/readyz", method: .get) { response async throws in #expect(response.status == .ok) }
            try await client.execute(uri: "/.well-known/jwks.json", method: .get) { response async throws in
                #expect(response.status == .ok)
                let keys = try KeySet(jwksJSON: String(buffer: response.body))
                let kid = try service.services.signer(.entitlement).keyID
                #expect(keys.count == 1 && keys.key(id: kid) != nil)
            }
        }
    }

    @Test("POST /v1/time needs no key and answers a signed time for the nonce, which a vehicle's clock takes; a bad nonce is 422")
    func attestedTime() async throws {
        let service = try await TestService(.sqlite)
        let nonce = "n0nce-0123456789abcdef"
        let token = try await service.app.test(.router) { client in
            let plain: HTTPFields = [.contentType: "application/json"]
            let token = try await client.execute(uri: "/v1/time", method: .post, headers: plain, body: body(#"{"nonce":"\#(nonce)"}"#)) { response async throws in
                #expect(response.status == .ok)
                return try json(response)["token"] as? String ?? ""
            }
            try await client.execute(uri: "/v1/time", method: .post, headers: plain, body: body(#"{"nonce":"short"}"#)) { response async throws in
                #expect(response.status == .unprocessableContent)
                #expect(try json(response)["code"] as? String == "nonce_invalid")
            }
            try await client.execute(uri: "/v1/time", method: .post, headers: plain, body: body(#"{"nonce":"\#(nonce)","time":1}"#)) { response async throws in
                #expect(response.status == .unprocessableContent, "no other member")
            }
            return token
        }
        let verifier = Verifier(keys: service.services.keys, issuer: service.services.signing.issuerID, clock: service.services.clock)
        let now = service.services.clock.unixSeconds()
        #expect(try verifier.verifyTime(token, nonce: nonce).time == now)
        #expect(throws: EntitlementError(.timeNonceMismatch, "")) { try verifier.verifyTime(token, nonce: "another-nonce-0123456789") }
        let clock = AttestedTime(initial: now - 86_400, offlineGrace: 3600)
        #expect(try clock.accept(token, nonce: nonce, verifier: verifier) == now && clock.unixSeconds() == now)
    }

    @Test("/metrics renders Prometheus text with fod's counters", arguments: StoreBackend.all)
    func metrics(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "x"), body: body(Self.activation)) { response async throws in
                #expect(response.status == .created)
            }
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "x"), body: body(Self.activation)) { response async throws in
                #expect(response.status == .created)
            }
            try await client.execute(uri: "/metrics", method: .get) { response async throws in
                #expect(response.status == .unauthorized, "metrics need a key")
            }
            try await client.execute(uri: "/metrics", method: .get, headers: headers(service.dealer1)) { response async throws in
                #expect(response.status == .forbidden, "a dealer key does not read the service's metrics")
            }
            try await client.execute(uri: "/metrics", method: .get, headers: headers(service.auditor)) { response async throws in
                let text = String(buffer: response.body)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                #expect(text.contains("fod_activations_total 1"))
                #expect(text.contains("fod_idempotent_replays_total 1"))
                #expect(text.contains(#"fod_http_requests_total{route="/v1/activations",method="POST",status="201"} 2"#), "\(text)")
                #expect(text.contains(#"fod_http_request_duration_seconds_count{route="/v1/activations",method="POST",status="201"} 2"#))
                // Two group commits: the activation's, and its replay's (an order that can still be
                // booked is replayed from the key read under the write lock); build and process figures.
                #expect(text.contains("fod_database_commit_duration_seconds_count 2"), "\(text)")
                #expect(text.contains("fod_database_commit_failures_total 0"))
                #expect(text.contains(#"fod_build_info{version="0.1.0""#))
                #expect(text.contains("fod_refunds_total 0") && text.contains("fod_revocations_total 0"))
                for name in ["process_resident_memory_bytes", "process_cpu_seconds_total", "process_open_fds", "process_start_time_seconds"] {
                    let value = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
                    #expect((value ?? 0) > 0, "\(name): \(String(describing: value))")
                }
            }
        }
    }

    @Test("a body over 64 KiB is refused with 413 and a code", arguments: StoreBackend.all)
    func bodyLimit(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            let big = #"{"token":""# + String(repeating: "a", count: 70_000) + #""}"#
            try await client.execute(uri: "/v1/verify", method: .post, headers: headers(service.auditor), body: body(big)) { response async throws in
                #expect(response.status == .contentTooLarge)
                #expect(try json(response)["code"] as? String == "body_too_large")
            }
        }
    }

    @Test("missing or wrong key: 401 problem+json, never a 500", arguments: StoreBackend.all)
    func unauthenticated(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            for key in [nil, "wrong", "fod_x_y"] as [String?] {
                try await client.execute(uri: "/v1/vehicles/WAUZZZF45RA000001", method: .get, headers: headers(key)) { response async throws in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.contentType] == "application/problem+json")
                    #expect(try json(response)["code"] as? String == "unauthorized")
                }
            }
        }
    }

    @Test("role boundaries: issuers and auditors cannot activate; auditors cannot see offers", arguments: StoreBackend.all)
    func roles(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            for key in [service.issuer, service.auditor] {
                try await client.execute(uri: "/v1/activations", method: .post, headers: headers(key, idempotency: "r1"), body: body(Self.activation)) {
                    #expect($0.status == .forbidden)
                }
            }
            try await client.execute(uri: "/v1/vehicles/WAUZZZF45RA000001/offers", method: .get, headers: headers(service.auditor)) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.admin, idempotency: "r1"), body: body(Self.activation)) {
                #expect($0.status == .forbidden, "an admin key has no dealer to credit")
            }
        }
        #expect(try await service.services.store.activationCount() == 0)
    }

    @Test("an activation is credited to the caller's dealer; a retry returns the first response; the same key with another body is 422", arguments: StoreBackend.all)
    func idempotentActivation(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            var first: [String: Any] = [:]
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "k-1"), body: body(Self.activation)) { response async throws in
                #expect(response.status == .created)
                first = try json(response)
                #expect(first["dealer"] as? String == "DE-10001")
                let claims = try await service.services.verifyEntitlement(first["token"] as? String ?? "", vin: try VIN("WAUZZZF45RA000001"))
                #expect(claims.dealer?.value == "DE-10001" && claims.feature.value == "NAV_PLUS")
            }
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "k-1"), body: body(Self.activation)) { response async throws in
                #expect(response.status == .created)
                #expect(response.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
                #expect(try json(response)["id"] as? String == first["id"] as? String)
            }
            let other = #"{"vin":"WAUZZZF45RA000001","feature":"ACC","term":"P1M"}"#
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "k-1"), body: body(other)) { response async throws in
                #expect(response.status == .unprocessableContent)
                #expect(try json(response)["code"] as? String == "idempotency_key_reused")
            }
            // The same feature again under a new key: already active, 409.
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer2, idempotency: "k-2"), body: body(Self.activation)) { response async throws in
                #expect(response.status == .conflict)
                #expect(try json(response)["code"] as? String == "already_active")
            }
        }
        #expect(try await service.services.store.activationCount() == 1)
        #expect(try await service.services.store.verifyAudit() >= 7)
    }

    @Test("eligibility refusals name the rule in words a salesperson can read", arguments: StoreBackend.all)
    func refusals(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            let matrix = #"{"vin":"WAUZZZFY7P2000002","feature":"MATRIX_LED","term":"P1Y"}"#
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "e1"), body: body(matrix)) { response async throws in
                #expect(response.status == .unprocessableContent)
                let problem = try json(response)
                #expect(problem["code"] as? String == "not_eligible")
                #expect((problem["detail"] as? String)?.contains("equipment code 8G4") == true)
            }
            try await client.execute(uri: "/v1/vehicles/WAUZZZFY7P2000002/offers", method: .get, headers: headers(service.dealer1)) { response async throws in
                let offers = try json(response)["offers"] as? [[String: Any]] ?? []
                let nav = offers.first { $0["feature"] as? String == "NAV_PLUS" }
                #expect(nav?["bookable"] as? Bool == true)
                // A Q5 of 2023: MORE_POWER (A6/Q5 from 2023) can be booked.
                let power = offers.first { $0["feature"] as? String == "MORE_POWER" }
                #expect(power?["bookable"] as? Bool == true)
            }
            // An A4 of 2019: Matrix LED needs model year 2021 or later.
            try await client.execute(uri: "/v1/vehicles/VF1LM1B0H36666155/offers", method: .get, headers: headers(service.dealer1)) { response async throws in
                let offers = try json(response)["offers"] as? [[String: Any]] ?? []
                let matrix = offers.first { $0["feature"] as? String == "MATRIX_LED" }
                #expect(matrix?["bookable"] as? Bool == false)
                #expect((matrix?["refusal"] as? [String: Any])?["rule"] as? String == "model_year")
            }
            // A malformed VIN is 422 vin_malformed in a path as in a body (one code, one status).
            try await client.execute(uri: "/v1/vehicles/WVWZZZ1KZAW394821X/offers", method: .get, headers: headers(service.dealer1)) {
                #expect($0.status == .unprocessableContent)
            }
            try await client.execute(uri: "/v1/vehicles/WAUZZZF45RA999999/offers", method: .get, headers: headers(service.dealer1)) { response async throws in
                #expect(response.status == .notFound)
                #expect((try json(response)["detail"] as? String)?.hasPrefix("This VIN is not registered") == true)
            }
        }
    }

    @Test("malformed requests get 400/422 with a code, never 500", arguments: [
        ("not json", 400, "body_malformed"), ("[1]", 400, "body_malformed"), (#"{"vin":"WAUZZZF45RA000001"}"#, 422, "field_missing"),
        (#"{"vin":"WAUZZZF45RA000001","feature":"NAV_PLUS","term":"P1Y","dealer":"DE-10002"}"#, 422, "field_unknown"),
        (#"{"vin":1,"feature":"NAV_PLUS","term":"P1Y"}"#, 422, "field_type"),
        (#"{"vin":"nope","feature":"NAV_PLUS","term":"P1Y"}"#, 422, "vin_malformed"),
        (#"{"vin":"WAUZZZF45RA000001","feature":"nav","term":"P1Y"}"#, 422, "feature_invalid"),
        (#"{"vin":"WAUZZZF45RA000001","feature":"NAV_PLUS","term":"forever"}"#, 422, "term_invalid"),
        (#"{"vin":"WAUZZZF45RA000001","feature":"NAV_PLUS","term":"permanent"}"#, 422, "term_not_offered"),
        (#"{"vin":"WAUZZZF45RA000001","feature":"TELEPORT","term":"P1Y"}"#, 404, "feature_unknown"),
    ])
    func malformed(text: String, status: Int, code: String) async throws {
        let service = try await TestService()
        try await service.app.test(.router) { client in
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "m"), body: body(text)) { response async throws in
                #expect(response.status.code == status)
                #expect(try json(response)["code"] as? String == code)
            }
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1), body: body(Self.activation)) { response async throws in
                #expect(response.status == .badRequest)
                #expect(try json(response)["code"] as? String == "idempotency_key_required")
            }
        }
        #expect(try await service.services.store.activationCount() == 0)
    }

    @Test("POST /v1/verify answers the claims or the verification code", arguments: StoreBackend.all)
    func verify(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        let issued = try service.services.signer(.entitlement).issue(EntitlementRequest(vin: try VIN("WAUZZZF45RA000001"), feature: try FeatureCode("ACC"), term: .oneMonth))
        try await service.app.test(.router) { client in
            try await client.execute(uri: "/v1/verify", method: .post, headers: headers(service.auditor), body: body(#"{"token":"\#(issued.token)"}"#)) { response async throws in
                #expect(response.status == .ok)
                #expect(try json(response)["valid"] as? Bool == true)
            }
            try await client.execute(uri: "/v1/verify", method: .post, headers: headers(service.auditor),
                                     body: body(#"{"token":"\#(issued.token)","vin":"WVWZZZ1KZAW394821"}"#)) { response async throws in
                #expect(response.status == .unprocessableContent)
                #expect(try json(response)["code"] as? String == "vin_mismatch")
            }
            try await client.execute(uri: "/v1/verify", method: .post, headers: headers(service.auditor), body: body(#"{"token":"a.b"}"#)) { response async throws in
                #expect(try json(response)["code"] as? String == "token_malformed")
            }
        }
    }

    @Test("the audit log detects a changed or deleted row", arguments: StoreBackend.all)
    func auditTamper(backend: StoreBackend) async throws {
        let service = try await TestService(backend)
        try await service.app.test(.router) { client in
            try await client.execute(uri: "/v1/activations", method: .post, headers: headers(service.dealer1, idempotency: "a"), body: body(Self.activation)) {
                #expect($0.status == .created)
            }
        }
        #expect(try await service.services.store.verifyAudit() > 0)
        let changed = try service.database.execute("UPDATE audit SET details = replace(details, 'gross=14900', 'gross=1') WHERE action = 'activation.create'")
        try #require(changed.status == 0, "\(changed.diagnosis)")
        await #expect(throws: StoreError(.auditBroken, "")) { try await service.database.reopen().verifyAudit() }
    }
}

/// A clock a test sets.
final class SettableClock: WallClock {
    private let seconds: Mutex<Int64>
    init(_ start: Int64) { seconds = Mutex(start) }
    func set(_ value: Int64) { seconds.withLock { $0 = value } }
    func now() -> Date { Date(timeIntervalSince1970: TimeInterval(seconds.withLock { $0 })) }
}
