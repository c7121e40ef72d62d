#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FoDCrypto

/// The keys a verifier trusts, looked up by `kid` only: there is no default key and no trying
/// every key.
public struct KeySet: Sendable {
    private var byID: [String: TrustedKey]
    /// The exact encoded header segments fod itself writes for each key and token type; a token
    /// whose header segment is byte-identical to one of them needs no decoding or parsing.
    private var knownHeaders: [KnownHeader]

    /// A header segment fod writes, with what it means.
    struct KnownHeader {
        let segment: [UInt8]
        let header: JWSHeader
        let key: TrustedKey
        let type: TokenType
    }

    /// A set of trusted keys; of two keys with one id, the later is kept.
    public init(_ keys: [TrustedKey]) {
        byID = [:]
        knownHeaders = []
        for key in keys { insert(key) }
    }

    /// A set of trusted keys, refusing two keys with one id.
    /// - Throws: ``EntitlementError`` `keyset_kid_duplicate`.
    public init(distinct keys: [TrustedKey]) throws {
        var seen: Set<String> = []
        for key in keys where !seen.insert(key.keyID).inserted {
            throw EntitlementError(.keySetKidDuplicate, "two keys have kid \"\(key.keyID.prefix(64))\"")
        }
        self.init(keys)
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
    public mutating func insert(_ key: TrustedKey) {
        byID[key.keyID] = key
        knownHeaders.removeAll { $0.key.keyID == key.keyID }
        let algorithm = key.publicKey.algorithm
        for type in TokenType.allCases where key.mayUse(for: type) {
            let header = JWSHeader(algorithm: algorithm, keyID: key.keyID, type: type.rawValue)
            knownHeaders.append(KnownHeader(segment: JWSHeader.encoded(algorithm: algorithm, keyID: key.keyID, type: type),
                                            header: header, key: key, type: type))
        }
    }

    /// The known header whose encoded segment is exactly `segment`, if any. A linear scan with
    /// `memcmp`: key sets are small, and hashing the segment costs more than comparing it.
    func knownHeader(_ segment: UnsafeRawBufferPointer) -> KnownHeader? {
        guard let base = segment.baseAddress else { return nil }
        for known in knownHeaders where known.segment.count == segment.count {
            let equal = known.segment.withUnsafeBytes { memcmp($0.baseAddress!, base, segment.count) == 0 }
            if equal { return known }
        }
        return nil
    }
}
