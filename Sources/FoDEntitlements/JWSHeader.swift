import FoDCrypto

/// A validated JWS protected header (verification step 3).
public struct JWSHeader: Sendable, Hashable {
    /// `alg`: only `ES256` and `EdDSA` get this far.
    public let algorithm: SigningAlgorithm
    /// `kid`.
    public let keyID: String?
    /// `typ`.
    public let type: String?

    init(algorithm: SigningAlgorithm, keyID: String?, type: String?) {
        self.algorithm = algorithm
        self.keyID = keyID
        self.type = type
    }

    /// The only members a header may have.
    static let allowedMembers: Set<String> = ["alg", "kid", "typ"]

    /// Parses and checks a header.
    /// - Parameters:
    ///   - expectedType: the `typ` the token must carry; `nil` accepts any or none (JWS-only checks).
    ///   - requireKeyID: whether `kid` must be present.
    /// - Throws: ``EntitlementError`` `header_malformed`, `header_crit`, `header_member_unknown`,
    ///   `alg_not_allowed`, `typ_mismatch` or `kid_missing`.
    public init(bytes: [UInt8], expectedType: TokenType?, requireKeyID: Bool) throws {
        let object: JSONObject
        do {
            guard case .object(let parsed) = try JSONParser.parse(bytes) else {
                throw EntitlementError(.headerMalformed, "the header is not a JSON object")
            }
            object = parsed
        } catch let error as EntitlementError where error.code == .jsonMalformed || error.code == .jsonDuplicateMember {
            throw EntitlementError(.headerMalformed, "the header is not valid JSON: \(error.reason)")
        }
        if object["crit"] != nil {
            throw EntitlementError(.headerCrit, "the header has \"crit\"; no extensions are understood")
        }
        for member in object.members where !JWSHeader.allowedMembers.contains(member.name) {
            throw EntitlementError(.headerMemberUnknown, "the header has \"\(member.name.prefix(40))\"; only alg, kid and typ are allowed")
        }
        guard let algValue = object["alg"] else { throw EntitlementError(.algNotAllowed, "the header has no \"alg\"") }
        guard case .string(let alg) = algValue, let algorithm = SigningAlgorithm(jwsName: alg) else {
            let shown = algValue.string.map { "\"\($0.prefix(20))\"" } ?? algValue.typeName
            let why = algValue.string == "none" ? "unsigned tokens are never accepted"
                : (algValue.string?.hasPrefix("HS") == true ? "HMAC is never accepted" : "only ES256 and EdDSA are accepted")
            throw EntitlementError(.algNotAllowed, "alg \(shown): \(why)")
        }
        self.algorithm = algorithm
        if let typValue = object["typ"] {
            guard case .string(let typ) = typValue else { throw EntitlementError(.typMismatch, "\"typ\" is not a string") }
            self.type = typ
        } else {
            self.type = nil
        }
        if let expectedType {
            guard let type, expectedType.matches(typ: type) else {
                throw EntitlementError(.typMismatch, "typ is \(type.map { "\"\($0.prefix(40))\"" } ?? "missing"); expected \"\(expectedType.rawValue)\"")
            }
        }
        if let kidValue = object["kid"] {
            guard case .string(let kid) = kidValue, !kid.isEmpty else {
                throw EntitlementError(.kidMissing, "\"kid\" is not a non-empty string")
            }
            self.keyID = kid
        } else if requireKeyID {
            throw EntitlementError(.kidMissing, "the header has no \"kid\"")
        } else {
            self.keyID = nil
        }
    }

    /// The base64url-encoded header fod writes: exactly `alg`, `kid`, `typ`.
    static func encoded(algorithm: SigningAlgorithm, keyID: String, type: TokenType) -> [UInt8] {
        var writer = JSONWriter(capacity: 128)
        writer.raw("{\"alg\":"); writer.string(algorithm.jwsName)
        writer.raw(",\"kid\":"); writer.string(keyID)
        writer.raw(",\"typ\":"); writer.string(type.rawValue)
        writer.raw("}")
        return Base64URL.encodeBytes(writer.bytes)
    }
}
