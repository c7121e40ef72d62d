/// The signature algorithms fod uses, named as in JWS (RFC 7518, RFC 8037).
public enum SigningAlgorithm: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// ECDSA on P-256 with SHA-256; signatures are raw `r‖s`, 64 bytes.
    case es256 = "ES256"
    /// Ed25519 (PureEdDSA); signatures are 64 bytes.
    case edDSA = "EdDSA"

    /// The JWS `alg` value.
    public var jwsName: String { rawValue }

    /// Length in bytes of a signature in JWS form.
    public var signatureLength: Int { 64 }

    public var description: String { rawValue }

    /// Parses a JWS `alg` value; `nil` for anything fod does not accept.
    public init?(jwsName: String) {
        self.init(rawValue: jwsName)
    }
}
