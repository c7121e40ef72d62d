import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDTestSupport
import Foundation
import Testing

/// Runs every case of fixtures/trust/cases.json (roots and tokens made by an independent
/// implementation, scripts/interop/make_trust_fixtures.py): pin the first root, walk the others
/// one by one, take the key set at the case's time, verify the token if there is one — the first
/// failure's code must be the expected one.
@Suite("Trust fixtures")
struct TrustFixtureTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let roots: [String]
        let at: Int64
        let expect: String
        let token: String?
        let manifest: Bool
        let vin: String?
        let market: String?
        let keys: [String]?
        var testDescription: String { "\(name) → \(expect)" }
    }

    nonisolated(unsafe) static let file: [String: Any] = {
        (try? TestPaths.json(TestPaths.file("fixtures/trust/cases.json")) as? [String: Any]) ?? [:]
    }()

    static let cases: [Case] = {
        ((file["cases"] as? [[String: Any]]) ?? []).map { entry in
            let token = entry["token"] as? [String: Any]
            return Case(name: entry["name"] as? String ?? "", roots: entry["roots"] as? [String] ?? [], at: Int64(entry["at"] as? Int ?? 0),
                        expect: entry["expect"] as? String ?? "", token: token?["file"] as? String, manifest: token?["type"] as? String == "manifest",
                        vin: token?["vin"] as? String, market: entry["market"] as? String, keys: entry["keys"] as? [String])
        }
    }()

    @Test("the fixtures cover every failure of a root and of a key")
    func coverage() {
        let codes = Set(Self.cases.map(\.expect))
        for required in ["ok", "root_threshold", "root_version_skipped", "root_rollback", "root_expired", "root_malformed",
                         "issuer_mismatch", "keyset_kid_duplicate", "key_unknown", "key_not_yet_valid", "key_expired", "key_scope"] {
            #expect(codes.contains(required), "no case for \(required)")
        }
        #expect(Self.cases.count >= 28)
    }

    /// The outcome of a case: "ok" or the first failure's code.
    static func run(_ fixture: Case) -> String {
        do {
            let documents = try fixture.roots.map { try SignedRoot(json: String(contentsOf: TestPaths.file("fixtures/trust/\($0)"), encoding: .utf8)) }
            let store = try TrustStore(walking: documents)
            let keys = try store.keySet(market: try fixture.market.map { try Market($0) }, at: fixture.at)
            if let expected = fixture.keys, Set(keys.keys.map(\.keyID)) != Set(expected) {
                return "keys \(keys.keys.map(\.keyID).sorted())"
            }
            if let file = fixture.token {
                let text = try String(contentsOf: TestPaths.file("fixtures/trust/\(file)"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                let verifier = Verifier(keys: keys, issuer: try IssuerID(Self.file["issuer"] as? String ?? ""), clock: FixedClock(unixSeconds: fixture.at))
                let vin = try VIN(fixture.vin ?? "")
                if fixture.manifest {
                    _ = try verifier.verifyManifest(text, vin: vin, lastAcceptedVersion: nil)
                } else {
                    _ = try verifier.verifyEntitlement(text, vin: vin)
                }
            }
            return "ok"
        } catch let error as EntitlementError {
            return error.code.rawValue
        } catch {
            return "unexpected \(error)"
        }
    }

    @Test("each case gives its expected outcome", arguments: cases)
    func verdict(_ fixture: Case) {
        #expect(Self.run(fixture) == fixture.expect, "\(fixture.name)")
    }

    @Test("fod's own root documents read back to the same bytes and claims")
    func roundTrip() throws {
        let text = try String(contentsOf: TestPaths.file("fixtures/trust/root-2.json"), encoding: .utf8)
        let root = try SignedRoot(json: text)
        let again = try SignedRoot(json: root.json())
        #expect(again.payload == root.payload && again.signatures.count == 2)
        let rewritten = try SignedRoot(unsigned: root.metadata)
        let metadata = try SignedRoot(json: rewritten.json()).metadata
        #expect(metadata.version == 2 && metadata.threshold == 2 && metadata.rootKeys.count == 3 && metadata.issuingKeys.count == 4)
        #expect(metadata.issuingKeys.first { $0.keyID == "hsm:fod-issuing-b" }?.markets?.map(\.code) == ["DE", "AT"])
        #expect(try RootMetadata(jsonBytes: rewritten.metadata.jsonBytes()).issuingKeys.map(\.keyID) == root.metadata.issuingKeys.map(\.keyID))
    }

    @Test("a root signed by fod is trusted; another holder's signature is needed, and a second one by the same holder adds nothing")
    func signing() throws {
        let folder = TestPaths.file("fixtures/trust/keys")
        func key(_ name: String) throws -> PrivateKey { try KeyFile.readPrivateKey(at: folder.appendingPathComponent("\(name).private.pem").path) }
        let pinned = try SignedRoot(json: String(contentsOf: TestPaths.file("fixtures/trust/root-1.json"), encoding: .utf8))
        var next = pinned.metadata
        next.version = 2
        next.issuedAt += 86_400
        next.expiresAt += 86_400
        next.issuingKeys.append(IssuingKey(try PrivateKey.generate(.es256).publicKey, scope: [.entitlement], notBefore: next.issuedAt,
                                           notAfter: next.expiresAt))
        let once = try SignedRoot(unsigned: next).signed(by: try key("root-alice"))
        let twice = try once.signed(by: try key("root-alice"))
        var store = try TrustStore(pinned: pinned)
        #expect(throws: EntitlementError(.rootThreshold, "")) { try store.update(with: twice) }
        try store.update(with: try once.signed(by: try key("root-bob")))
        #expect(store.root.version == 2 && store.chain.count == 2)
        #expect(try store.keySet(at: next.issuedAt).count == 3)
    }
}
