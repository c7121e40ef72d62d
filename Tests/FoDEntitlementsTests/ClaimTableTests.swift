import FoDCore
import Foundation
@testable import FoDEntitlements
import Testing

/// The claim set is one table (``EntitlementClaims/Claim``); these tests are generated from it, so
/// a claim added to the table and forgotten in the writer, the reader or the fast decoder fails here.
@Suite("The claim table")
struct ClaimTableTests {
    static let claims = try! EntitlementClaims(
        issuer: IssuerID("https://fod.oem.example"), vin: VIN("WVWZZZ1KZAW394821"), id: EntitlementID("0192d3a0-7c00-7000-8000-000000000001"),
        issuedAt: 1_795_000_000, notBefore: 1_795_000_000, expiresAt: 1_826_536_000, feature: FeatureCode("MATRIX_LED"),
        term: .oneYear, dealer: DealerID("DE-1001"), ecu: ECUIdentifier("ECU-1"))

    static func object(_ bytes: [UInt8]) throws -> JSONObject {
        guard case .object(let object) = try JSONParser.parse(bytes) else { throw EntitlementError(.claimsMalformed, "not an object") }
        return object
    }

    static func slowCode(_ object: JSONObject) -> String? {
        do { _ = try EntitlementClaims(json: object); return nil } catch let error as EntitlementError { return error.code.rawValue } catch { return "\(error)" }
    }

    static func fast(_ object: JSONObject) -> EntitlementClaims? {
        Array(JSONWriter.text(.object(object)).utf8).withUnsafeBytes { EntitlementClaims.decodeFast($0) }
    }

    @Test("the writer, the Encodable form and the allowed names follow the table's order and names")
    func writersFollowTheTable() throws {
        let written = try Self.object(Self.claims.jsonBytes()).members.map(\.name)
        #expect(written == EntitlementClaims.Claim.allCases.map(\.rawValue))
        #expect(EntitlementClaims.claimNames == Set(EntitlementClaims.Claim.allCases.map(\.rawValue)))
        let encoded = try Self.object(Array(try JSONEncoder().encode(Self.claims))).members.map(\.name)
        #expect(Set(encoded) == Set(written))
        let decoded = try JSONDecoder().decode(EntitlementClaims.self, from: try JSONEncoder().encode(Self.claims))
        #expect(decoded == Self.claims)
    }

    @Test("the fast decoder's slot of each claim is its place in the table; other names have none")
    func slots() {
        for (index, claim) in EntitlementClaims.Claim.allCases.enumerated() {
            let slot = Array(claim.rawValue.utf8).withUnsafeBytes { EntitlementClaims.slot(of: $0) }
            #expect(slot == index, "\(claim)")
        }
        for name in ["ISS", "iss ", "ver", "features", "", "dealers"] {
            #expect(Array(name.utf8).withUnsafeBytes { EntitlementClaims.slot(of: $0) } == -1, "\(name)")
        }
    }

    @Test("per claim: without it, and with the other JSON type, both decoders refuse (the reader with the table's code)")
    func eachClaim() throws {
        let full = try Self.object(Self.claims.jsonBytes())
        for claim in EntitlementClaims.Claim.allCases {
            let without = JSONObject(members: full.members.filter { $0.name != claim.rawValue })
            if claim.isRequired {
                #expect(Self.slowCode(without) == "claim_missing", "\(claim)")
                #expect(Self.fast(without) == nil, "\(claim)")
            } else if claim != .exp {
                #expect(Self.slowCode(without) == nil, "\(claim) is optional")
                #expect(Self.fast(without) != nil, "\(claim) is optional")
            }
            let other: JSONValue = claim.kind == .string ? .number("1") : .string("1")
            let retyped = JSONObject(members: full.members.map { $0.name == claim.rawValue ? .init(name: $0.name, value: other) : $0 })
            #expect(Self.slowCode(retyped) == "claim_type", "\(claim)")
            #expect(Self.fast(retyped) == nil, "\(claim)")
        }
        let extra = JSONObject(members: full.members + [.init(name: "colour", value: .string("red"))])
        #expect(Self.slowCode(extra) == "claim_unknown")
        #expect(Self.fast(extra) == nil)
    }
}
