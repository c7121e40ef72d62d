import FoDCore

/// The one error type of `FoDVehicle` for what is the vehicle library's own: its stored state and
/// its answers. A refusal of a root, a time, a manifest or a token is an `EntitlementError`
/// (the codes of `fod verify`), passed through unchanged.
public struct VehicleError: CodedError {
    /// This module's codes.
    public typealias Code = ErrorCode<VehicleError>
    /// The stable code.
    public let code: Code
    /// A human-readable explanation.
    public let reason: String

    /// Creates an error with a code and a reason.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }
}

extension ErrorCode where Domain == VehicleError {
    /// The stored state ends early: a torn write (the bytes written so far are a prefix).
    public static let stateTruncated = ErrorCode("state_truncated")
    /// The stored state's checksum does not match its bytes: corrupted where it was kept.
    public static let stateCorrupt = ErrorCode("state_corrupt")
    /// The bytes are not a vehicle state at all (wrong magic, trailing bytes, unreadable content).
    public static let stateMalformed = ErrorCode("state_malformed")
    /// The state was written in a format version this library does not read.
    public static let stateVersionUnsupported = ErrorCode("state_version_unsupported")
    /// No entitlement the vehicle holds is for the feature asked about.
    public static let featureNotEntitled = ErrorCode("feature_not_entitled")
    /// A call's argument is missing or invalid (a null pointer, a malformed VIN or feature code).
    public static let argumentInvalid = ErrorCode("argument_invalid")
    /// The caller's buffer is too small for the answer; the size needed is returned.
    public static let bufferTooSmall = ErrorCode("buffer_too_small")
}
