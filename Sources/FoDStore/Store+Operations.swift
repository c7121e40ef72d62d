import FoDCrypto
import FoDEntitlements
import Foundation

extension SQLStore {
    /// The vehicle and its entitlements in one read transaction, or `nil` when not registered.
    public func vehicleWithEntitlements(_ vin: VIN) async throws -> (vehicle: Vehicle, entitlements: [StoredEntitlement])? {
        try await transaction(.snapshot, "vehicle read") { db in
            guard let vehicle = try Self.vehicle(db, vin) else { return nil }
            return (vehicle, try Self.entitlements(db, vin))
        }
    }

    /// A 256-bit secret by name, made on first use (``AccessStore/sharedSecret(_:)``).
    public func sharedSecret(_ name: String) async throws -> [UInt8] {
        try await write { db in
            try db.execute(sql: "INSERT INTO shared_secret (name, secret) VALUES (?, ?) ON CONFLICT(name) DO NOTHING",
                           arguments: [name, Hex.encode(SecureRandom.bytes(32))])
            guard let hex = try String.fetchOne(db, sql: "SELECT secret FROM shared_secret WHERE name = ?", arguments: [name]),
                  let bytes = Hex.decode(hex), bytes.count == 32 else {
                throw StoreError(.database, "the shared secret \(name) is damaged")
            }
            return bytes
        }
    }
}
