import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDVehicle
import Testing

/// A vehicle's life through `OnboardVehicle`: pinned root, rotation, attested time, manifests, single
/// tokens, the feature check, each refusal with its code and nothing changed by a refusal.
@Suite("The vehicle library")
struct VehicleTests {
    static let issuerID = try! IssuerID("https://fod.oem.example")
    static let vin = try! VIN("WVWZZZ1KZAW394821")
    static let start: Int64 = 1_800_000_000
    static let second: UInt64 = 1_000_000_000

    /// A root key, keys A and B, roots 1 (A) and 2 (B only).
    struct World {
        let rootKey = try! PrivateKey.generate(.es256)
        let a = try! PrivateKey.generate(.es256)
        let b = try! PrivateKey.generate(.edDSA)
        func root(_ version: Int64, _ keys: [PrivateKey], expires: Int64 = VehicleTests.start + 365 * 86_400) throws -> SignedRoot {
            let issuing = keys.map { IssuingKey($0.publicKey, scope: [.entitlement, .manifest, .time], notBefore: VehicleTests.start - 86_400,
                                                notAfter: VehicleTests.start + 400 * 86_400) }
            return try SignedRoot(unsigned: RootMetadata(issuer: VehicleTests.issuerID, version: version, issuedAt: VehicleTests.start - 86_400,
                                                         expiresAt: expires, threshold: 1, rootKeys: [TrustedKey(rootKey.publicKey)],
                                                         issuingKeys: issuing)).signed(by: rootKey)
        }
        func issuer(_ key: PrivateKey, at time: Int64) -> Issuer { Issuer(key: key, issuer: VehicleTests.issuerID, clock: FixedClock(unixSeconds: time)) }
        func manifest(_ key: PrivateKey, version: Int64, at time: Int64, vin: VIN = VehicleTests.vin,
                      _ entries: [ManifestClaims.Entry]) throws -> String {
            try issuer(key, at: time).sign(ManifestClaims(issuer: VehicleTests.issuerID, vin: vin, issuedAt: time, version: version,
                                                          expiresAt: time + 7 * 86_400, entitlements: entries))
        }
    }

    static func entry(_ id: String, _ feature: String, _ term: Term, from: Int64) throws -> ManifestClaims.Entry {
        ManifestClaims.Entry(id: try EntitlementID(id), feature: try FeatureCode(feature), term: term, notBefore: from,
                             expiresAt: term.end(startingAt: from))
    }

    static func code(_ body: () throws -> Void) -> String {
        do { try body(); return "ok" } catch let error as EntitlementError { return error.codeName } catch let error as VehicleError {
            return error.codeName
        } catch { return "\(error)" }
    }

