import FoDEntitlements

/// What a car reported it has (docs/vehicle-sdk.md, "The car reports back") beside what the
/// service issued it, as recorded: the vehicle's latest report.
public struct VehicleStateReport: Sendable, Hashable {
    /// The vehicle.
    public let vin: VIN
    /// When the report was received (Unix seconds).
    public let reportedAt: Int64
    /// The manifest version the car holds (`nil`: none).
    public let manifestVersion: Int64?
    /// The root version the car trusts, when it said.
    public let rootVersion: Int64?
    /// The features the car has enabled, sorted.
    public let enabled: [FeatureCode]
    /// The newest manifest version the service has issued for it (`nil`: none yet).
    public let currentManifestVersion: Int64?
    /// Features with a live entitlement that the car does not have enabled, sorted.
    public let missing: [FeatureCode]
    /// Features the car has enabled without a live entitlement, sorted.
    public let unexpected: [FeatureCode]

    /// A report and its comparison.
    public init(vin: VIN, reportedAt: Int64, manifestVersion: Int64?, rootVersion: Int64?, enabled: [FeatureCode],
                currentManifestVersion: Int64?, missing: [FeatureCode], unexpected: [FeatureCode]) {
        self.vin = vin
        self.reportedAt = reportedAt
        self.manifestVersion = manifestVersion
        self.rootVersion = rootVersion
        self.enabled = enabled.sorted { $0.value < $1.value }
        self.currentManifestVersion = currentManifestVersion
        self.missing = missing.sorted { $0.value < $1.value }
        self.unexpected = unexpected.sorted { $0.value < $1.value }
    }

    /// The car holds an older manifest than the newest issued.
    public var manifestBehind: Bool {
        guard let current = currentManifestVersion else { return false }
        return (manifestVersion ?? 0) < current
    }

    /// The car has what it was issued, no more, no less, on the newest manifest.
    public var inSync: Bool { missing.isEmpty && unexpected.isEmpty && !manifestBehind }

    /// What makes it a mismatch, as compared with an earlier report (the same mismatch twice
    /// raises one event).
    var mismatchKey: String {
        "behind=\(manifestBehind)|missing=\(missing.map(\.value).joined(separator: ","))|unexpected=\(unexpected.map(\.value).joined(separator: ","))"
    }
}
