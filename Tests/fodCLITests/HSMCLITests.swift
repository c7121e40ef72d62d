import FoDCore
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
                "needs softhsm2 (Debian); CI sets FOD_TEST_REQUIRE_SOFTHSM=1, which turns its absence into a failure"))
struct HSMCLITests {
    let setup: SoftHSMToken.Setup
    let uri: String
    let environment: [String: String]
    let verifier: Verifier

    init() throws {
        #expect(SoftHSMToken.installed, "softhsm2 is not installed")
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

    /// The Ed25519 key of the second token.
    var edURI: String { "pkcs11:token=fod-ed25519;object=ed?module-path=\(setup.module)" }

    @Test("fod issue signs with an Ed25519 key in the token; fod's verifier, joserfc and OpenSSL (through cryptography) accept the token")
    func issueEd25519() throws {
        let arguments = ["issue", "--issuer", "https://fod.oem.example", "--vin", "WVWZZZ1KZAW394821", "--feature", "MATRIX_LED", "--term", "P1Y"]
        let issued = try FodCLI.run(arguments + ["--key", edURI], environment: environment)
        #expect(issued.status == 0, "\(issued.stderr)")
        let token = issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let publicKey = try PrivateKey(pkcs11: try PKCS11URI(edURI), environment: environment).publicKey
        #expect(publicKey.algorithm == .edDSA)
        let ed = Verifier(keys: KeySet(publicKeys: [publicKey]), issuer: try IssuerID("https://fod.oem.example"))
        #expect(try ed.verifyEntitlement(token).feature.description == "MATRIX_LED")
        let publicJWK = try publicKey.jwk()
        let jwk = #"{"kty":"\#(publicJWK.kty)","crv":"\#(publicJWK.crv)","x":"\#(publicJWK.x)"}"#
        let checked = try ProcessRunner.run("python3", ["-c", """
            import json, sys
            from joserfc import jws
            from joserfc.jwk import OKPKey
            key = OKPKey.import_key(json.loads(sys.argv[2]))
            decoded = jws.deserialize_compact(sys.argv[1], key, algorithms=["EdDSA"])
            print(json.loads(decoded.payload)["feature"])
            """, token, jwk])
        #expect(checked.status == 0 && checked.stdout.contains("MATRIX_LED"), "\(checked.diagnosis)")
    }

    @Test("an Ed25519 root key in the token signs root metadata (fod trust sign --key pkcs11:…); fod trust verify accepts it")
    func rootSignedInToken() throws {
        let folder = try TestPaths.temporaryDirectory()
        let publicKey = try PrivateKey(pkcs11: try PKCS11URI(edURI), environment: environment).publicKey
        let publicFile = folder.appendingPathComponent("root-ed.public.pem")
        try Data(try publicKey.pem().utf8).write(to: publicFile)
        let issuingFile = folder.appendingPathComponent("issuing.public.pem")
        try Data(try PrivateKey.generate(.es256).publicKey.pem().utf8).write(to: issuingFile)
        let root = folder.appendingPathComponent("root-1.json").path
        let expires = Instant(unixSeconds: Int64(Date().timeIntervalSince1970) + 86_400 * 30).rfc3339
        let made = try FodCLI.run(["trust", "init", "--issuer", "https://fod.oem.example", "--root-key", publicFile.path, "--threshold", "1",
                                   "--issuing-key", issuingFile.path, "--expires", expires, "--out", root])
        #expect(made.status == 0, "\(made.stderr)")
        let unsigned = try FodCLI.run(["trust", "verify", root])
        #expect(unsigned.status != 0, "an unsigned root does not verify")
        let signed = try FodCLI.run(["trust", "sign", root, "--key", edURI], environment: environment)
        #expect(signed.status == 0, "\(signed.stderr)")
        let verified = try FodCLI.run(["trust", "verify", root])
        #expect(verified.status == 0, "\(verified.stderr)")
    }

    @Test("fod serve with --key pkcs11:… publishes the token's key and signs activations, manifests and attested time in the token (ES256 and Ed25519)",
          arguments: ["es256", "ed25519"])
    func serve(algorithm: String) throws {
        let key = algorithm == "es256" ? uri : edURI
        let server = try DealerCLITests.Server(arguments: ["--key", key], environment: environment)
        defer { server.stop() }
        let jwks = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(string: server.url + "/.well-known/jwks.json")!)) as? [String: Any]
        let kids = (jwks?["keys"] as? [[String: Any]])?.compactMap { $0["kid"] as? String }
        let publicKey = try PrivateKey(pkcs11: try PKCS11URI(key), environment: environment).publicKey
        if algorithm == "es256" { #expect(publicKey == (try KeyFile.readPublicKey(at: TestPaths.file("keys/dev-es256.public.pem").path))) }
        #expect(kids == [publicKey.thumbprint])
        let verifier = Verifier(keys: KeySet(publicKeys: [publicKey]), issuer: try IssuerID("https://fod.oem.example"))

        let dealer = try server.key(role: "dealer", dealer: "DE-10001")
        let (status, body) = try Self.post(server.url + "/v1/activations", key: dealer,
                                           body: #"{"vin":"WAUZZZF45RA000001","feature":"NAV_PLUS","term":"P1Y"}"#)
        #expect(status == 201, "\(String(decoding: body, as: UTF8.self))")
        let token = try #require((try JSONSerialization.jsonObject(with: body) as? [String: Any])?["token"] as? String)
        #expect(try verifier.verifyEntitlement(token).vin.value == "WAUZZZF45RA000001")
        let issuer = try server.key(role: "issuer")
        let (manifestStatus, manifestBody) = try ServeStartTests.request(server.url + "/v1/vehicles/WAUZZZF45RA000001/manifest", key: issuer, method: "GET", body: nil,
                                                                         headers: [:])
        #expect(manifestStatus == 200, "\(String(decoding: manifestBody, as: UTF8.self))")
        let manifest = try #require((try JSONSerialization.jsonObject(with: manifestBody) as? [String: Any])?["manifest"] as? String)
        #expect(try verifier.verifyManifest(manifest, vin: try VIN("WAUZZZF45RA000001"), lastAcceptedVersion: nil).entitlements.count == 1)

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
