/// The one error type of `FoDCrypto`.
///
/// Equatable by ``code`` only, so tests and callers match on the stable code while the
/// ``reason`` stays free to carry detail (including the drained OpenSSL error queue).
public struct CryptoError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, machine-readable error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code as it appears in logs, CLI output and problem documents.
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// OpenSSL reported a failure in an operation that should not fail on valid input.
        public static let openSSL = Code("crypto_openssl")
        /// Key material could not be parsed (PEM, DER, JWK members).
        public static let keyMalformed = Code("key_malformed")
        /// The key is of a type or curve fod does not use (only P-256 and Ed25519 are accepted).
        public static let keyUnsupported = Code("key_unsupported")
        /// A private key's public half does not match it.
        public static let keyMismatch = Code("key_mismatch")
        /// A private key file is readable by group or others.
        public static let keyFilePermissions = Code("key_file_permissions")
        /// A key file could not be read or written.
        public static let keyFileIO = Code("key_file_io")
        /// The signature has the wrong length or encoding for the algorithm.
        public static let signatureMalformed = Code("signature_malformed")
        /// The signature does not verify.
        public static let signatureInvalid = Code("signature_invalid")
        /// Bytes are not canonical unpadded base64url.
        public static let base64Malformed = Code("base64_malformed")
        /// A JWK is malformed or inconsistent.
        public static let jwkMalformed = Code("jwk_malformed")
    }

    /// The stable code.
    public let code: Code
    /// A human-readable explanation. Never contains key material.
    public let reason: String

    /// Creates an error with a code and a reason.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code.rawValue): \(reason)" }

    public static func == (lhs: CryptoError, rhs: CryptoError) -> Bool { lhs.code == rhs.code }
}
