/// The one error type of `FoDStore`.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable, machine-readable code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code as it appears in problem documents and the CLI.
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The database could not be opened, migrated, read or written.
        public static let database = Code("store_database")
        /// No such record.
        public static let notFound = Code("not_found")
        /// A record with this key exists.
        public static let conflict = Code("conflict")
        /// The same idempotency key was used with a different request.
        public static let idempotencyMismatch = Code("idempotency_key_reused")
        /// The audit chain is broken at a row (changed, inserted or deleted).
        public static let auditBroken = Code("audit_chain_broken")
        /// Input to the store is invalid (a fixture file, a role).
        public static let invalid = Code("invalid")
    }

    /// The stable code.
    public let code: Code
    /// What happened; never contains secrets.
    public let reason: String

    /// Creates an error.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code.rawValue): \(reason)" }

    public static func == (lhs: StoreError, rhs: StoreError) -> Bool { lhs.code == rhs.code }
}
