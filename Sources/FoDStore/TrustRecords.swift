import Foundation

/// A root metadata version the service took (`fod serve --trust`): its number and issuing keys,
/// recorded once per version however many instances take it, with a `keys.rotated` event.
public struct RootVersionRecord: Sendable, Hashable {
    /// One issuing key of the version: no key material, only what a subscriber needs to follow a rotation.
    public struct Key: Sendable, Hashable, Codable {
        public let kid: String
        /// Token types it signs (`scope` of the root metadata).
        public let scope: [String]
        /// RFC 3339 UTC.
        public let notBefore: String
        public let notAfter: String

        public init(kid: String, scope: [String], notBefore: String, notAfter: String) {
            self.kid = kid
            self.scope = scope.sorted()
            self.notBefore = notBefore
            self.notAfter = notAfter
        }

        enum CodingKeys: String, CodingKey { case kid, scope, notBefore = "not_before", notAfter = "not_after" }
    }

    public let version: Int64
    public let keys: [Key]

    public init(version: Int64, keys: [Key]) {
        self.version = version
        self.keys = keys
    }

    /// The keys as stored (`trust_root.keys`) and shown in the event: a JSON array, sorted keys.
    public var keysJSON: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(keys)) ?? Data("[]".utf8), as: UTF8.self)
    }

    /// The audit entry's details.
    public var auditDetails: String { "keys=" + keys.map(\.kid).joined(separator: ",") }
}
