import FoDCrypto

/// The keys a verifier trusts, looked up by `kid` only: there is no default key and no trying
/// every key.
public struct KeySet: Sendable {
    private var byID: [String: TrustedKey]

    /// A set of trusted keys; a key added twice is kept once.
    public init(_ keys: [TrustedKey]) {
        var byID: [String: TrustedKey] = [:]
        for key in keys { byID[key.keyID] = key }
        self.byID = byID
    }

    /// A set trusting `keys` without time limits.
    public init(publicKeys keys: [PublicKey]) {
        self.init(keys.map { TrustedKey($0) })
    }

    /// The key with this id, or `nil`.
    public func key(id: String) -> TrustedKey? { byID[id] }

    /// Every key, ordered by id.
    public var keys: [TrustedKey] { byID.values.sorted { $0.keyID < $1.keyID } }

    /// The number of keys.
    public var count: Int { byID.count }

    /// Adds or replaces a key.
    public mutating func insert(_ key: TrustedKey) { byID[key.keyID] = key }
}
