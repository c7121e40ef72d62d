import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDStore
import HTTPTypes
import Synchronization

/// The keys the service signs with and publishes, and the verifier for them.
///
/// Without root metadata: one key, signing everything, published alone. With it (`fod serve
/// --trust DIR --key …`): the issuing keys of the newest root the service has walked to from the
/// lowest version in DIR are published (also those not active yet, so vehicles learn a key before
/// it signs), and each token type is signed with the newest key — the latest `nbf` — that is in its
/// window now, may sign that type, and whose private key the service holds. A key becomes active
/// when its `nbf` passes, without a restart; a new root version is taken by ``update(with:)``.
public final class SigningKeys: Sendable {
    /// A key the service can sign with, as the root describes it.
    struct Signer: Sendable {
        let trusted: TrustedKey
        let issuer: Issuer
    }

    struct Snapshot: Sendable {
        let trust: TrustStore?
        let published: KeySet
        let signers: [Signer]
    }

    private let state: Mutex<Snapshot>
    private let privateKeys: [PrivateKey]
    /// The `iss` of everything signed.
    public let issuerID: IssuerID

    /// Whether every key in a PKCS#11 token can be reached now (reconnecting after a failure);
    /// keys in memory always can. `/readyz` fails while one cannot.
    public func tokensReachable() -> Bool { privateKeys.allSatisfy { $0.reach() } }
    private let clock: any WallClock

    /// One key for everything, published alone.
    public init(key: PrivateKey, issuer: IssuerID, clock: any WallClock) {
        let only = TrustedKey(key.publicKey)
        state = Mutex(Snapshot(trust: nil, published: KeySet([only]), signers: [Signer(trusted: only, issuer: Issuer(key: key, issuer: issuer, clock: clock))]))
        privateKeys = [key]
        issuerID = issuer
        self.clock = clock
    }

    /// The keys of root metadata: `roots` walked from the lowest version, signing with those of
    /// `keys` the newest root lists.
    /// - Throws: ``EntitlementError`` when the chain is not trusted (its code), `issuer_mismatch`
    ///   for a root of another issuer, `request_invalid` when no given key is an issuing key of
    ///   the newest root.
    public init(roots: [SignedRoot], keys: [PrivateKey], issuer: IssuerID, clock: any WallClock) throws {
        let ordered = roots.sorted { $0.metadata.version < $1.metadata.version }
        guard let first = ordered.first else { throw EntitlementError(.requestInvalid, "no root metadata given") }
        var trust = try TrustStore(pinned: first)
        try trust.update(with: Array(ordered.dropFirst()), at: clock.unixSeconds())
        guard trust.root.issuer == issuer else {
            throw EntitlementError(.issuerMismatch, "the roots are for \(trust.root.issuer), the service issues as \(issuer)")
        }
        privateKeys = keys
        issuerID = issuer
        self.clock = clock
        let snapshot = SigningKeys.snapshot(trust, keys: keys, issuer: issuer, clock: clock)
        guard !snapshot.signers.isEmpty else {
            throw EntitlementError(.requestInvalid, "none of the given keys is an issuing key of root version \(trust.root.version)")
        }
        state = Mutex(snapshot)
    }

    private static func snapshot(_ trust: TrustStore, keys: [PrivateKey], issuer: IssuerID, clock: any WallClock) -> Snapshot {
        let published = trust.root.keySet()
        var signers: [Signer] = []
        for key in trust.root.issuingKeys {
            guard let privateKey = keys.first(where: { $0.publicKey == key.publicKey }) else { continue }
            signers.append(Signer(trusted: key.trusted, issuer: Issuer(key: privateKey, keyID: key.keyID, issuer: issuer, clock: clock)))
        }
        return Snapshot(trust: trust, published: published, signers: signers)
    }

    /// Takes the versions after the trusted one among `roots` (each must follow the one before).
    /// - Returns: whether a newer version was taken.
    /// - Throws: ``EntitlementError`` for a version that is not trusted; the keys stay as they were.
    @discardableResult
    public func update(with roots: [SignedRoot]) throws -> Bool {
        let current = state.withLock { $0 }
        guard var trust = current.trust else { return false }
        let newer = roots.filter { $0.metadata.version > trust.root.version }
        guard !newer.isEmpty else { return false }
        try trust.update(with: newer, at: clock.unixSeconds())
        let next = SigningKeys.snapshot(trust, keys: privateKeys, issuer: issuerID, clock: clock)
        state.withLock { $0 = next }
        return true
    }

    /// The published keys (`/.well-known/jwks.json`, and what `POST /v1/verify` trusts).
    public var published: KeySet { state.withLock { $0.published } }

    /// The newest trusted root version, when the keys come from root metadata.
    public var rootVersion: Int64? { state.withLock { $0.trust?.root.version } }

    /// The newest trusted root version and its issuing keys, as recorded with its `keys.rotated` event.
    public var rootRecord: RootVersionRecord? {
        state.withLock { snapshot in
            snapshot.trust.map { trust in
                RootVersionRecord(version: trust.root.version, keys: trust.root.issuingKeys.map { key in
                    RootVersionRecord.Key(kid: key.keyID, scope: key.scope.map(\.scopeName),
                                          notBefore: Instant(unixSeconds: key.notBefore).rfc3339, notAfter: Instant(unixSeconds: key.notAfter).rfc3339)
                })
            }
        }
    }

    /// Root version `version`, as trusted (`/.well-known/fod/root/{N}.json`).
    public func root(version: Int64) -> SignedRoot? {
        state.withLock { $0.trust?.chain.first { $0.metadata.version == version } }
    }

    /// The issuer signing `type` now.
    /// - Throws: ``APIError`` 503 `no_signing_key` when no key the service holds may sign it now.
    public func requireSigner(for type: TokenType) throws -> Issuer {
        guard let issuer = signer(for: type) else {
            throw APIError(.serviceUnavailable, "no_signing_key", "no issuing key this service holds may sign \(type.rawValue) tokens now")
        }
        return issuer
    }

    /// The issuer signing `type` now: the newest active key of that scope the service holds.
    public func signer(for type: TokenType) -> Issuer? {
        let now = clock.unixSeconds()
        return state.withLock { snapshot in
            snapshot.signers
                .filter { $0.trusted.mayUse(for: type) && ($0.trusted.notBefore ?? .min) <= now && now < ($0.trusted.notAfter ?? .max) && !$0.trusted.revoked }
                .max { ($0.trusted.notBefore ?? .min) < ($1.trusted.notBefore ?? .min) }?.issuer
        }
    }
}
