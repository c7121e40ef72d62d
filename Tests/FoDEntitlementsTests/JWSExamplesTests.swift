import Foundation
import FoDCrypto
import FoDEntitlements
import FoDTestSupport
import Testing

@Suite("RFC 7515 A.3 and RFC 8037 A.4/A.5 JWS examples")
struct JWSExamplesTests {
    struct Example: Sendable, CustomTestStringConvertible {
        let name, compact, payloadText: String
        let jwk: [String: String]
        let deterministic: Bool
        var testDescription: String { String(name.prefix(30)) }
    }

    static let examples: [Example] = {
        let url = TestPaths.vectors.appendingPathComponent("jws-examples.json")
        let list = (try? TestPaths.json(url) as? [[String: Any]]) ?? []
        return list.map {
            Example(name: $0["name"] as? String ?? "", compact: $0["compact"] as? String ?? "",
                    payloadText: $0["payloadText"] as? String ?? "", jwk: $0["jwk"] as? [String: String] ?? [:],
                    deterministic: $0["deterministic"] as? Bool ?? false)
        }
    }()

    static func jwk(_ members: [String: String]) -> JWK {
        JWK(kty: members["kty"] ?? "", crv: members["crv"] ?? "", x: members["x"] ?? "", y: members["y"], d: members["d"])
    }

    @Test("the file has its three examples")
    func count() { #expect(Self.examples.count == 3) }

    @Test("each example verifies at the JWS layer and yields its payload", arguments: examples)
    func verifies(example: Example) throws {
        let key = try PublicKey(jwk: Self.jwk(example.jwk))
        let verifier = Verifier(keys: KeySet(publicKeys: [key]), issuer: try IssuerID("unused"))
        let (header, payload) = try verifier.verifyJWS(example.compact)
        #expect(payload == Array(example.payloadText.utf8))
        #expect(header.keyID == nil)
        // The same example fails once one bit of the payload changes.
        var parts = example.compact.split(separator: ".").map(String.init)
        var bytes = try Base64URL.decode(parts[1])
        bytes[0] ^= 1
        parts[1] = Base64URL.encode(bytes)
        #expect(throws: EntitlementError(.signatureInvalid, "")) { try verifier.verifyJWS(parts.joined(separator: ".")) }
    }

    @Test("signing with the private JWK reproduces Ed25519 exactly and gives a verifying ES256 signature", arguments: examples.filter { $0.jwk["d"] != nil })
    func resigns(example: Example) throws {
        let key = try PrivateKey(jwk: Self.jwk(example.jwk))
        let parts = example.compact.split(separator: ".").map(String.init)
        let input = Array("\(parts[0]).\(parts[1])".utf8)
        let signature = try key.signature(for: input)
        if example.deterministic {
            #expect(Base64URL.encode(signature) == parts[2])
        } else {
            try key.publicKey.verify(signature: signature, for: input)
        }
    }

    @Test("without jws-only relaxations the RFC examples are refused: no kid, no typ")
    func strictModeRefuses() throws {
        let example = Self.examples[0]
        let key = try PublicKey(jwk: Self.jwk(example.jwk))
        let verifier = Verifier(keys: KeySet(publicKeys: [key]), issuer: try IssuerID("joe"))
        #expect(throws: EntitlementError(.typMismatch, "")) { try verifier.verifyEntitlement(example.compact) }
    }
}
