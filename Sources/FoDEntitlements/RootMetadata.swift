import FoDCore
import FoDCrypto

/// The claims of root metadata (`typ: fod-root+json`, docs/trust.md): who may sign the next
/// version (the root keys and their threshold) and which issuing keys vehicles trust, each with
/// what it may sign and when.
public struct RootMetadata: Sendable {
    /// `iss`: the issuer, the same in every version.
    public var issuer: IssuerID
    /// `ver`: 1, 2, 3, … — one more with every change.
    public var version: Int64
    /// `iat`.
    public var issuedAt: Int64
    /// `exp`: until when this version may be the newest one a vehicle trusts.
    public var expiresAt: Int64
    /// How many of ``rootKeys`` must sign this version (and, of the next version, how many of these).
    public var threshold: Int
    /// The root keys (offline, one per holder).
    public var rootKeys: [TrustedKey]
    /// The issuing keys (online).
    public var issuingKeys: [IssuingKey]

    /// Root metadata; ``validate()`` checks it.
    public init(issuer: IssuerID, version: Int64, issuedAt: Int64, expiresAt: Int64, threshold: Int, rootKeys: [TrustedKey],
                issuingKeys: [IssuingKey]) {
        self.issuer = issuer
        self.version = version
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.threshold = threshold
        self.rootKeys = rootKeys
        self.issuingKeys = issuingKeys
    }

    /// The longest root document accepted, in bytes.
    public static let maxLength = 64 * 1024

    /// Checks the rules every version must meet.
    /// - Throws: ``EntitlementError`` `root_malformed` (version below 1, `exp` not after `iat`,
    ///   no root key, a threshold outside 1…n, a key id twice, a key both root and issuing key,
    ///   an issuing key without scope or with an empty window), `keyset_kid_duplicate`.
    public func validate() throws {
        func fail(_ reason: String) -> EntitlementError { EntitlementError(.rootMalformed, reason) }
        guard version >= 1 else { throw fail("ver must be 1 or more") }
        guard NumericDate.range.contains(issuedAt), NumericDate.range.contains(expiresAt), expiresAt > issuedAt else {
            throw fail("exp must be after iat, both within 1970-01-01 to 9999-12-31")
        }
        guard !rootKeys.isEmpty else { throw fail("there is no root key") }
        guard threshold >= 1, threshold <= rootKeys.count else {
            throw fail("threshold \(threshold) is not between 1 and the number of root keys (\(rootKeys.count))")
        }
        let rootKeyPrints = Set(rootKeys.map(\.publicKey.thumbprint))
        guard rootKeyPrints.count == rootKeys.count else { throw fail("a root key is listed twice") }
        for key in issuingKeys {
            if rootKeyPrints.contains(key.trusted.publicKey.thumbprint) {
                throw fail("key \(key.keyID) is both a root key and an issuing key")
            }
            guard !key.scope.isEmpty else { throw fail("issuing key \(key.keyID) has no scope") }
            guard key.notAfter > key.notBefore else { throw fail("issuing key \(key.keyID): exp is not after nbf") }
        }
        _ = try KeySet(distinct: rootKeys + issuingKeys.map(\.trusted))
    }

    /// The issuing keys as the verifier trusts them: with window and scope, and only those
    /// covering `market` (every key when `nil`).
    public func keySet(market: Market? = nil) -> KeySet {
        KeySet(issuingKeys.filter { key in market.map { key.covers($0) } ?? true }.map(\.trusted))
    }
}

/// An issuing key in root metadata.
public struct IssuingKey: Sendable {
    /// The key with its id, window and scope, as the verifier uses it.
    public let trusted: TrustedKey
    /// The markets whose vehicles trust it; `nil`: every market.
    public let markets: [Market]?

    /// An issuing key valid from `notBefore` until `notAfter` for `scope`.
    public init(_ publicKey: PublicKey, keyID: String? = nil, scope: Set<TokenType>, notBefore: Int64, notAfter: Int64, markets: [Market]? = nil) {
        trusted = TrustedKey(publicKey, keyID: keyID, notBefore: notBefore, notAfter: notAfter, scope: scope)
        self.markets = markets
    }

    public var keyID: String { trusted.keyID }
    public var publicKey: PublicKey { trusted.publicKey }
    public var scope: Set<TokenType> { trusted.scope ?? [] }
    public var notBefore: Int64 { trusted.notBefore ?? 0 }
    public var notAfter: Int64 { trusted.notAfter ?? 0 }

    /// Whether vehicles of `market` trust the key.
    public func covers(_ market: Market) -> Bool { markets?.contains(market) ?? true }
}

// MARK: JSON

extension RootMetadata {
    /// The claims as JSON bytes, members in a fixed order.
    /// - Throws: ``EntitlementError`` `root_malformed` if a key cannot be exported.
    public func jsonBytes() throws -> [UInt8] {
        func key(_ trusted: TrustedKey) throws -> JSONValue {
            do {
                var jwk = try trusted.publicKey.jwk()
                jwk.kid = trusted.keyID
                return .object(KeySet.object(from: jwk))
            } catch {
                throw EntitlementError(.rootMalformed, "cannot export key \(trusted.keyID): \(error)")
            }
        }
        var issuing: [JSONValue] = []
        for entry in issuingKeys {
            var members: [JSONObject.Member] = [
                .init(name: "jwk", value: try key(entry.trusted)),
                .init(name: "scope", value: .array(TokenType.allCases.filter { entry.scope.contains($0) }.map { .string($0.scopeName) })),
                .init(name: "nbf", value: .number(String(entry.notBefore))),
                .init(name: "exp", value: .number(String(entry.notAfter))),
            ]
            if let markets = entry.markets { members.append(.init(name: "markets", value: .array(markets.map { .string($0.code) }))) }
            issuing.append(.object(JSONObject(members: members)))
        }
        let object = JSONObject(members: [
            .init(name: "iss", value: .string(issuer.value)),
            .init(name: "ver", value: .number(String(version))),
            .init(name: "iat", value: .number(String(issuedAt))),
            .init(name: "exp", value: .number(String(expiresAt))),
            .init(name: "threshold", value: .number(String(threshold))),
            .init(name: "root_keys", value: .array(try rootKeys.map(key))),
            .init(name: "issuing_keys", value: .array(issuing)),
        ])
        var writer = JSONWriter(capacity: 2048)
        writer.value(.object(object))
        return writer.bytes
    }