    @Test("a car pins root 1, walks to 2, takes time and manifests; refusals keep what it holds; features answer with their reasons")
    func life() throws {
        let world = World()
        let car = try OnboardVehicle(vin: Self.vin, market: nil, pinnedRoot: try world.root(1, [world.a]), productionTime: Self.start,
                              offlineGrace: 7 * 86_400, at: 5 * Self.second)
        let nav = try FeatureCode("NAV_PLUS"), acc = try FeatureCode("ACC")
        #expect(car.check(nav, at: 5 * Self.second).code == "feature_not_entitled")
        let entries = [try Self.entry("e-1", "NAV_PLUS", .permanent, from: Self.start), try Self.entry("e-2", "ACC", .oneMonth, from: Self.start)]
        #expect(Self.code { try car.applyManifest(try world.manifest(world.a, version: 3, at: Self.start + 10, entries), at: 5 * Self.second) } == "ok")
        #expect(car.check(nav, at: 6 * Self.second).enabled && car.check(acc, at: 6 * Self.second).enabled)
        // Rollback, another VIN, an unknown key: refused, nothing changes.
        #expect(Self.code { try car.applyManifest(try world.manifest(world.a, version: 3, at: Self.start + 20, []), at: 6 * Self.second) } == "manifest_rollback")
        #expect(Self.code { try car.applyManifest(try world.manifest(world.a, version: 4, at: Self.start + 20, vin: try VIN("WAUZZZF45RA000001"), []),
                                                  at: 6 * Self.second) } == "vin_mismatch")
        #expect(Self.code { try car.applyManifest(try world.manifest(world.b, version: 4, at: Self.start + 20, []), at: 6 * Self.second) } == "key_unknown")
        #expect(car.snapshot.manifest?.version == 3 && car.snapshot.held.count == 2)
        // Root 2 retires A for B: B's manifest is taken, A's refused.
        #expect(Self.code { try car.applyRoot(try world.root(1, [world.a]).json()) } == "root_rollback")
        #expect(Self.code { try car.applyRoot(try world.root(3, [world.b]).json()) } == "root_version_skipped")
        #expect(try car.applyRoot(try world.root(2, [world.b]).json()) == 2)
        #expect(Self.code { try car.applyManifest(try world.manifest(world.a, version: 5, at: Self.start + 30, []), at: 7 * Self.second) } == "key_unknown")
        #expect(Self.code { try car.applyManifest(try world.manifest(world.b, version: 5, at: Self.start + 30, [entries[0]]), at: 7 * Self.second) } == "ok")
        #expect(car.check(acc, at: 7 * Self.second).code == "feature_not_entitled", "left out of the newer manifest: no longer held")
        // A single token issued after the manifest is held; a time-limited one needs fresh time.
        let trial = try world.issuer(world.b, at: Self.start + 40).issue(EntitlementRequest(vin: Self.vin, feature: acc, term: .trial)).token
        #expect(Self.code { try car.applyEntitlement(trial, at: 8 * Self.second) } == "ok")
        #expect(car.check(acc, at: 8 * Self.second).enabled)
        let later = 8 * Self.second + 8 * 86_400 * Self.second
        #expect(car.check(acc, at: later).code == "time_unattested" && car.check(nav, at: later).enabled, "permanent needs no fresh time")
        // Attested time: the nonce must match; a fresh one makes it usable again, a trial ends.
        let nonce = "car-nonce-0000000000000001"
        let time = try world.issuer(world.b, at: Self.start + 9 * 86_400).attestTime(nonce: nonce).token
        #expect(Self.code { try car.applyTime(time, nonce: "car-nonce-0000000000000002", at: later) } == "time_nonce_mismatch")
        #expect(Self.code { try car.applyTime(time, nonce: nonce, at: later) } == "ok")
        #expect(car.check(acc, at: later).enabled)
        // 40 days on, by the car's own count day 49: the trial (30 days from its issue on day 0) has
        // ended — said before the lapsed grace, which a sync would cure and this would not.
        #expect(car.check(acc, at: later + 40 * 86_400 * Self.second).code == "expired")
        let old = try world.issuer(world.b, at: Self.start + 86_400).attestTime(nonce: nonce).token
        #expect(Self.code { try car.applyTime(old, nonce: nonce, at: later) } == "time_rollback")
        // A manifest that leaves out the trial, issued after it: the trial is gone.
        #expect(Self.code { try car.applyManifest(try world.manifest(world.b, version: 6, at: Self.start + 9 * 86_400, [entries[0]]), at: later) } == "ok")
        #expect(car.check(acc, at: later).code == "feature_not_entitled")
    }

    @Test("the state survives save and load, a restart carries the time since the attestation, and a torn or changed state is refused")
    func storedState() throws {
        let world = World()
        let car = try OnboardVehicle(vin: Self.vin, market: try Market("DE"), pinnedRoot: try world.root(1, [world.a]), productionTime: Self.start,
                              offlineGrace: 3600, at: 100 * Self.second)
        _ = try car.applyRoot(try world.root(2, [world.a, world.b]).json())
        let token = try world.manifest(world.b, version: 2, at: Self.start + 5, [try Self.entry("e-1", "ACC", .oneYear, from: Self.start)])
        _ = try car.applyManifest(token, at: 100 * Self.second)
        let bytes = car.bytes(at: 1900 * Self.second)  // 30 minutes since the attestation
        // After a restart the monotonic clock starts again: 30 minutes are carried, 31 more end the grace.
        let restored = try OnboardVehicle(restoring: bytes, at: 2 * Self.second)
        let state = restored.snapshot
        #expect(state.vin == Self.vin && state.market?.code == "DE" && state.pinnedVersion == 1 && state.trust.root.version == 2)
        #expect(state.manifest?.version == 2 && state.held.count == 1 && state.clock.secondsSinceAttestation(at: 2 * Self.second) == 1800)
        #expect(restored.check(try FeatureCode("ACC"), at: 2 * Self.second).enabled)
        #expect(restored.check(try FeatureCode("ACC"), at: (2 + 1860) * Self.second).code == "time_unattested")
        #expect(Self.code { try restored.applyManifest(token, at: 3 * Self.second) } == "manifest_rollback", "the floor survives")
        #expect(try OnboardVehicle(restoring: bytes, at: 1900 * Self.second).bytes(at: 1900 * Self.second) == bytes,
                "restored at the same reading, it stores the same bytes")
        let sameRun = try OnboardVehicle(restoring: bytes, at: 2500 * Self.second)
        #expect(sameRun.snapshot.clock.secondsSinceAttestation(at: 2500 * Self.second) == 2400, "a later reading of the same clock counts the gap")
        // Every prefix is a torn write; every changed byte is refused.
        for length in 0..<bytes.count {
            let code = Self.code { _ = try OnboardVehicle(restoring: Array(bytes.prefix(length)), at: 0) }
            #expect(code == "state_truncated", "prefix of \(length) bytes: \(code)")
            if code != "state_truncated" { break }
        }
        var refusedChanges = 0
        for index in stride(from: 0, to: bytes.count, by: 7) {
            var changed = bytes
            changed[index] ^= 0x20
            let code = Self.code { _ = try OnboardVehicle(restoring: changed, at: 0) }
            if ["state_corrupt", "state_malformed", "state_version_unsupported", "state_truncated"].contains(code) { refusedChanges += 1 }
        }
        #expect(refusedChanges == (bytes.count + 6) / 7, "every changed byte is refused")
        #expect(Self.code { _ = try OnboardVehicle(restoring: bytes + [0], at: 0) } == "state_malformed")
    }

    @Test("time signed by a key whose window starts after the car's own estimate is taken (a car stored across a rotation); a time outside the key's window is refused")
    func timeKeyWindow() throws {
        let world = World()
        let stored = Self.start - 300 * 86_400  // the car's estimate is long before every key's nbf
        let car = try OnboardVehicle(vin: Self.vin, market: nil, pinnedRoot: try world.root(1, [world.a]), productionTime: stored,
                                     offlineGrace: 86_400, at: 0)
        let nonce = "stored-car-nonce-000001"
        let now = try world.issuer(world.a, at: Self.start).attestTime(nonce: nonce).token
        #expect(Self.code { try car.applyTime(now, nonce: nonce, at: Self.second) } == "ok")
        #expect(car.time(at: Self.second) == Self.start)
        let beyond = try world.issuer(world.a, at: Self.start + 500 * 86_400).attestTime(nonce: nonce).token
        #expect(Self.code { try car.applyTime(beyond, nonce: nonce, at: Self.second) } == "key_expired", "past the key's window")
        #expect(car.time(at: Self.second) == Self.start, "a refused time changes nothing")
    }
}
