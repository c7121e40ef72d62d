import FoDCore
import FoDEntitlements

/// The cars' reports of what they have (docs/vehicle-sdk.md): the latest per vehicle.
public protocol VehicleStateStore: Sendable {
    /// Records `report` as the vehicle's latest. A report that is not in sync, unless the
    /// vehicle's previous report showed the same mismatch, gets an audit entry
    /// (`vehicle.state_mismatch`, an event).
    /// - Returns: whether the event was raised.
    /// - Throws: ``StoreError`` `not_found` (no such vehicle).
    func recordVehicleState(_ report: VehicleStateReport, actor: String) async throws -> Bool
}

extension SQLStore {
    public func recordVehicleState(_ report: VehicleStateReport, actor: String) async throws -> Bool {
        try await write("vehicle state report") { db in
            guard try Int.fetchOne(db, sql: "SELECT 1 FROM vehicle WHERE vin = ?", arguments: [report.vin.value]) != nil else {
                throw StoreError(.notFound, "vehicle \(report.vin) is not registered")
            }
            let previous: String? = try SQLRow.fetchOne(db, sql: "SELECT mismatch FROM vehicle_state WHERE vin = ?", arguments: [report.vin.value])?["mismatch"]
            let key = report.inSync ? nil : report.mismatchKey
            try db.execute(sql: "DELETE FROM vehicle_state WHERE vin = ?", arguments: [report.vin.value])
            try db.execute(sql: """
                INSERT INTO vehicle_state (vin, reported_at, reported_by, manifest_version, root_version, current_manifest_version, enabled, missing,
                  unexpected, mismatch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [report.vin.value, report.reportedAt, actor, report.manifestVersion, report.rootVersion, report.currentManifestVersion,
                                 Self.jsonList(report.enabled), Self.jsonList(report.missing), Self.jsonList(report.unexpected), key])
            guard let key, key != previous else { return false }
            try db.appendAudit(at: report.reportedAt, actor: actor, action: "vehicle.state_mismatch", subject: report.vin.value,
                               details: "manifest=\(report.manifestVersion.map(String.init) ?? "none")/\(report.currentManifestVersion.map(String.init) ?? "none") missing=\(report.missing.map(\.value).joined(separator: ",")) unexpected=\(report.unexpected.map(\.value).joined(separator: ","))")
            return true
        }
    }

    /// Feature codes as a JSON array (they are `[A-Z][A-Z0-9_]*`: nothing to escape).
    static func jsonList(_ features: [FeatureCode]) -> String {
        "[" + features.map { "\"\($0.value)\"" }.joined(separator: ",") + "]"
    }
}
