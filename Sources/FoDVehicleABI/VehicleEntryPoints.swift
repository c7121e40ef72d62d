import CFoDVehicle
import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDVehicle

// The C entry points of fod_vehicle.h for a vehicle: each takes the handle, checks its
// arguments (a wrong call is FOD_ERROR) and hands over to `OnboardVehicle`, whose refusals are
// FOD_REFUSED with their stable codes.

private func vehicle(_ handle: OpaquePointer?) throws -> OnboardVehicle {
    guard let handle else { throw CInterop.Misuse(.argumentInvalid, "the vehicle is NULL") }
    return Unmanaged<OnboardVehicle>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

private func handle(_ vehicle: OnboardVehicle) -> OpaquePointer {
    OpaquePointer(Unmanaged.passRetained(vehicle).toOpaque())
}

nonisolated(unsafe) private let versionText: UnsafeMutablePointer<CChar> = strdupText("fodvehicle 1 (state format \(VehicleState.formatVersion))")

private func strdupText(_ text: String) -> UnsafeMutablePointer<CChar> {
    let bytes = Array(text.utf8CString)
    let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count)
    pointer.initialize(from: bytes, count: bytes.count)
    return pointer
}

/// A token applied to a vehicle: the handle and the text checked, then `apply`.
private func applying(_ handle: OpaquePointer?, _ token: UnsafePointer<CChar>?, _ length: Int, _ monoMS: UInt64,
                      _ status: UnsafeMutablePointer<fod_status>?, _ apply: (OnboardVehicle, String, UInt64) throws -> Void) -> Int32 {
    CInterop.run(status) {
        try apply(try vehicle(handle), try CInterop.text(token, length, "token"), CInterop.nanoseconds(monoMS))
        return CInterop.ok
    }
}

@_cdecl("fod_vehicle_library_version")
public func fod_vehicle_library_version() -> UnsafePointer<CChar> { UnsafePointer(versionText) }

@_cdecl("fod_vehicle_new")
public func fod_vehicle_new(_ vin: UnsafePointer<CChar>?, _ market: UnsafePointer<CChar>?, _ root: UnsafePointer<CChar>?,
                            _ rootLength: Int, _ productionTime: Int64, _ offlineGrace: Int64, _ monoMS: UInt64,
                            _ status: UnsafeMutablePointer<fod_status>?) -> OpaquePointer? {
    var made: OnboardVehicle?
    _ = CInterop.run(status) {
        let vin = try CInterop.argument { try VIN(strict: try CInterop.string(vin, "vin")) }
        let market = try market.map { pointer in try CInterop.argument { try Market(String(cString: pointer)) } }
        guard offlineGrace >= 0 else { throw CInterop.Misuse(.argumentInvalid, "offline_grace is negative") }
        let document = try CInterop.text(root, rootLength, "root_json")
        made = try OnboardVehicle(vin: vin, market: market, pinnedRoot: try SignedRoot(json: document), productionTime: productionTime,
                           offlineGrace: offlineGrace, at: CInterop.nanoseconds(monoMS))
        return CInterop.ok
    }
    return made.map(handle)
}

@_cdecl("fod_vehicle_load")
public func fod_vehicle_load(_ bytes: UnsafePointer<UInt8>?, _ length: Int, _ monoMS: UInt64,
                             _ status: UnsafeMutablePointer<fod_status>?) -> OpaquePointer? {
    var made: OnboardVehicle?
    _ = CInterop.run(status) {
        guard length >= 0, bytes != nil || length == 0 else { throw CInterop.Misuse(.argumentInvalid, "bytes is NULL") }
        let stored = bytes.map { Array(UnsafeBufferPointer(start: $0, count: length)) } ?? []
        made = try OnboardVehicle(restoring: stored, at: CInterop.nanoseconds(monoMS))
        return CInterop.ok
    }
    return made.map(handle)
}

@_cdecl("fod_vehicle_save")
public func fod_vehicle_save(_ handle: OpaquePointer?, _ monoMS: UInt64, _ buffer: UnsafeMutablePointer<UInt8>?, _ capacity: Int,
                             _ length: UnsafeMutablePointer<Int>?, _ status: UnsafeMutablePointer<fod_status>?) -> Int32 {
    CInterop.run(status) {
        try CInterop.deliver(try vehicle(handle).bytes(at: CInterop.nanoseconds(monoMS)), terminate: false,
                             into: buffer.map(UnsafeMutableRawPointer.init), capacity: capacity, length: length)
    }
}

