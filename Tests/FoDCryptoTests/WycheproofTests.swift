import Foundation
import FoDCrypto
import FoDTestSupport
import Testing

/// Every case of the three Wycheproof files through fod's OpenSSL wrapper, with case counts
/// asserted so a silently skipped file or group fails.
@Suite("Wycheproof vectors")
struct WycheproofTests {
    struct Tally: Equatable, CustomStringConvertible {
        var total = 0, valid = 0, invalid = 0, mismatches: [String] = []
        var description: String { "total \(total), valid \(valid), invalid \(invalid), mismatches \(mismatches)" }
    }

    /// Runs every test of a Wycheproof file: `verify` throws for a rejected signature.
    static func run(_ file: String, key: (([String: Any]) throws -> PublicKey),
                    verify: (PublicKey, [UInt8], [UInt8]) throws -> Void) throws -> (Tally, declared: Int) {
        let root = try #require(try TestPaths.json(TestPaths.vectors.appendingPathComponent("wycheproof/\(file)")) as? [String: Any])
        let declared = try #require(root["numberOfTests"] as? Int)
        var tally = Tally()
        for group in try #require(root["testGroups"] as? [[String: Any]]) {
            let publicKey = try? key(group)
            for test in try #require(group["tests"] as? [[String: Any]]) {
                let id = test["tcId"] as? Int ?? -1
                let message = try #require(Hex.decode(test["msg"] as? String ?? ""))
                let signature = try #require(Hex.decode(test["sig"] as? String ?? ""))
                let expected = test["result"] as? String
                tally.total += 1
                if expected == "valid" { tally.valid += 1 } else { tally.invalid += 1 }
                var accepted = false
                if let publicKey {
                    do { try verify(publicKey, signature, message); accepted = true } catch let error as CryptoError {
                        #expect(error.code == .signatureInvalid || error.code == .signatureMalformed, "tcId \(id): \(error)")
                    }
                }
                if accepted != (expected == "valid") { tally.mismatches.append("tcId \(id) (\(expected ?? "?"))") }
            }
        }
        return (tally, declared)
    }

    static func spki(_ group: [String: Any]) throws -> PublicKey {
        try PublicKey(spki: try #require(Hex.decode(group["publicKeyDer"] as? String ?? "")))
    }

    @Test("ECDSA P-256 SHA-256, IEEE P1363 (JWS) signatures: 262 cases, 173 valid")
    func p1363() throws {
        let (tally, declared) = try Self.run("ecdsa_secp256r1_sha256_p1363_test.json", key: Self.spki) { key, sig, msg in
            try key.verify(signature: sig, for: msg)
        }
        #expect(declared == 262)
        #expect(tally.total == 262 && tally.valid == 173 && tally.invalid == 89, "\(tally)")
        #expect(tally.mismatches.isEmpty, "\(tally.mismatches)")
    }

    @Test("ECDSA P-256 SHA-256, DER signatures: 484 cases, 174 valid (BER and malformed DER rejected)")
    func der() throws {
        let (tally, declared) = try Self.run("ecdsa_secp256r1_sha256_test.json", key: Self.spki) { key, sig, msg in
            try key.verify(nativeSignature: sig, for: msg)
        }
        #expect(declared == 484)
        #expect(tally.total == 484 && tally.valid == 174 && tally.invalid == 310, "\(tally)")
        #expect(tally.mismatches.isEmpty, "\(tally.mismatches)")
    }

    @Test("Ed25519: 151 cases, 88 valid")
    func ed25519() throws {
        let (tally, declared) = try Self.run("ed25519_test.json", key: Self.spki) { key, sig, msg in
            try key.verify(signature: sig, for: msg)
        }
        #expect(declared == 151)
        #expect(tally.total == 151 && tally.valid == 88 && tally.invalid == 63, "\(tally)")
        #expect(tally.mismatches.isEmpty, "\(tally.mismatches)")
    }

    @Test("Wycheproof JWKs import to the same keys as their DER forms (103 P-256 groups, all Ed25519 groups)")
    func jwkImport() throws {
        var checked = 0
        for (file, expectedGroups) in [("ecdsa_secp256r1_sha256_p1363_test.json", 103), ("ed25519_test.json", -1)] {
            let root = try #require(try TestPaths.json(TestPaths.vectors.appendingPathComponent("wycheproof/\(file)")) as? [String: Any])
            var groupsWithJWK = 0
            for group in try #require(root["testGroups"] as? [[String: Any]]) {
                guard let jwk = group["publicKeyJwk"] as? [String: String] else { continue }
                groupsWithJWK += 1
                let fromJWK = try PublicKey(jwk: JWK(kty: jwk["kty"] ?? "", crv: jwk["crv"] ?? "", x: jwk["x"] ?? "", y: jwk["y"]))
                let fromDER = try Self.spki(group)
                #expect(fromJWK == fromDER)
                #expect(try fromJWK.spki() == fromDER.spki())
                checked += 1
            }
            if expectedGroups >= 0 { #expect(groupsWithJWK == expectedGroups) }
        }
        #expect(checked > 103)
    }
}
