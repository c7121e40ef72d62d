/// `GET /v1/vehicles/{vin}/manifest`: the signed manifest and its version.
public struct ManifestResponse: Codable, Sendable, Hashable {
    public var version: Int64
    /// Compact JWS, `typ` `fod-manifest+jwt`.
    public var manifest: String

    public init(version: Int64, manifest: String) {
        self.version = version
        self.manifest = manifest
    }
}