@_cdecl("fod_vehicle_free")
public func fod_vehicle_free(_ handle: OpaquePointer?) {
    guard let handle else { return }
    Unmanaged<OnboardVehicle>.fromOpaque(UnsafeRawPointer(handle)).release()
}

@_cdecl("fod_vehicle_apply_root")
public func fod_vehicle_apply_root(_ handle: OpaquePointer?, _ json: UnsafePointer<CChar>?, _ length: Int,
                                   _ status: UnsafeMutablePointer<fod_status>?) -> Int32 {
    CInterop.run(status) {
        let car = try vehicle(handle)
        try car.applyRoot(try CInterop.text(json, length, "root_json"))
        return CInterop.ok
    }
}

@_cdecl("fod_vehicle_check_trust")
public func fod_vehicle_check_trust(_ handle: OpaquePointer?, _ monoMS: UInt64, _ status: UnsafeMutablePointer<fod_status>?) -> Int32 {
    CInterop.run(status) {
        try vehicle(handle).checkTrust(at: CInterop.nanoseconds(monoMS))
        return CInterop.ok
    }
}

@_cdecl("fod_make_nonce")
public func fod_make_nonce(_ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int, _ status: UnsafeMutablePointer<fod_status>?) -> Int32 {
    CInterop.run(status) {
        let nonce = Base64URL.encode(SecureRandom.bytes(32))
        return try CInterop.deliver(Array(nonce.utf8), terminate: true, into: buffer.map(UnsafeMutableRawPointer.init),
                                    capacity: capacity, length: nil)
    }
}

@_cdecl("fod_vehicle_apply_time")
public func fod_vehicle_apply_time(_ handle: OpaquePointer?, _ token: UnsafePointer<CChar>?, _ length: Int,
                                   _ nonce: UnsafePointer<CChar>?, _ monoMS: UInt64, _ status: UnsafeMutablePointer<fod_status>?) -> Int32 {
    CInterop.run(status) {
        let car = try vehicle(handle)
        try car.applyTime(try CInterop.text(token, length, "token"), nonce: try CInterop.string(nonce, "nonce"),
                          at: CInterop.nanoseconds(monoMS))
        return CInterop.ok
    }
}

@_cdecl("fod_vehicle_apply_manifest")
public func fod_vehicle_apply_manifest(_ handle: OpaquePointer?, _ token: UnsafePointer<CChar>?, _ length: Int, _ monoMS: UInt64,
                                       _ status: UnsafeMutablePointer<fod_status>?) -> Int32 {
    applying(handle, token, length, monoMS, status) { car, text, now in _ = try car.applyManifest(text, at: now) }
}

@_cdecl("fod_vehicle_apply_entitlement")
public func fod_vehicle_apply_entitlement(_ handle: OpaquePointer?, _ token: UnsafePointer<CChar>?, _ length: Int, _ monoMS: UInt64,
                                          _ status: UnsafeMutablePointer<fod_status>?) -> Int32 {
    applying(handle, token, length, monoMS, status) { car, text, now in _ = try car.applyEntitlement(text, at: now) }
}

@_cdecl("fod_vehicle_feature_enabled")
public func fod_vehicle_feature_enabled(_ handle: OpaquePointer?, _ feature: UnsafePointer<CChar>?, _ monoMS: UInt64,
                                        _ status: UnsafeMutablePointer<fod_status>?) -> Int32 {
    CInterop.run(status) {
        let car = try vehicle(handle)
        let code = try CInterop.argument { try FeatureCode(try CInterop.string(feature, "feature")) }
        let decision = car.check(code, at: CInterop.nanoseconds(monoMS))
        guard decision.enabled else {
            throw CInterop.Refusal(code: decision.code, reason: "\(code) is not enabled at \(decision.at): \(decision.code)")
        }
        return CInterop.ok
    }
}

@_cdecl("fod_vehicle_describe")
public func fod_vehicle_describe(_ handle: OpaquePointer?, _ monoMS: UInt64, _ buffer: UnsafeMutablePointer<CChar>?, _ capacity: Int,
                                 _ length: UnsafeMutablePointer<Int>?, _ status: UnsafeMutablePointer<fod_status>?) -> Int32 {
    CInterop.run(status) {
        let text = try vehicle(handle).descriptionJSON(at: CInterop.nanoseconds(monoMS))
        return try CInterop.deliver(text, terminate: true, into: buffer.map(UnsafeMutableRawPointer.init), capacity: capacity, length: length)
    }
}
