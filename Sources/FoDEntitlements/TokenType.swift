/// The JWS `typ` values fod issues; each kind of token is verified only as its own kind.
public enum TokenType: String, Sendable, Hashable, CaseIterable {
    /// A single feature entitlement.
    case entitlement = "fod-entitlement+jwt"
    /// A vehicle manifest: everything active for one VIN, versioned against rollback.
    case manifest = "fod-manifest+jwt"
    /// Attested time: a nonce and the time, for a vehicle that cannot trust its own clock.
    case time = "fod-time+jwt"

    /// The scope name of a key that may sign this type, in root metadata.
    public var scopeName: String {
        switch self {
        case .entitlement: "entitlement"
        case .manifest: "manifest"
        case .time: "time"
        }
    }

    /// The type a scope name stands for.
    public init?(scopeName: String) {
        guard let type = TokenType.allCases.first(where: { $0.scopeName == scopeName }) else { return nil }
        self = type
    }

    /// Whether a header's `typ` names this type, compared as RFC 7515 §4.1.9 says: without regard
    /// to case, and with `application/` implied when the value has no `/`.
    public func matches(typ: String) -> Bool {
        TokenType.mediaType(typ) == TokenType.mediaType(rawValue)
    }

    /// A `typ` value as the full media type, lower case.
    static func mediaType(_ typ: String) -> String {
        let lower = typ.lowercased()
        return lower.contains("/") ? lower : "application/" + lower
    }
}
