import Foundation
import FoDCrypto
import FoDTestSupport
import Testing

@Suite("RFC 8032 Ed25519 vectors")
struct RFC8032Tests {
    struct Vector: CustomTestStringConvertible, Sendable {
        let name, secretKey, publicKey, message, signature: String
        var testDescription: String { name }
    }

    static let vectors: [Vector] = {
        let url = TestPaths.vectors.appendingPathComponent("rfc8032-ed25519.json")
        let list = (try? TestPaths.json(url) as? [[String: String]]) ?? []
        return list.map { Vector(name: $0["name"] ?? "", secretKey: $0["secretKey"] ?? "", publicKey: $0["publicKey"] ?? "",
                                 message: $0["message"] ?? "", signature: $0["signature"] ?? "") }
    }()

    @Test("the file has its five vectors")
    func count() {
        #expect(Self.vectors.count == 5)
        #expect(Self.vectors.map(\.name).contains("RFC 8032 7.1 TEST 1"))
    }

    @Test("signing reproduces the RFC's signature and the public key", arguments: vectors)
    func reproduce(vector: Vector) throws {
        let seed = try #require(Hex.decode(vector.secretKey))
        let publicKey = try #require(Hex.decode(vector.publicKey))
        let message = try #require(Hex.decode(vector.message))
        let key = try PrivateKey(jwk: JWK(kty: "OKP", crv: "Ed25519", x: Base64URL.encode(publicKey), d: Base64URL.encode(seed)))
        #expect(key.algorithm == .edDSA)
        #expect(try key.publicKey.jwk().x == Base64URL.encode(publicKey))
        let signature = try key.signature(for: message)
        #expect(Hex.encode(signature) == vector.signature)
        try key.publicKey.verify(signature: signature, for: message)
        var tampered = signature
        tampered[0] ^= 1
        #expect(throws: CryptoError(.signatureInvalid, "")) { try key.publicKey.verify(signature: tampered, for: message) }
    }

    @Test("a JWK whose d does not belong to its x is refused")
    func mismatchedJWK() throws {
        let first = Self.vectors[0], second = Self.vectors[1]
        let jwk = JWK(kty: "OKP", crv: "Ed25519", x: Base64URL.encode(Hex.decode(second.publicKey)!),
                      d: Base64URL.encode(Hex.decode(first.secretKey)!))
        #expect(throws: CryptoError(.keyMismatch, "")) { try PrivateKey(jwk: jwk) }
    }
}
