import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDVehicle
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A reference car's storage: the state file (`--state FILE`, rewritten atomically: a new file
/// synced, then renamed over the old) and beside it `FILE.factory`, what the factory wrote once
/// and a car keeps read-only — its VIN, market, offline grace, production time and pinned root —
/// from which it starts again when the state is lost or damaged.
struct VehicleFiles {
    /// What the factory wrote.
    struct Factory: Codable {
        var vin: String
        var market: String?
        var offlineGrace: Int64
        var productionTime: Int64
        var root: String

        enum CodingKeys: String, CodingKey {
            case vin, market, root
            case offlineGrace = "offline_grace"
            case productionTime = "production_time"
        }
    }

    let state: String
    var factoryPath: String { state + ".factory" }

    /// The car's monotonic clock: nanoseconds since boot (CLOCK_MONOTONIC), the same for every
    /// process on one boot.
    static func monotonic() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
    }

    /// A new car: the factory file and a first state.
    func create(_ factory: Factory) throws -> OnboardVehicle {
        let car = try vehicle(from: factory)
        try VehicleFiles.writeAtomically(Array(try JSONEncoder().encode(factory)), to: factoryPath)
        try save(car)
        return car
    }

    func factory() throws -> Factory {
        guard let data = FileManager.default.contents(atPath: factoryPath) else {
            throw CommandError(.vehicleNotInitialized, "no \(factoryPath): make the car with fod vehicle init first")
        }
        do { return try JSONDecoder().decode(Factory.self, from: data) } catch {
            throw VehicleError(.stateMalformed, "\(factoryPath) is not a factory file: \(error)")
        }
    }

    func vehicle(from factory: Factory) throws -> OnboardVehicle {
        try OnboardVehicle(vin: try VIN(strict: factory.vin), market: try factory.market.map { try Market($0) },
                           pinnedRoot: try SignedRoot(json: factory.root), productionTime: factory.productionTime,
                           offlineGrace: factory.offlineGrace, at: VehicleFiles.monotonic())
    }

    /// The stored car.
    /// - Throws: ``VehicleError`` `state_truncated` (a gone state file is one truncated to nothing),
    ///   `state_corrupt`, …; ``CommandError`` `vehicle_not_initialized` (no car here).
    func load() throws -> OnboardVehicle {
        guard let data = FileManager.default.contents(atPath: state) else {
            guard FileManager.default.fileExists(atPath: factoryPath) else {
                throw CommandError(.vehicleNotInitialized, "no car at \(state): make it with fod vehicle init first")
            }
            throw VehicleError(.stateTruncated, "the state file \(state) is gone")
        }
        return try OnboardVehicle(restoring: Array(data), at: VehicleFiles.monotonic())
    }

    /// The stored car, or — when its state is damaged or gone — a car started again from the
    /// factory's pinned root, with the reason.
    func loadOrRecover() throws -> (car: OnboardVehicle, recovered: VehicleError?) {
        do {
            return (try load(), nil)
        } catch let error as VehicleError {
            return (try vehicle(from: try factory()), error)
        }
    }

    func save(_ car: OnboardVehicle) throws {
        try VehicleFiles.writeAtomically(car.bytes(at: VehicleFiles.monotonic()), to: state)
    }

    /// Writes `bytes` to a new file beside `path`, syncs it, renames it over `path` and syncs the
    /// folder: a crash leaves the old file or the new one, never a mix.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let temporary = path + ".new"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw CommandError(.fileWrite, "cannot write \(temporary): \(String(cString: strerror(errno)))") }
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else {
                close(descriptor)
                throw CommandError(.fileWrite, "cannot write \(temporary): \(String(cString: strerror(errno)))")
            }
            written += count
        }
        guard fsync(descriptor) == 0, close(descriptor) == 0, rename(temporary, path) == 0 else {
            throw CommandError(.fileWrite, "cannot store \(path): \(String(cString: strerror(errno)))")
        }
        let folder = open((path as NSString).deletingLastPathComponent.isEmpty ? "." : (path as NSString).deletingLastPathComponent, O_RDONLY | O_CLOEXEC)
        if folder >= 0 {
            _ = fsync(folder)
            close(folder)
        }
    }
}
