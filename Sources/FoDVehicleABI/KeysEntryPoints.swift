import CFoDVehicle
import FoDCore
import FoDEntitlements
import FoDVehicle

// The C entry points of fod_vehicle.h for a fixed key set: a token checked as `fod verify --at`
// checks it, for tools and conformance runs (a car checks through its fod_vehicle).

/// A key set and the issuer its tokens must name.
final class KeysHandle: Sendable {
    let keys: KeySet
    let issuer: IssuerID
    init(keys: KeySet, issuer: IssuerID) {
        self.keys = keys
        self.issuer = issuer
    }
}

@_cdecl("fod_keys_new")
public func fod_keys_new(_ jwks: UnsafePointer<CChar>?, _ length: Int, _ issuer: UnsafePointer<CChar>?,
                         _ status: UnsafeMutablePointer<fod_status>?) -> OpaquePointer? {
    var made: KeysHandle?
    _ = CInterop.run(status) {
        let issuer = try CInterop.argument { try IssuerID(try CInterop.string(issuer, "issuer")) }
        made = KeysHandle(keys: try KeySet(jwksJSON: try CInterop.text(jwks, length, "jwks")), issuer: issuer)
        return CInterop.ok
    }
    return made.map { OpaquePointer(Unmanaged.passRetained($0).toOpaque()) }
}

@_cdecl("fod_keys_free")
public func fod_keys_free(_ handle: OpaquePointer?) {
    guard let handle else { return }
    Unmanaged<KeysHandle>.fromOpaque(UnsafeRawPointer(handle)).release()
}

@_cdecl("fod_verify")
public func fod_verify(_ handle: OpaquePointer?, _ kind: fod_token_kind, _ token: UnsafePointer<CChar>?, _ length: Int,
                       _ vin: UnsafePointer<CChar>?, _ lastVersion: Int64, _ now: Int64, _ leeway: Int64,
                       _ status: UnsafeMutablePointer<fod_status>?) -> Int32 {
    CInterop.run(status) {
        guard let handle else { throw CInterop.Misuse(.argumentInvalid, "the key set is NULL") }
        let keys = Unmanaged<KeysHandle>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
        guard leeway >= 0 else { throw CInterop.Misuse(.argumentInvalid, "leeway is negative") }
        let text = try CInterop.text(token, length, "token")
        let vin = try vin.map { pointer in try CInterop.argument { try VIN(strict: String(cString: pointer)) } }
        let verifier = Verifier(keys: keys.keys, issuer: keys.issuer, clock: FixedClock(unixSeconds: now), leeway: leeway)
        switch kind {
        case FOD_TOKEN_ENTITLEMENT:
            _ = try verifier.verifyEntitlement(text, vin: vin)
        case FOD_TOKEN_MANIFEST:
            guard let vin else { throw CInterop.Misuse(.argumentInvalid, "a manifest is checked for a vin") }
            _ = try verifier.verifyManifest(text, vin: vin, lastAcceptedVersion: lastVersion < 0 ? nil : lastVersion)
        default:
            throw CInterop.Misuse(.argumentInvalid, "kind is FOD_TOKEN_ENTITLEMENT or FOD_TOKEN_MANIFEST (a time token is applied to a vehicle)")
        }
        return CInterop.ok
    }
}
