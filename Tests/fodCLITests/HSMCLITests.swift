import Foundation
import FoDCrypto
import FoDEntitlements
import FoDTestSupport
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `--key pkcs11:…` in new processes: `fod issue` and `fod serve` with the key in a SoftHSM token.
@Suite("fod with the key in a PKCS#11 token", .serialized,
       .enabled(if: SoftHSMToken.installed || ProcessInfo.processInfo.environment["FOD_TEST_REQUIRE_SOFTHSM"] == "1",
                "needs softhsm2 and libengine-pkcs11-openssl (Debian); CI sets FOD_TEST_REQUIRE_SOFTHSM=1, which turns their absence into a failure"))
struct HSMCLITests {
    let setup: SoftHSMToken.Setup
    let uri: String
    let environment: [String: String]
    let verifier: Verifier

    init() throws {
        #expect(SoftHSMToken.installed, "softhsm2 or libengine-pkcs11-openssl is not installed")
        setup = try SoftHSMToken.setup.get()
        uri = "pkcs11:token=fod;object=dev-es256?module-path=\(setup.module)"
        environment = ["SOFTHSM2_CONF": setup.configuration, "FOD_PKCS11_PIN": SoftHSMToken.pin]
        let publicKey = try KeyFile.readPublicKey(at: TestPaths.file("keys/dev-es256.public.pem").path)
        verifier = Verifier(keys: KeySet(publicKeys: [publicKey]), issuer: try IssuerID("https://fod.oem.example"))
    }

    @Test("fod issue signs in the token; a wrong PIN fails with pkcs11_key_unavailable and never shows the PIN")
    func issue() throws {
        let arguments = ["issue", "--issuer", "https://fod.oem.example", "--vin", "WVWZZZ1KZAW394821", "--feature", "MATRIX_LED", "--term", "P1Y"]
        let issued = try FodCLI.run(arguments + ["--key", uri], environment: environment)
        #expect(issued.status == 0, "\(issued.stderr)")
        let claims = try verifier.verifyEntitlement(issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        #expect(claims.feature.description == "MATRIX_LED")

        let wrong = try FodCLI.run(arguments + ["--key", uri + "&pin-value=135792468"], environment: ["SOFTHSM2_CONF": setup.configuration])
        #expect(wrong.status == 2)
        #expect(wrong.stderr.contains("pkcs11_key_unavailable"), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains("135792468"), "the PIN must not reach stderr")
        #expect(wrong.stdout.isEmpty)

        let malformed = try FodCLI.run(arguments + ["--key", "pkcs11:token=fod"], environment: environment)
        #expect(malformed.status == 2)
        #expect(malformed.stderr.contains("pkcs11_uri_malformed"), "\(malformed.stderr)")
    }

    @Test("fod serve with --key pkcs11:… publishes the token's key and signs activations and attested time in the token")
    func serve() throws {
        let server = try DealerCLITests.Server(arguments: ["--key", uri], environment: environment)
        defer { server.stop() }
        let jwks = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(string: server.url + "/.well-known/jwks.json")!)) as? [String: Any]
        let kids = (jwks?["keys"] as? [[String: Any]])?.compactMap { $0["kid"] as? String }
        let publicKey = try KeyFile.readPublicKey(at: TestPaths.file("keys/dev-es256.public.pem").path)
        #expect(kids == [publicKey.thumbprint])

        let dealer = try server.key(role: "dealer", dealer: "DE-10001")
        let (status, body) = try Self.post(server.url + "/v1/activations", key: dealer,
                                           body: #"{"vin":"WAUZZZF45RA000001","feature":"NAV_PLUS","term":"P1Y"}"#)
        #expect(status == 201, "\(String(decoding: body, as: UTF8.self))")
        let token = try #require((try JSONSerialization.jsonObject(with: body) as? [String: Any])?["token"] as? String)
        #expect(try verifier.verifyEntitlement(token).vin.value == "WAUZZZF45RA000001")

        let nonce = "hsm-test-nonce-0123456789"
        let (timeStatus, timeBody) = try Self.post(server.url + "/v1/time", key: nil, body: #"{"nonce":"\#(nonce)"}"#)
        #expect(timeStatus == 200, "\(String(decoding: timeBody, as: UTF8.self))")
        let timeToken = try #require((try JSONSerialization.jsonObject(with: timeBody) as? [String: Any])?["token"] as? String)
        #expect(try verifier.verifyTime(timeToken, nonce: nonce).nonce == nonce)
        let log = try String(contentsOf: server.log, encoding: .utf8)
        #expect(!log.contains(SoftHSMToken.pin), "the PIN must not reach the log")
    }

    static func post(_ url: String, key: String?, body: String) throws -> (Int, Data) {
        try ServeStartTests.request(url, key: key, method: "POST", body: body, headers: ["Idempotency-Key": UUID().uuidString])
    }
}
