import FoDCore
import Foundation
import FoDCrypto
@testable import FoDEntitlements
import Testing

/// The hot-path shortcuts give exactly the results of the general code they stand in for.
@Suite("Fast paths agree with the general code")
struct FastPathTests {
    /// The general path: full parse, then the claim reader.
    static func slow(_ payload: [UInt8]) -> EntitlementClaims? {
        try? EntitlementClaims(json: Verifier.claimsObject(payload))
    }

    static func fast(_ payload: [UInt8]) -> EntitlementClaims? {
        payload.withUnsafeBytes { EntitlementClaims.decodeFast($0) }
    }

    @Test("one-pass claims decoding never accepts what the full parser refuses, and agrees when it accepts")
    func claimsDifferential() throws {
        let claims = EntitlementClaims(
            issuer: try IssuerID("https://fod.oem.example"), vin: try VIN("WVWZZZ1KZAW394821"), id: try EntitlementID("0192d3a0-7c00-7000-8000-000000000001"),
            issuedAt: 1_795_000_000, notBefore: 1_795_000_000, expiresAt: 1_826_536_000, feature: try FeatureCode("MATRIX_LED"),
            term: .oneYear, dealer: try DealerID("DE-1001"), ecu: try ECUIdentifier("ECU-1"))
        let base = claims.jsonBytes()
        #expect(Self.fast(base) == claims)
        let alphabet = Array("{}[]\":,0123456789-.eE \\u\nabcXYZ_/é".utf8)
        var rng = VerifierFuzzTests.SplitMix(state: 42)
        var agreedAccepted = 0, fastFellBack = 0
        let variants: [[UInt8]] = [
            Array(#"{"iss":"https://fod.oem.example","sub":"WVWZZZ1KZAW394821","jti":"a","iat":1,"nbf":1,"term":"permanent","feature":"AB"}"#.utf8),
            Array(#" { "iss" : "https://fod.oem.example" , "sub":"WVWZZZ1KZAW394821","jti":"a","iat":1,"nbf":1,"term":"permanent","feature":"AB" } "#.utf8),
            Array(#"{"\u0069ss":"https://fod.oem.example","sub":"WVWZZZ1KZAW394821","jti":"a","iat":1,"nbf":1,"term":"permanent","feature":"AB"}"#.utf8),
            Array(#"{"iss":"https:\/\/fod.oem.example","sub":"WVWZZZ1KZAW394821","jti":"a","iat":1,"nbf":1,"term":"permanent","feature":"AB"}"#.utf8),
        ]
        for payload in variants {
            let slow = Self.slow(payload)
            #expect(slow != nil)
            if let fast = Self.fast(payload) { #expect(fast == slow) }
        }
        for _ in 0..<60_000 {
            var payload = base
            for _ in 0..<(1 + rng.next() % 3) {
                let index = Int(rng.next() % UInt64(payload.count))
                switch rng.next() % 3 {
                case 0: payload[index] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: payload.remove(at: index)
                default: payload.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: index)
                }
            }
            let slow = Self.slow(payload), fast = Self.fast(payload)
            if let fast {
                #expect(fast == slow, "fast path accepted \(String(decoding: payload, as: UTF8.self)) differently")
                agreedAccepted += 1
            } else if slow != nil {
                fastFellBack += 1
            }
        }
        #expect(agreedAccepted > 100, "the mutations should leave some payloads valid")
    }

    @Test("calendar arithmetic agrees with Foundation's Calendar over random dates and every term")
    func civilDates() throws {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        var rng = VerifierFuzzTests.SplitMix(state: 7)
        let months: [(Term, Int)] = [(.oneMonth, 1), (.sixMonths, 6), (.oneYear, 12), (.threeYears, 36), (.subscription, 1)]
        for _ in 0..<3_000 {
            let start = Int64(rng.next() % 8_000_000_000)  // 1970 … 2223
            let date = Date(timeIntervalSince1970: TimeInterval(start))
            for (term, count) in months {
                let expected = calendar.date(byAdding: .month, value: count, to: date)!
                #expect(term.end(startingAt: start) == Int64(expected.timeIntervalSince1970), "\(term) from \(start)")
            }
            let civil = CivilDate(unixSeconds: start)
            let parts = calendar.dateComponents([.year, .month, .day], from: date)
            #expect(civil.year == Int64(parts.year!) && civil.month == Int64(parts.month!) && civil.day == Int64(parts.day!))
            #expect(civil.unixSeconds == start)
        }
        // Leap days.
        let feb29: Int64 = 1_709_164_800  // 2024-02-29
        #expect(Term.oneYear.end(startingAt: feb29) == 1_740_700_800)  // 2025-02-28
        #expect(CivilDate(unixSeconds: -1).year == 1969)
    }
}
