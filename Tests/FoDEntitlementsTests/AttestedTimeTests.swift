import FoDCrypto
import FoDEntitlements
import Synchronization
import Testing

/// A monotonic clock a test moves by hand.
private final class Monotonic: Sendable {
    private let nanoseconds = Mutex<UInt64>(1_000_000_000)
    func advance(seconds: Int64) { nanoseconds.withLock { $0 += UInt64(seconds) * 1_000_000_000 } }
    var now: UInt64 { nanoseconds.withLock { $0 } }
}

@Suite("Attested time on the vehicle")
struct AttestedTimeTests {
    static let issuerID = try! IssuerID("https://fod.oem.example")
    static let vin = try! VIN("WVWZZZ1KZAW394821")
    static let start: Int64 = 1_800_000_000

    @Test("the clock takes only newer attested times, moves on monotonically, and time-limited entitlements need a fresh attestation")
    func clock() throws {
        let key = try PrivateKey.generate(.es256)
        let monotonic = Monotonic()
        let vehicle = AttestedTime(initial: Self.start, offlineGrace: 7 * 86_400, monotonic: { monotonic.now })
        let keys = KeySet([TrustedKey(key.publicKey, scope: [.entitlement, .time])])
        let verifier = Verifier(keys: keys, issuer: Self.issuerID, clock: vehicle)
        let later = Issuer(key: key, issuer: Self.issuerID, clock: FixedClock(unixSeconds: Self.start + 30 * 86_400))
        let nonce = "vehicle-nonce-000000001"
        let time = try later.attestTime(nonce: nonce).token
        #expect(throws: EntitlementError(.timeNonceMismatch, "")) { try vehicle.accept(time, nonce: "vehicle-nonce-000000002", verifier: verifier) }
        #expect(try vehicle.accept(time, nonce: nonce, verifier: verifier) == Self.start + 30 * 86_400)
        let earlier = Issuer(key: key, issuer: Self.issuerID, clock: FixedClock(unixSeconds: Self.start + 86_400))
        #expect(throws: EntitlementError(.timeRollback, "")) {
            try vehicle.accept(try earlier.attestTime(nonce: "vehicle-nonce-000000003").token, nonce: "vehicle-nonce-000000003", verifier: verifier)
        }
        #expect(vehicle.unixSeconds() == Self.start + 30 * 86_400)
        monotonic.advance(seconds: 3600)
        #expect(vehicle.unixSeconds() == Self.start + 30 * 86_400 + 3600, "moved on by the monotonic clock")

        let trial = try Issuer(key: key, issuer: Self.issuerID, clock: FixedClock(unixSeconds: Self.start + 30 * 86_400))
            .issue(EntitlementRequest(vin: Self.vin, feature: try FeatureCode("ACC"), term: .trial))
        let permanent = try Issuer(key: key, issuer: Self.issuerID, clock: FixedClock(unixSeconds: Self.start + 30 * 86_400))
            .issue(EntitlementRequest(vin: Self.vin, feature: try FeatureCode("NAV_PLUS"), term: .permanent))
        _ = try vehicle.verifyEntitlement(trial.token, vin: Self.vin, verifier: verifier)
        monotonic.advance(seconds: 8 * 86_400)
        #expect(throws: EntitlementError(.timeUnattested, "")) { try vehicle.verifyEntitlement(trial.token, vin: Self.vin, verifier: verifier) }
        _ = try vehicle.verifyEntitlement(permanent.token, vin: Self.vin, verifier: verifier)
        monotonic.advance(seconds: 30 * 86_400)
        let fresh = try later.attestTime(nonce: "vehicle-nonce-000000004")
        // An attested time behind the estimate is taken without going back; the vehicle is fresh again.
        _ = try vehicle.accept(fresh.token, nonce: "vehicle-nonce-000000004", verifier: verifier)
        #expect(vehicle.unixSeconds() == Self.start + 30 * 86_400 + 3600 + 38 * 86_400 && vehicle.isFresh)
    }

    @Test("a time token is refused when its key may not sign time, and time claims are exactly iss, iat, nonce")
    func scopeAndClaims() throws {
        let key = try PrivateKey.generate(.edDSA)
        let issuer = Issuer(key: key, issuer: Self.issuerID, clock: FixedClock(unixSeconds: Self.start))
        let token = try issuer.attestTime(nonce: "vehicle-nonce-000000001").token
        let entitlementOnly = Verifier(keys: KeySet([TrustedKey(key.publicKey, scope: [.entitlement])]), issuer: Self.issuerID,
                                       clock: FixedClock(unixSeconds: Self.start))
        #expect(throws: EntitlementError(.keyScope, "")) { try entitlementOnly.verifyTime(token, nonce: "vehicle-nonce-000000001") }
        let any = Verifier(keys: KeySet(publicKeys: [key.publicKey]), issuer: Self.issuerID, clock: FixedClock(unixSeconds: Self.start))
        #expect(throws: EntitlementError(.typMismatch, "")) { try any.verifyEntitlement(token) }
        #expect(throws: EntitlementError(.nonceInvalid, "")) { try issuer.attestTime(nonce: "has space in it 0123") }
    }
}
