import FoDCore
import FoDEntitlements

/// `POST /v1/vehicles/{vin}/state`: what the car has — the manifest version it holds, the root
/// version it trusts, the features it has enabled (docs/vehicle-sdk.md, "The car reports back").
public struct VehicleStateRequest: StrictDecodable, CodingKeyed, Encodable, Sendable, Hashable {
    public enum Keys: String, CodingKey, CaseIterable {
        case manifestVersion = "manifest_version"
        case rootVersion = "root_version"
        case enabled
    }
    /// The most features one report may list.
    public static let maxFeatures = 500
    /// The versions a report may name (JSON's exact integers).
    public static let versions: ClosedRange<Int64> = 1...9_007_199_254_740_991

    /// `nil`: the car holds no manifest.
    public var manifestVersion: Int64?
    public var rootVersion: Int64?
    public var enabled: [FeatureCode]

    public init(manifestVersion: Int64?, rootVersion: Int64?, enabled: [FeatureCode]) {
        self.manifestVersion = manifestVersion
        self.rootVersion = rootVersion
        self.enabled = enabled
    }

    /// - Throws: ``EntitlementError`` (`field_missing`, `field_type`, `field_unknown`, `feature_invalid`, `request_invalid`).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        manifestVersion = try c.decodeIfPresent(Int64.self, forKey: .manifestVersion)
        rootVersion = try c.decodeIfPresent(Int64.self, forKey: .rootVersion)
        let codes = try c.decode([String].self, forKey: .enabled)
        if let version = manifestVersion, !VehicleStateRequest.versions.contains(version) {
            throw EntitlementError(.requestInvalid, "manifest_version is a version (1 to 2^53 − 1), or absent when the car holds no manifest")
        }
        if let version = rootVersion, !VehicleStateRequest.versions.contains(version) {
            throw EntitlementError(.requestInvalid, "root_version is a version (1 to 2^53 − 1)")
        }
        guard codes.count <= VehicleStateRequest.maxFeatures else {
            throw EntitlementError(.requestInvalid, "enabled lists at most \(VehicleStateRequest.maxFeatures) features")
        }
        var seen: Set<FeatureCode> = []
        enabled = try codes.map { text in
            let code = try FeatureCode(text)
            guard seen.insert(code).inserted else { throw EntitlementError(.requestInvalid, "enabled: \(code) appears twice") }
            return code
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        try c.encodeIfPresent(manifestVersion, forKey: .manifestVersion)
        try c.encodeIfPresent(rootVersion, forKey: .rootVersion)
        try c.encode(enabled, forKey: .enabled)
    }
}

/// The answer to a car's report: what it has beside what it was issued.
public struct VehicleStateResponse: Codable, Sendable, Hashable {
    public var vin: VIN
    public var reportedAt: String
    /// Reported: the manifest version the car holds (`null`: none).
    @Nullable public var manifestVersion: Int64?
    /// The newest manifest version issued for the car (`null`: none yet).
    @Nullable public var currentManifestVersion: Int64?
    /// The car holds an older manifest than the newest issued.
    public var manifestBehind: Bool
    /// Features with a live entitlement the car does not have enabled.
    public var missing: [FeatureCode]
    /// Features the car has enabled without a live entitlement.
    public var unexpected: [FeatureCode]
    /// Nothing missing, nothing unexpected, the newest manifest.
    public var inSync: Bool
    /// Whether this report raised a `vehicle.state_mismatch` event (the same mismatch as the car's
    /// previous report raises none).
    public var eventRaised: Bool

    enum CodingKeys: String, CodingKey {
        case vin
        case reportedAt = "reported_at"
        case manifestVersion = "manifest_version"
        case currentManifestVersion = "current_manifest_version"
        case manifestBehind = "manifest_behind"
        case missing, unexpected
        case inSync = "in_sync"
        case eventRaised = "event_raised"
    }

    public init(vin: VIN, reportedAt: String, manifestVersion: Int64?, currentManifestVersion: Int64?, manifestBehind: Bool,
                missing: [FeatureCode], unexpected: [FeatureCode], inSync: Bool, eventRaised: Bool) {
        self.vin = vin
        self.reportedAt = reportedAt
        self.manifestVersion = manifestVersion
        self.currentManifestVersion = currentManifestVersion
        self.manifestBehind = manifestBehind
        self.missing = missing
        self.unexpected = unexpected
        self.inSync = inSync
        self.eventRaised = eventRaised
    }
}
