import FoDCore

/// What a vehicle trusts: the newest root metadata it has walked to from the one it pinned, and
/// from it the issuing keys that tokens, manifests and attested time are verified against
/// (docs/trust.md, "Accepting a root").
public struct TrustStore: Sendable {
    /// The newest trusted root.
    public private(set) var root: RootMetadata
    /// Every trusted version's document, oldest first (the pinned one first).
    public private(set) var chain: [SignedRoot]

    /// Pins `root` (root 1 at the factory, or a later version the vehicle was given by a trusted
    /// channel). It must be signed by its own threshold of its own root keys. Its expiry is not
    /// checked here: a vehicle built long ago walks on from an expired pinned root.
    /// - Throws: ``EntitlementError`` `root_threshold`.
    public init(pinned root: SignedRoot) throws {
        try TrustStore.checkSigned(root, by: root.metadata, "its own")
        self.root = root.metadata
        self.chain = [root]
    }

    /// Pins the first of `documents` and takes the others one by one, in the order given (so an
    /// older one after a newer is a rollback, not skipped).
    /// - Throws: ``EntitlementError`` as ``init(pinned:)`` and ``update(with:)``, `root_malformed`
    ///   when `documents` is empty.
    public init(walking documents: [SignedRoot]) throws {
        guard let first = documents.first else { throw EntitlementError(.rootMalformed, "no root metadata to pin") }
        try self.init(pinned: first)
        for next in documents.dropFirst() { try update(with: next) }
    }

    /// Accepts the next version on top of the trusted one. An expired version is accepted as a
    /// step; ``keySet(market:at:)`` refuses an expired newest root.
    /// - Throws: ``EntitlementError`` `issuer_mismatch`, `root_rollback`, `root_version_skipped`,
    ///   `root_threshold`.
    public mutating func update(with next: SignedRoot) throws {
        let new = next.metadata
        guard new.issuer == root.issuer else {
            throw EntitlementError(.issuerMismatch, "root version \(new.version) is issued by \"\(new.issuer.value.prefix(80))\", not \"\(root.issuer.value)\"")
        }
        guard new.version > root.version else {
            throw EntitlementError(.rootRollback, "root version \(new.version) is not newer than the trusted version \(root.version)")
        }
        guard new.version == root.version + 1 else {
            throw EntitlementError(.rootVersionSkipped, "root version \(new.version) skips version \(root.version + 1); versions are walked one by one")
        }
        try TrustStore.checkSigned(next, by: root, "the trusted version \(root.version)'s")
        try TrustStore.checkSigned(next, by: new, "its own")
        root = new
        chain.append(next)
    }

    /// Walks the given versions in order (a version already trusted is skipped), then checks the
    /// newest has not expired. Steps that verified are kept when a later one fails.
    /// - Throws: ``EntitlementError`` as ``update(with:)``, `root_expired`.
    public mutating func update(with versions: [SignedRoot], at now: Int64) throws {
        for next in versions.sorted(by: { $0.metadata.version < $1.metadata.version }) where next.metadata.version > root.version {
            try update(with: next)
        }
        try checkFresh(at: now)
    }

    /// The issuing keys of the newest root that vehicles of `market` trust (all when `nil`), each
    /// with its window and scope.
    /// - Throws: ``EntitlementError`` `root_expired` once the newest root's `exp` has passed.
    public func keySet(market: Market? = nil, at now: Int64) throws -> KeySet {
        try checkFresh(at: now)
        return root.keySet(market: market)
    }

    private func checkFresh(at now: Int64) throws {
        guard now < root.expiresAt else {
            throw EntitlementError(.rootExpired, "root version \(root.version) expired at \(root.expiresAt); it is now \(now): a newer root is needed")
        }
    }

    /// Checks that at least `signers.threshold` of `signers.rootKeys` signed `document`.
    private static func checkSigned(_ document: SignedRoot, by signers: RootMetadata, _ whose: String) throws {
        let valid = document.signers(among: signers.rootKeys)
        guard valid.count >= signers.threshold else {
            throw EntitlementError(.rootThreshold, "root version \(document.metadata.version) has \(valid.count) valid signature(s) of \(whose) root keys; \(signers.threshold) are needed")
        }
    }
}
