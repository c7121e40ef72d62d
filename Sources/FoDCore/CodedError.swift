/// A stable, machine-readable error code, typed by the error it belongs to so that one module's
/// codes cannot be used for another's error.
public struct ErrorCode<Domain>: Hashable, Sendable, CustomStringConvertible {
    /// The code as it appears in CLI output, logs, reject files and problem documents.
    public let rawValue: String
    /// A code.
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public var description: String { rawValue }
}

/// What every fod error is: a stable code and a human reason, equal by code only, so callers and
/// tests match on the code while the reason stays free to carry detail. Each module has one such
/// type (`CryptoError`, `EntitlementError`, `RevenueError`, `StoreError`, `APIError`); it lives in
/// `FoDCore`, below the crypto module, so a module needs no cryptography to have an error type.
public protocol CodedError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The type the codes belong to.
    associatedtype Domain
    /// The stable code.
    var code: ErrorCode<Domain> { get }
    /// A human-readable explanation; never contains secrets or key material.
    var reason: String { get }
}

extension CodedError {
    /// The code's text, whatever the error type.
    public var codeName: String { code.rawValue }

    public var description: String { "\(code.rawValue): \(reason)" }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
}
