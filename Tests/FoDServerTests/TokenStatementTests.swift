import FoDAPI
import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDServer
import FoDStore
import FoDTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// A closed period's statement signed with an Ed25519 key held in a SoftHSM token (issue 36).
@Suite("Statements signed in a PKCS#11 token", .serialized,
       .enabled(if: SoftHSMToken.installed || ProcessInfo.processInfo.environment["FOD_TEST_REQUIRE_SOFTHSM"] == "1",
                "needs softhsm2 (Debian); CI sets FOD_TEST_REQUIRE_SOFTHSM=1, which turns its absence into a failure"))
struct TokenStatementTests {
    @Test("a month closed by a service whose key is an Ed25519 key in the token: the signed statement verifies with the published keys, and fails once changed")
    func statementSignedInToken() async throws {
        let setup = try SoftHSMToken.setup.get()
        let key = try PrivateKey(pkcs11: try PKCS11URI("pkcs11:token=fod-ed25519;object=ed?module-path=\(setup.module)&pin-value=\(SoftHSMToken.pin)"),
                                 environment: [:])
        #expect(key.algorithm == .edDSA)
        let clock = SettableClock(TestService.now)
        let service = try await TestService(.sqlite, clock: clock, signing: SigningKeys(key: key, issuer: try IssuerID("https://fod.test"), clock: clock))
        try await service.app.test(.router) { client in
            _ = try await NetworkTests.sell(client, service.dealer1, vin: "WAUZZZF45RA000001", feature: "NAV_PLUS", order: "ed-1")
            clock.set(1_796_083_200 + 60)  // 2026-12-01T00:01Z
            _ = try await PeriodCloseTests.close(client, service.auditor, "2026-11")
            let signed = try JSONSerialization.jsonObject(with: Data(try await PeriodCloseTests.get(client, service.auditor, "/v1/periods/2026-11/statement").utf8))
                as? [String: Any] ?? [:]
            let text = signed["statement"] as? String ?? "", signature = signed["signature"] as? String ?? ""
            _ = try DetachedJWS.verify(signature, payload: Array(text.utf8), keys: service.services.keys)
            let header = try #require(signature.split(separator: ".", omittingEmptySubsequences: false).first)
            #expect(String(decoding: try Base64URL.decode(String(header)), as: UTF8.self).contains("\"EdDSA\""))
            let tampered = text.replacingOccurrences(of: "DE-10001", with: "DE-10009")
            #expect(tampered != text)
            #expect(throws: EntitlementError.self) { try DetachedJWS.verify(signature, payload: Array(tampered.utf8), keys: service.services.keys) }
        }
    }
}