    /// Reads and validates the claims.
    /// - Throws: ``EntitlementError`` `root_malformed`, `issuer_invalid`, `keyset_kid_duplicate`.
    public init(jsonBytes bytes: [UInt8]) throws {
        func fail(_ reason: String) -> EntitlementError { EntitlementError(.rootMalformed, reason) }
        let object: JSONObject
        do {
            guard case .object(let parsed) = try JSONParser.parse(bytes) else { throw fail("the claims are not a JSON object") }
            object = parsed
        } catch let error as EntitlementError where error.code == .jsonMalformed || error.code == .jsonDuplicateMember {
            throw fail("the claims are not valid JSON: \(error.reason)")
        }
        try RootMetadata.only(["iss", "ver", "iat", "exp", "threshold", "root_keys", "issuing_keys"], in: object, "the claims")
        func integer(_ name: String, in object: JSONObject, _ what: String) throws -> Int64 {
            guard let value = object[name] else { throw fail("\(what) lack \"\(name)\"") }
            guard let number = value.int64 else { throw fail("\(what): \"\(name)\" is not an integer") }
            return number
        }
        func array(_ name: String, in object: JSONObject, _ what: String) throws -> [JSONValue] {
            guard let value = object[name] else { throw fail("\(what) lack \"\(name)\"") }
            guard let elements = value.elements else { throw fail("\(what): \"\(name)\" is not an array") }
            return elements
        }
        guard let iss = object["iss"]?.string else { throw fail("the claims lack \"iss\" as a string") }
        let issuer = try IssuerID(iss)
        let threshold = try integer("threshold", in: object, "the claims")
        guard threshold >= 1, threshold <= 1_000 else { throw fail("threshold \(threshold) is out of range") }
        var rootKeys: [TrustedKey] = []
        for (index, element) in try array("root_keys", in: object, "the claims").enumerated() {
            rootKeys.append(try RootMetadata.key(element, "root key \(index)"))
        }
        var issuingKeys: [IssuingKey] = []
        for (index, element) in try array("issuing_keys", in: object, "the claims").enumerated() {
            let what = "issuing key \(index)"
            guard case .object(let entry) = element else { throw fail("\(what) is not an object") }
            try RootMetadata.only(["jwk", "scope", "nbf", "exp", "markets"], in: entry, what)
            guard let jwk = entry["jwk"] else { throw fail("\(what) lacks \"jwk\"") }
            let trusted = try RootMetadata.key(jwk, what)
            var scope: Set<TokenType> = []
            for name in try array("scope", in: entry, what) {
                guard let text = name.string, let type = TokenType(scopeName: text) else {
                    throw fail("\(what): a scope is one of entitlement, manifest, time")
                }
                guard scope.insert(type).inserted else { throw fail("\(what): scope \(text) is listed twice") }
            }
            var markets: [Market]?
            if entry["markets"] != nil {
                markets = []
                for name in try array("markets", in: entry, what) {
                    guard let text = name.string, let market = try? Market(text) else { throw fail("\(what): a market is a two-letter code") }
                    markets?.append(market)
                }
            }
            issuingKeys.append(IssuingKey(trusted.publicKey, keyID: trusted.keyID, scope: scope, notBefore: try integer("nbf", in: entry, what),
                                          notAfter: try integer("exp", in: entry, what), markets: markets))
        }
        self.init(issuer: issuer, version: try integer("ver", in: object, "the claims"), issuedAt: try integer("iat", in: object, "the claims"),
                  expiresAt: try integer("exp", in: object, "the claims"), threshold: Int(threshold), rootKeys: rootKeys, issuingKeys: issuingKeys)
        try validate()
    }

    /// Refuses members outside `names`.
    private static func only(_ names: Set<String>, in object: JSONObject, _ what: String) throws {
        for member in object.members where !names.contains(member.name) {
            throw EntitlementError(.rootMalformed, "\(what) have an unknown member \"\(member.name.prefix(40))\"")
        }
    }

    /// A public JWK with `kid` and `alg` (`use`, if present, `sig`).
    private static func key(_ value: JSONValue, _ what: String) throws -> TrustedKey {
        func fail(_ reason: String) -> EntitlementError { EntitlementError(.rootMalformed, "\(what): \(reason)") }
        guard case .object(let object) = value else { throw fail("not a JWK object") }
        try only(["kty", "crv", "x", "y", "kid", "alg", "use"], in: object, what)
        let jwk: JWK
        let key: PublicKey
        do {
            jwk = try KeySet.jwk(from: object)
            key = try KeySet.publicKey(jwk, index: 0)
        } catch let error as EntitlementError {
            throw fail(error.reason)
        }
        guard jwk.d == nil else { throw fail("carries a private key") }
        guard let kid = jwk.kid else { throw fail("has no kid") }
        guard jwk.alg == key.algorithm.jwsName else { throw fail("alg must be \(key.algorithm.jwsName)") }
        guard jwk.use == nil || jwk.use == "sig" else { throw fail("use must be sig") }
        return TrustedKey(key, keyID: kid)
    }
}
