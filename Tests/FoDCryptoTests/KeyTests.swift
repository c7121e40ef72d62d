import Foundation
import FoDCrypto
import FoDTestSupport
import Testing

@Suite("Keys: generation, PEM, JWK, thumbprints, files")
struct KeyTests {
    @Test("generated keys sign and verify; the other algorithm's key does not verify", arguments: SigningAlgorithm.allCases)
    func signVerify(algorithm: SigningAlgorithm) throws {
        let key = try PrivateKey.generate(algorithm)
        let message = Array("signing input".utf8)
        let signature = try key.signature(for: message)
        #expect(signature.count == 64)
        try key.publicKey.verify(signature: signature, for: message)
        #expect(throws: CryptoError(.signatureInvalid, "")) { try key.publicKey.verify(signature: signature, for: message + [0]) }
        let other = try PrivateKey.generate(algorithm)
        #expect(throws: CryptoError(.signatureInvalid, "")) { try other.publicKey.verify(signature: signature, for: message) }
        #expect(throws: CryptoError(.signatureMalformed, "")) { try key.publicKey.verify(signature: Array(signature.prefix(63)), for: message) }
    }

    @Test("PEM and JWK round trips keep the key and its kid", arguments: SigningAlgorithm.allCases)
    func roundTrips(algorithm: SigningAlgorithm) throws {
        let key = try PrivateKey.generate(algorithm)
        let pem = try key.pkcs8PEM()
        #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        let reloaded = try PrivateKey(pem: pem)
        #expect(reloaded.keyID == key.keyID)
        let publicPEM = try key.publicKey.pem()
        #expect(publicPEM.hasPrefix("-----BEGIN PUBLIC KEY-----"))
        #expect(try PublicKey(pem: publicPEM) == key.publicKey)
        let jwk = try key.privateJWK()
        #expect(jwk.kid == key.keyID && jwk.alg == algorithm.jwsName && jwk.use == "sig")
        let fromJWK = try PrivateKey(jwk: jwk)
        let message = Array("m".utf8)
        try key.publicKey.verify(signature: try fromJWK.signature(for: message), for: message)
        #expect(try PublicKey(jwk: key.publicKey.jwk()) == key.publicKey)
        #expect(!String(describing: key).contains(jwk.d!), "description must not reveal the private key")
    }

    @Test("RFC 8037 A.3: the thumbprint of the A.2 Ed25519 key")
    func rfc8037Thumbprint() throws {
        let jwk = JWK(kty: "OKP", crv: "Ed25519", x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
        #expect(jwk.thumbprint == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")
        #expect(try PublicKey(jwk: jwk).thumbprint == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")
    }

    @Test("JWK import refuses points off the curve, wrong sizes, wrong alg and foreign key types")
    func badJWKs() throws {
        let good = try PrivateKey.generate(.es256).publicKey.jwk()
        var offCurve = good
        var y = try Base64URL.decode(good.y!)
        y[31] ^= 1
        offCurve.y = Base64URL.encode(y)
        #expect(throws: CryptoError.self) { try PublicKey(jwk: offCurve) }
        var short = good
        short.x = Base64URL.encode([UInt8](repeating: 1, count: 31))
        #expect(throws: CryptoError(.jwkMalformed, "")) { try PublicKey(jwk: short) }
        var wrongAlg = good
        wrongAlg.alg = "EdDSA"
        #expect(throws: CryptoError(.jwkMalformed, "")) { try PublicKey(jwk: wrongAlg) }
        #expect(throws: CryptoError(.keyUnsupported, "")) { try PublicKey(jwk: JWK(kty: "RSA", crv: "", x: "AQAB")) }
        #expect(throws: CryptoError(.keyUnsupported, "")) { try PublicKey(jwk: JWK(kty: "EC", crv: "P-384", x: good.x, y: good.y)) }
    }

    @Test("PEM of other key types and garbage are refused with a typed error")
    func badPEM() throws {
        #expect(throws: CryptoError(.keyMalformed, "")) { try PublicKey(pem: "not a key") }
        #expect(throws: CryptoError(.keyMalformed, "")) { try PrivateKey(pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n") }
        let tmp = try TestPaths.temporaryDirectory()
        let path = tmp.appendingPathComponent("p384.pem").path
        let made = try ProcessRunner.run("openssl", ["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384", "-out", path])
        try #require(made.status == 0, "openssl genpkey failed: \(made.diagnosis)")
        #expect(throws: CryptoError(.keyUnsupported, "")) { try PrivateKey(pem: String(contentsOfFile: path, encoding: .utf8)) }
    }

    @Test("private key files are written 0600 and refused when group or others can read them")
    func keyFiles() throws {
        let dir = try TestPaths.temporaryDirectory()
        let key = try PrivateKey.generate(.es256)
        let path = dir.appendingPathComponent("k.private.pem").path
        try KeyFile.writePrivateKey(key, to: path)
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try KeyFile.readPrivateKey(at: path).keyID == key.keyID)
        #expect(throws: CryptoError(.keyFileIO, "")) { try KeyFile.writePrivateKey(key, to: path) }
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(throws: CryptoError(.keyFilePermissions, "")) { try KeyFile.readPrivateKey(at: path) }
        #expect(throws: CryptoError(.keyFilePermissions, "")) { try KeyFile.readPublicKey(at: path) }
        #expect(throws: CryptoError(.keyFileIO, "")) { try KeyFile.readPrivateKey(at: dir.appendingPathComponent("missing").path) }
    }

    @Test("r‖s ⇄ DER conversion round-trips and rejects bad encodings")
    func ecdsaConversion() throws {
        var raw = [UInt8](repeating: 0, count: 64)
        raw[31] = 1
        raw[32] = 0x80
        let der = try ECDSASignature.der(fromRaw: raw)
        #expect(try ECDSASignature.raw(fromDER: der) == raw)
        #expect(throws: CryptoError(.signatureMalformed, "")) { try ECDSASignature.raw(fromDER: der + [0]) }
        #expect(throws: CryptoError(.signatureMalformed, "")) { try ECDSASignature.der(fromRaw: Array(raw.prefix(63))) }
        #expect(throws: CryptoError(.signatureMalformed, "")) { try ECDSASignature.raw(fromDER: [0x30, 0x00]) }
    }

    @Test("SHA-256 and random bytes")
    func digestAndRandom() {
        #expect(SHA256.hexHash(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SecureRandom.bytes(32).count == 32)
        #expect(SecureRandom.bytes(32) != SecureRandom.bytes(32))
    }
}
