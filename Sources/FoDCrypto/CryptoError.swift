import FoDCore

/// The one error type of `FoDCrypto`.
///
/// Equatable by ``code`` only, so tests and callers match on the stable code while the
/// ``reason`` stays free to carry detail (including the drained OpenSSL error queue).
public struct CryptoError: CodedError {
    /// This module's codes (listed in the extension of ``ErrorCode`` below).
    public typealias Code = ErrorCode<CryptoError>

    /// The stable code.
    public let code: Code
    /// A human-readable explanation. Never contains key material.
    public let reason: String

    /// Creates an error with a code and a reason.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }
}

extension ErrorCode where Domain == CryptoError {
    /// OpenSSL reported a failure in an operation that should not fail on valid input.
    public static let openSSL = ErrorCode("crypto_openssl")
    /// Key material could not be parsed (PEM, DER, JWK members).
    public static let keyMalformed = ErrorCode("key_malformed")
    /// The key is of a type or curve fod does not use (only P-256 and Ed25519 are accepted).
    public static let keyUnsupported = ErrorCode("key_unsupported")
    /// A private key's public half does not match it.
    public static let keyMismatch = ErrorCode("key_mismatch")
    /// A private key file is readable by group or others.
    public static let keyFilePermissions = ErrorCode("key_file_permissions")
    /// A key file could not be read or written.
    public static let keyFileIO = ErrorCode("key_file_io")
    /// The signature has the wrong length or encoding for the algorithm.
    public static let signatureMalformed = ErrorCode("signature_malformed")
    /// The signature does not verify.
    public static let signatureInvalid = ErrorCode("signature_invalid")
    /// Bytes are not canonical unpadded base64url.
    public static let base64Malformed = ErrorCode("base64_malformed")
    /// A JWK is malformed or inconsistent.
    public static let jwkMalformed = ErrorCode("jwk_malformed")
    /// A PKCS#11 URI (RFC 7512) is not well formed, or does not name one private key.
    public static let pkcs11URIMalformed = ErrorCode("pkcs11_uri_malformed")
    /// A PKCS#11 URI uses an attribute the PKCS#11 engine cannot select keys by.
    public static let pkcs11URIUnsupported = ErrorCode("pkcs11_uri_unsupported")
    /// OpenSSL's PKCS#11 engine or the PKCS#11 module cannot be loaded or started.
    public static let pkcs11Unavailable = ErrorCode("pkcs11_unavailable")
    /// The token has no such private key, refused the PIN, or holds no public key beside it.
    public static let pkcs11KeyUnavailable = ErrorCode("pkcs11_key_unavailable")
    /// The private key is in a token and cannot be exported (PEM, private JWK).
    public static let keyNotExportable = ErrorCode("key_not_exportable")
    /// The token did not sign: it went away, or its module failed; the next signature tries to reach it again.
    public static let pkcs11TokenUnavailable = ErrorCode("pkcs11_token_unavailable")
}
