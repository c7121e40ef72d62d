import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDTestSupport
import Foundation
import Testing

/// Runs every token under fixtures/tokens/ (made by an independent implementation,
/// scripts/make-fixture-tokens.py) and checks the expected verdict in manifest.json.
@Suite("Fixture tokens")
struct FixtureTokensTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let file, expect, description: String
        let vin: String?
        let manifest: Bool
        let lastVersion: Int64?
        var testDescription: String { "\(file) → \(expect)" }
    }

    nonisolated(unsafe) static let manifest: [String: Any] = {
        (try? TestPaths.json(TestPaths.file("fixtures/tokens/manifest.json")) as? [String: Any]) ?? [:]
    }()

    static let cases: [Case] = {
        ((manifest["cases"] as? [[String: Any]]) ?? []).map {
            Case(file: $0["file"] as? String ?? "", expect: $0["expect"] as? String ?? "", description: $0["description"] as? String ?? "",
                 vin: $0["vin"] as? String, manifest: $0["manifest"] as? Bool ?? false, lastVersion: ($0["lastVersion"] as? Int).map(Int64.init))
        }
    }()

    @Test("the fixture set covers every failure class")
    func coverage() {
        #expect(Self.cases.count == 50)
        let codes = Set(Self.cases.map(\.expect))
        for required in ["ok", "token_base64", "token_malformed", "header_member_unknown", "header_crit", "alg_not_allowed",
                         "typ_mismatch", "kid_missing", "key_unknown", "key_alg_mismatch", "signature_length", "signature_invalid",
                         "claims_malformed", "claims_duplicate", "claim_missing", "claim_type", "claim_unknown", "claim_invalid",
                         "subject_invalid", "issuer_mismatch", "vin_mismatch", "expired", "not_yet_valid", "issued_in_future",
                         "token_too_large", "manifest_rollback", "header_malformed"] {
            #expect(codes.contains(required), "no fixture for \(required)")
        }
    }

    @Test("each fixture gives its expected result", arguments: cases)
    func verdict(fixture: Case) throws {
        let keys = try KeySet(jwksJSON: String(contentsOf: TestPaths.file(Self.manifest["keys"] as? String ?? ""), encoding: .utf8))
        let verifier = Verifier(keys: keys, issuer: try IssuerID(Self.manifest["issuer"] as? String ?? ""),
                                clock: FixedClock(unixSeconds: Int64(Self.manifest["at"] as? Int ?? 0)),
                                leeway: Int64(Self.manifest["leeway"] as? Int ?? 60))
        let token = try String(contentsOf: TestPaths.file("fixtures/tokens/\(fixture.file)"), encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let vin = try fixture.vin.map { try VIN($0) }
        do {
            if fixture.manifest {
                _ = try verifier.verifyManifest(token, vin: try #require(vin), lastAcceptedVersion: fixture.lastVersion)
            } else {
                _ = try verifier.verifyEntitlement(token, vin: vin)
            }
            #expect(fixture.expect == "ok", "\(fixture.file) verified; expected \(fixture.expect)")
        } catch let error as EntitlementError {
            #expect(error.code.rawValue == fixture.expect, "\(fixture.file): got \(error)")
        }
    }
}
