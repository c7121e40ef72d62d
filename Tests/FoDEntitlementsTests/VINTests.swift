import Foundation
import FoDEntitlements
import FoDTestSupport
import Testing

@Suite("VINs")
struct VINTests {
    static let groups: [String: [String]] = {
        (try? TestPaths.json(TestPaths.vectors.appendingPathComponent("vins.json")) as? [String: [String]]) ?? [:]
    }()

    @Test("the vector file has its five groups and 33 VINs")
    func counts() {
        #expect(Self.groups["valid"]?.count == 10)
        #expect(Self.groups["invalidCheckDigit"]?.count == 5)
        #expect(Self.groups["malformed"]?.count == 13)
        #expect(Self.groups["lowercaseOfValid"]?.count == 3)
        #expect(Self.groups["wellFormedWithoutCheckDigit"]?.count == 2)
    }

    @Test("valid VINs are accepted with a valid check digit", arguments: groups["valid"] ?? [])
    func valid(vin: String) throws {
        let parsed = try VIN(vin)
        #expect(parsed.value == vin)
        #expect(parsed.hasValidCheckDigit)
        #expect(try VIN(strict: vin) == parsed)
    }

    @Test("a wrong check digit is refused in North America", arguments: groups["invalidCheckDigit"] ?? [])
    func invalidCheckDigit(vin: String) {
        #expect(throws: EntitlementError(.vinCheckDigit, "")) { try VIN(vin) }
    }

    @Test("malformed VINs are refused", arguments: groups["malformed"] ?? [])
    func malformed(vin: String) {
        // 1M8GDM9AyKP042788 upper-cases to a wrong North-American check digit: invalid either way.
        #expect(throws: EntitlementError.self) { try VIN(vin) }
        #expect(throws: EntitlementError.self) { try VIN(strict: vin) }
    }

    @Test("lower case is normalized on input, but not accepted in a token's sub", arguments: groups["lowercaseOfValid"] ?? [])
    func lowercase(vin: String) throws {
        #expect(try VIN(vin).value == vin.uppercased())
        #expect(throws: EntitlementError(.vinMalformed, "")) { try VIN(strict: vin) }
    }

    @Test("European and other VINs without a check digit are accepted and reported", arguments: groups["wellFormedWithoutCheckDigit"] ?? [])
    func withoutCheckDigit(vin: String) throws {
        let parsed = try VIN(vin)
        #expect(!parsed.hasValidCheckDigit)
    }

    @Test("surrounding whitespace is trimmed, inner whitespace is not")
    func whitespace() throws {
        #expect(try VIN("  WVWZZZ1KZAW394821\n").value == "WVWZZZ1KZAW394821")
        #expect(throws: EntitlementError(.vinMalformed, "")) { try VIN("WVWZZZ1K ZAW394821") }
    }
}
