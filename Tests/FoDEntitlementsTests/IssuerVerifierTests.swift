import Foundation
import FoDCrypto
import FoDEntitlements
import Testing

@Suite("Issuer and Verifier")
struct IssuerVerifierTests {
    static let now: Int64 = 1_795_000_000
    let issuerID = try! IssuerID("https://fod.oem.example")
    let vin = try! VIN("WVWZZZ1KZAW394821")

    func pair(_ algorithm: SigningAlgorithm, at time: Int64 = now) throws -> (Issuer, Verifier, PrivateKey) {
        let key = try PrivateKey.generate(algorithm)
        let issuer = Issuer(key: key, issuer: issuerID, clock: FixedClock(unixSeconds: time))
        let verifier = Verifier(keys: KeySet(publicKeys: [key.publicKey]), issuer: issuerID, clock: FixedClock(unixSeconds: time))
        return (issuer, verifier, key)
    }

    func verifier(_ key: PrivateKey, at time: Int64, leeway: Int64 = 60, revoked: Set<EntitlementID> = []) -> Verifier {
        Verifier(keys: KeySet(publicKeys: [key.publicKey]), issuer: issuerID, clock: FixedClock(unixSeconds: time),
                 leeway: leeway, revocations: RevocationList(revoked))
    }

    @Test("an issued token verifies and carries exactly the requested claims", arguments: SigningAlgorithm.allCases)
    func roundTrip(algorithm: SigningAlgorithm) throws {
        let (issuer, verifier, key) = try pair(algorithm)
        let request = EntitlementRequest(vin: vin, feature: try FeatureCode("MATRIX_LED"), term: .oneYear,
                                         dealer: try DealerID("DE-1001"), ecu: try ECUIdentifier("ECU:42"))
        let issued = try issuer.issue(request)
        let claims = try verifier.verifyEntitlement(issued.token, vin: vin)
        #expect(claims == issued.claims)
        #expect(claims.issuedAt == Self.now && claims.notBefore == Self.now)
        #expect(claims.expiresAt == Self.now + 365 * 86400)
        #expect(claims.dealer?.value == "DE-1001" && claims.ecu?.value == "ECU:42")
        #expect(claims.id.value.count == 36 && Array(claims.id.value.utf8)[14] == UInt8(ascii: "7"), "UUIDv7")
        #expect(issued.token.utf8.count < 600, "a token stays small: \(issued.token.utf8.count) bytes")
        let header = try JSONParser.parse(Base64URL.decode(String(issued.token.split(separator: ".")[0])))
        #expect(header == .object(JSONObject(members: [
            .init(name: "alg", value: .string(algorithm.jwsName)), .init(name: "kid", value: .string(key.keyID)),
            .init(name: "typ", value: .string("fod-entitlement+jwt"))])))
    }

    @Test("term ends use calendar arithmetic in UTC")
    func termEnds() {
        let jan31: Int64 = 1_769_817_600  // 2026-01-31T00:00:00Z
        #expect(Term.oneMonth.end(startingAt: jan31) == 1_772_236_800)  // 2026-02-28
        #expect(Term.sixMonths.end(startingAt: jan31) == 1_785_456_000)  // 2026-07-31
        #expect(Term.oneYear.end(startingAt: jan31) == 1_801_353_600)  // 2027-01-31
        #expect(Term.threeYears.end(startingAt: jan31) == 1_864_512_000)  // 2029-01-31
        #expect(Term.trial.end(startingAt: jan31) == jan31 + 30 * 86400)
        #expect(Term.subscription.end(startingAt: jan31) == 1_772_236_800)
        #expect(Term.permanent.end(startingAt: jan31) == nil)
    }

    @Test("time checks honour the leeway at its edges")
    func timeEdges() throws {
        let (issuer, _, key) = try pair(.es256)
        let issued = try issuer.issue(EntitlementRequest(vin: vin, feature: try FeatureCode("NAV_PLUS"), term: .trial,
                                                         notBefore: Self.now + 100))
        let end = try #require(issued.claims.expiresAt)
        #expect(throws: EntitlementError(.notYetValid, "")) { try verifier(key, at: Self.now + 39).verifyEntitlement(issued.token) }
        _ = try verifier(key, at: Self.now + 40).verifyEntitlement(issued.token)
        _ = try verifier(key, at: end + 59).verifyEntitlement(issued.token)
        #expect(throws: EntitlementError(.expired, "")) { try verifier(key, at: end + 60).verifyEntitlement(issued.token) }
        #expect(throws: EntitlementError(.expired, "")) { try verifier(key, at: end, leeway: 0).verifyEntitlement(issued.token) }
        #expect(throws: EntitlementError(.issuedInFuture, "")) {
            try verifier(key, at: Self.now - 61, leeway: 60).verifyEntitlement(
                try issuer.issue(EntitlementRequest(vin: vin, feature: try FeatureCode("NAV_PLUS"), term: .trial, notBefore: Self.now - 7200)).token)
        }
    }

    @Test("a permanent entitlement has no exp and never expires")
    func permanent() throws {
        let (issuer, _, key) = try pair(.edDSA)
        let issued = try issuer.issue(EntitlementRequest(vin: vin, feature: try FeatureCode("MORE_POWER"), term: .permanent))
        #expect(issued.claims.expiresAt == nil)
        _ = try verifier(key, at: Self.now + 40 * 365 * 86400).verifyEntitlement(issued.token)
        #expect(throws: EntitlementError(.requestInvalid, "")) {
            try issuer.issue(EntitlementRequest(vin: vin, feature: try FeatureCode("MORE_POWER"), term: .permanent, expiresAt: Self.now + 10))
        }
        #expect(throws: EntitlementError(.requestInvalid, "")) {
            try issuer.issue(EntitlementRequest(vin: vin, feature: try FeatureCode("MORE_POWER"), term: .oneMonth, notBefore: Self.now, expiresAt: Self.now))
        }
    }

    @Test("revoked entitlements and keys outside their window are refused")
    func revocationAndKeyWindows() throws {
        let (issuer, _, key) = try pair(.es256)
        let issued = try issuer.issue(EntitlementRequest(vin: vin, feature: try FeatureCode("ACC"), term: .oneMonth))
        #expect(throws: EntitlementError(.revoked, "")) {
            try verifier(key, at: Self.now, revoked: [issued.claims.id]).verifyEntitlement(issued.token)
        }
        func check(_ trusted: TrustedKey) throws -> EntitlementClaims {
            try Verifier(keys: KeySet([trusted]), issuer: issuerID, clock: FixedClock(unixSeconds: Self.now)).verifyEntitlement(issued.token)
        }
        #expect(throws: EntitlementError(.keyRevoked, "")) { try check(TrustedKey(key.publicKey, revoked: true)) }
        #expect(throws: EntitlementError(.keyNotYetValid, "")) { try check(TrustedKey(key.publicKey, notBefore: Self.now + 1)) }
        #expect(throws: EntitlementError(.keyExpired, "")) { try check(TrustedKey(key.publicKey, notAfter: Self.now)) }
        _ = try check(TrustedKey(key.publicKey, notBefore: Self.now - 1, notAfter: Self.now + 1))
    }

    @Test("a key set with several keys picks by kid; a rotated-out key is unknown")
    func rotation() throws {
        let (oldIssuer, _, oldKey) = try pair(.es256)
        let (newIssuer, _, newKey) = try pair(.edDSA)
        let both = Verifier(keys: KeySet(publicKeys: [oldKey.publicKey, newKey.publicKey]), issuer: issuerID, clock: FixedClock(unixSeconds: Self.now))
        let request = EntitlementRequest(vin: vin, feature: try FeatureCode("ACC"), term: .oneMonth)
        _ = try both.verifyEntitlement(try oldIssuer.issue(request).token)
        _ = try both.verifyEntitlement(try newIssuer.issue(request).token)
        let onlyNew = Verifier(keys: KeySet(publicKeys: [newKey.publicKey]), issuer: issuerID, clock: FixedClock(unixSeconds: Self.now))
        #expect(throws: EntitlementError(.keyUnknown, "")) { try onlyNew.verifyEntitlement(try oldIssuer.issue(request).token) }
    }

    @Test("manifests verify, only move forward, and are bound to their vehicle")
    func manifests() throws {
        let (issuer, verifier, _) = try pair(.es256)
        let entitlement = try issuer.issue(EntitlementRequest(vin: vin, feature: try FeatureCode("MATRIX_LED"), term: .oneYear))
        let manifest = ManifestClaims(issuer: issuerID, vin: vin, issuedAt: Self.now, version: 5, expiresAt: Self.now + 86400,
                                      entitlements: [ManifestClaims.Entry(entitlement.claims)])
        let token = try issuer.sign(manifest)
        #expect(try verifier.verifyManifest(token, vin: vin, lastAcceptedVersion: 4) == manifest)
        #expect(try verifier.verifyManifest(token, vin: vin, lastAcceptedVersion: nil) == manifest)
        #expect(throws: EntitlementError(.manifestRollback, "")) { try verifier.verifyManifest(token, vin: vin, lastAcceptedVersion: 5) }
        #expect(throws: EntitlementError(.manifestRollback, "")) { try verifier.verifyManifest(token, vin: vin, lastAcceptedVersion: 9) }
        #expect(throws: EntitlementError(.vinMismatch, "")) { try verifier.verifyManifest(token, vin: try VIN("1M8GDM9AXKP042788"), lastAcceptedVersion: 4) }
        #expect(throws: EntitlementError(.typMismatch, "")) { try verifier.verifyEntitlement(token) }
        #expect(throws: EntitlementError(.typMismatch, "")) { try verifier.verifyManifest(entitlement.token, vin: vin, lastAcceptedVersion: nil) }
        var duplicate = manifest
        duplicate.entitlements.append(duplicate.entitlements[0])
        #expect(throws: EntitlementError(.claimInvalid, "")) { try issuer.sign(duplicate) }
    }

    @Test("a manifest with many entitlements verifies beyond the 8 KiB entitlement limit")
    func largeManifest() throws {
        let (issuer, verifier, _) = try pair(.edDSA)
        let entries = try (0..<100).map { index in
            ManifestClaims.Entry(id: try EntitlementID("e-\(index)"), feature: try FeatureCode("F\(index)"), term: .permanent,
                                 notBefore: Self.now, expiresAt: nil)
        }
        let token = try issuer.sign(ManifestClaims(issuer: issuerID, vin: vin, issuedAt: Self.now, version: 1,
                                                   expiresAt: Self.now + 60, entitlements: entries))
        #expect(token.utf8.count > 8192)
        #expect(try verifier.verifyManifest(token, vin: vin, lastAcceptedVersion: 0).entitlements.count == 100)
    }

    @Test("a JWK Set takes any kid (RFC 7517) but refuses one kid twice, private keys and kids that cannot be shown")
    func keySetRules() throws {
        let key = try PrivateKey.generate(.es256)
        let set = KeySet(publicKeys: [key.publicKey])
        let text = try set.jwksJSON()
        #expect(try KeySet(jwksJSON: text).key(id: key.keyID) != nil)
        let privateSet = JSONWriter.text(.object(JSONObject(members: [.init(name: "keys", value: .array([.object(KeySet.object(from: try key.privateJWK()))]))])))
        #expect(throws: EntitlementError(.keySetInvalid, "")) { try KeySet(jwksJSON: privateSet) }
        let renamed = text.replacingOccurrences(of: key.keyID, with: "hsm:slot-0/fod-issuing-2027")
        let named = try KeySet(jwksJSON: renamed)
        #expect(named.key(id: "hsm:slot-0/fod-issuing-2027")?.publicKey == key.publicKey && named.key(id: key.keyID) == nil)
        #expect(try KeySet(jwksJSON: named.jwksJSON()).key(id: "hsm:slot-0/fod-issuing-2027") != nil, "the set is written with its own kids")
        let other = try PrivateKey.generate(.edDSA)
        let twice = try KeySet(publicKeys: [key.publicKey, other.publicKey]).jwksJSON().replacingOccurrences(of: other.keyID, with: key.keyID)
        #expect(throws: EntitlementError(.keySetKidDuplicate, "")) { try KeySet(jwksJSON: twice) }
        #expect(throws: EntitlementError(.keySetInvalid, "")) { try KeySet(jwksJSON: text.replacingOccurrences(of: key.keyID, with: "has space")) }
        #expect(throws: EntitlementError(.keySetInvalid, "")) { try KeySet(jwksJSON: "{\"keys\":[1]}") }
        #expect(throws: EntitlementError(.keySetInvalid, "")) { try KeySet(jwksJSON: "[") }
    }

    @Test("domain values are validated at the border", arguments: [
        ("feature", "matrix_led"), ("feature", "M"), ("feature", "A234567890123456789012345678901234"),
        ("dealer", ""), ("dealer", "-x"), ("dealer", "a b"), ("term", "P2Y"), ("id", ""), ("ecu", "x/y"), ("issuer", "a b"),
    ])
    func domainValues(kind: String, value: String) {
        #expect(throws: EntitlementError.self) {
            switch kind {
            case "feature": _ = try FeatureCode(value)
            case "dealer": _ = try DealerID(value)
            case "term": _ = try Term(validating: value)
            case "id": _ = try EntitlementID(value)
            case "ecu": _ = try ECUIdentifier(value)
            default: _ = try IssuerID(value)
            }
        }
    }
}
