import FoundationEssentials

/// Where a private signing key is: a PEM file (mode 0600), or a PKCS#11 token named by an RFC 7512
/// URI, as `--key` gives it (`keys/issuing.private.pem`, `pkcs11:token=fod;object=issuing-2027`).
public enum KeyLocation: Sendable, Hashable, CustomStringConvertible {
    /// A PEM file holding the private key.
    case file(String)
    /// A key in a PKCS#11 token, which never leaves it.
    case pkcs11(PKCS11URI)

    /// Reads a `--key` argument: a `pkcs11:` URI, or else a file path.
    /// - Throws: ``CryptoError`` `pkcs11_uri_malformed` or `pkcs11_uri_unsupported` for a bad URI.
    public init(_ text: String) throws {
        if text.hasPrefix("pkcs11:") {
            self = .pkcs11(try PKCS11URI(text))
        } else {
            self = .file(text)
        }
    }

    /// Opens the key.
    /// - Throws: ``CryptoError`` from ``KeyFile/readPrivateKey(at:)`` or ``PrivateKey/init(pkcs11:environment:)``.
    public func load(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PrivateKey {
        switch self {
        case .file(let path): try KeyFile.readPrivateKey(at: path)
        case .pkcs11(let uri): try PrivateKey(pkcs11: uri, environment: environment)
        }
    }

    /// The file path, or the URI without its PIN.
    public var description: String {
        switch self {
        case .file(let path): path
        case .pkcs11(let uri): uri.description
        }
    }
}
