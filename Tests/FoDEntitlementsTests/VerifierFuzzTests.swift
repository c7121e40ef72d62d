import FoDCore
import FoDCrypto
import FoDEntitlements
import Testing

/// Random and mutated tokens: every one must give a typed error (or, rarely, verify), never crash.
@Suite("Verifier robustness")
struct VerifierFuzzTests {
    /// A small deterministic generator (SplitMix64), so a failure can be replayed.
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ {}\":,\u{0}é".utf8)

    /// Mutates a token at the byte level or at the decoded-JSON level; `signer` re-signs a
    /// mutated payload so that the claim checks behind the signature get fuzzed too.
    static func mutate(_ token: [UInt8], _ rng: inout SplitMix, signer: PrivateKey) -> [UInt8] {
        var bytes = token
        switch rng.next() % 9 {
        case 8:  // mutate the decoded payload and sign it again
            var parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).map(Array.init)
            guard parts.count == 3, var payload = try? Base64URL.decode(String(decoding: parts[1], as: UTF8.self)), !payload.isEmpty else { break }
            for _ in 0..<(1 + rng.next() % 3) {
                payload[Int(rng.next() % UInt64(payload.count))] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
            }
            parts[1] = Base64URL.encodeBytes(payload)
            let input = parts[0] + [UInt8(ascii: ".")] + parts[1]
            guard let signature = try? signer.signature(for: input) else { break }
            bytes = input + [UInt8(ascii: ".")] + Base64URL.encodeBytes(signature)
        case 0:  // flip bits
            for _ in 0..<(1 + rng.next() % 4) where !bytes.isEmpty {
                bytes[Int(rng.next() % UInt64(bytes.count))] ^= UInt8(1 << (rng.next() % 8))
            }
        case 1:  // replace characters from the alphabet
            for _ in 0..<(1 + rng.next() % 6) where !bytes.isEmpty {
                bytes[Int(rng.next() % UInt64(bytes.count))] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
            }
        case 2:  // truncate
            bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count + 1))))
        case 3:  // insert
            let at = Int(rng.next() % UInt64(bytes.count + 1))
            bytes.insert(contentsOf: (0..<(1 + rng.next() % 8)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }, at: at)
        case 4:  // mutate inside a decoded segment and re-encode (reaches the JSON and claim checks)
            var parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).map(Array.init)
            let index = Int(rng.next() % UInt64(max(1, min(parts.count, 2))))
            if index < parts.count, var decoded = try? Base64URL.decode(String(decoding: parts[index], as: UTF8.self)), !decoded.isEmpty {
                for _ in 0..<(1 + rng.next() % 3) {
                    decoded[Int(rng.next() % UInt64(decoded.count))] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                }
                parts[index] = Base64URL.encodeBytes(decoded)
            }
            bytes = Array(parts.joined(separator: [UInt8(ascii: ".")]))
        case 5:  // swap segments
            var parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).map(Array.init)
            if parts.count >= 2 { parts.swapAt(Int(rng.next() % UInt64(parts.count)), Int(rng.next() % UInt64(parts.count))) }
            bytes = Array(parts.joined(separator: [UInt8(ascii: ".")]))
        case 6:  // random bytes
            bytes = (0..<(rng.next() % 600)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        default:  // duplicate a stretch
            if !bytes.isEmpty {
                let start = Int(rng.next() % UInt64(bytes.count))
                let end = min(bytes.count, start + Int(rng.next() % 64))
                bytes.insert(contentsOf: bytes[start..<end], at: start)
            }
        }
        return bytes
    }

    @Test("200,000 random and mutated tokens give typed errors, never a crash")
    func fuzz() async throws {
        let issuerID = try IssuerID("https://fod.oem.example")
        let vin = try VIN("WVWZZZ1KZAW394821")
        var seeds: [([UInt8], PrivateKey)] = []
        var keys: [PublicKey] = []
        for algorithm in SigningAlgorithm.allCases {
            let key = try PrivateKey.generate(algorithm)
            keys.append(key.publicKey)
            let issuer = Issuer(key: key, issuer: issuerID, clock: FixedClock(unixSeconds: 1_795_000_000))
            let issued = try issuer.issue(EntitlementRequest(vin: vin, feature: try FeatureCode("MATRIX_LED"), term: .oneYear, dealer: try DealerID("D1")))
            seeds.append((Array(issued.token.utf8), key))
            let manifest = try issuer.sign(ManifestClaims(issuer: issuerID, vin: vin, issuedAt: 1_795_000_000, version: 3, expiresAt: 1_795_086_400,
                                                          entitlements: [ManifestClaims.Entry(issued.claims)]))
            seeds.append((Array(manifest.utf8), key))
        }
        let verifier = Verifier(keys: KeySet(publicKeys: keys), issuer: issuerID, clock: FixedClock(unixSeconds: 1_795_000_000))
        let corpus = seeds
        let perTask = 50_000
        let tasks = 4
        let results = await withTaskGroup(of: [String: Int].self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var rng = SplitMix(state: UInt64(task) &* 0x1234_5678_9ABC)
                    var codes: [String: Int] = [:]
                    for _ in 0..<perTask {
                        var (token, signer) = corpus[Int(rng.next() % UInt64(corpus.count))]
                        for _ in 0..<(1 + rng.next() % 3) { token = VerifierFuzzTests.mutate(token, &rng, signer: signer) }
                        let text = String(decoding: token, as: UTF8.self)
                        do {
                            switch rng.next() % 3 {
                            case 0: _ = try verifier.verifyEntitlement(text, vin: vin)
                            case 1: _ = try verifier.verifyManifest(text, vin: vin, lastAcceptedVersion: 1)
                            default: _ = try verifier.verifyJWS(text)
                            }
                            codes["accepted", default: 0] += 1
                        } catch let error as EntitlementError {
                            codes[error.code.rawValue, default: 0] += 1
                        } catch {
                            codes["untyped: \(error)", default: 0] += 1
                        }
                    }
                    return codes
                }
            }
            var total: [String: Int] = [:]
            for await codes in group { total.merge(codes, uniquingKeysWith: +) }
            return total
        }
        #expect(results.values.reduce(0, +) == perTask * tasks)
        #expect(results.keys.filter { $0.hasPrefix("untyped") }.isEmpty, "\(results)")
        // The mutations reach deep into the procedure, not just the first check.
        for code in ["token_base64", "token_malformed", "header_malformed", "signature_invalid", "claims_malformed", "claim_invalid"] {
            #expect(results[code, default: 0] > 0, "no mutation produced \(code): \(results)")
        }
    }
}
