import FoDCrypto

extension KeySet {
    /// Reads a JWK Set (`{"keys":[…]}`) or a single JWK.
    ///
    /// Each key must be P-256 or Ed25519; its `kid` is any string of 1–256 printable ASCII
    /// characters (RFC 7517: an HSM or a KMS names its own keys), the RFC 7638 thumbprint when
    /// absent; `alg` must match the key; a private member (`d`) is refused, since a key set is
    /// published. Other registered members (`use`, `key_ops`, `x5c`, …) are ignored.
    /// - Throws: ``EntitlementError`` `keyset_invalid`, `keyset_kid_duplicate`.
    public init(jwksJSON text: String) throws {
        let root: JSONValue
        do { root = try JSONParser.parse(text) } catch let error as EntitlementError {
            throw EntitlementError(.keySetInvalid, "the key set is not valid JSON: \(error.reason)")
        }
        guard case .object(let object) = root else { throw EntitlementError(.keySetInvalid, "a JWK Set is a JSON object") }
        var jwks: [JSONObject] = []
        if let keys = object["keys"] {
            guard case .array(let elements) = keys else { throw EntitlementError(.keySetInvalid, "\"keys\" is not an array") }
            for (index, element) in elements.enumerated() {
                guard case .object(let jwk) = element else { throw EntitlementError(.keySetInvalid, "key \(index) is not an object") }
                jwks.append(jwk)
            }
        } else {
            jwks = [object]
        }
        var trusted: [TrustedKey] = []
        for (index, object) in jwks.enumerated() {
            let jwk = try KeySet.jwk(from: object, index: index)
            guard jwk.d == nil else {
                throw EntitlementError(.keySetInvalid, "key \(index) carries a private key ('d'); publish public keys only")
            }
            trusted.append(TrustedKey(try KeySet.publicKey(jwk, index: index), keyID: jwk.kid))
        }
        try self.init(distinct: trusted)
    }

    /// The set as a JWK Set document with `kid`, `alg` and `use` on every key.
    /// - Throws: ``EntitlementError`` `keyset_invalid` if a key cannot be exported.
    public func jwksJSON(indent: Int = 2) throws -> String {
        var keys: [JSONValue] = []
        for trusted in self.keys {
            do {
                var jwk = try trusted.publicKey.jwk()
                jwk.kid = trusted.keyID
                keys.append(.object(KeySet.object(from: jwk)))
            } catch {
                throw EntitlementError(.keySetInvalid, "cannot export key \(trusted.keyID): \(error)")
            }
        }
        return JSONWriter.text(.object(JSONObject(members: [.init(name: "keys", value: .array(keys))])), indent: indent)
    }

    /// The public key of a JWK, checking its `kid` is a valid key id.
    /// - Throws: ``EntitlementError`` `keyset_invalid`.
    static func publicKey(_ jwk: JWK, index: Int) throws -> PublicKey {
        if let kid = jwk.kid, !TrustedKey.isValidKeyID(kid) {
            throw EntitlementError(.keySetInvalid, "key \(index): kid is not 1 to 256 printable ASCII characters")
        }
        do { return try PublicKey(jwk: jwk) } catch {
            throw EntitlementError(.keySetInvalid, "key \(index): \(error)")
        }
    }

    /// Reads the members of a JWK object.
    /// - Throws: ``EntitlementError`` `keyset_invalid`.
    public static func jwk(from object: JSONObject, index: Int = 0) throws -> JWK {
        func member(_ name: String) throws -> String? {
            guard let value = object[name] else { return nil }
            guard case .string(let text) = value else { throw EntitlementError(.keySetInvalid, "key \(index): \"\(name)\" is not a string") }
            return text
        }
        guard let kty = try member("kty"), let crv = try member("crv"), let x = try member("x") else {
            throw EntitlementError(.keySetInvalid, "key \(index) lacks kty, crv or x")
        }
        return JWK(kty: kty, crv: crv, x: x, y: try member("y"), d: try member("d"),
                   kid: try member("kid"), alg: try member("alg"), use: try member("use"))
    }

    /// A JWK as a JSON object, members in RFC order.
    public static func object(from jwk: JWK) -> JSONObject {
        var members: [JSONObject.Member] = [.init(name: "kty", value: .string(jwk.kty)), .init(name: "crv", value: .string(jwk.crv)),
                                            .init(name: "x", value: .string(jwk.x))]
        if let y = jwk.y { members.append(.init(name: "y", value: .string(y))) }
        if let d = jwk.d { members.append(.init(name: "d", value: .string(d))) }
        if let kid = jwk.kid { members.append(.init(name: "kid", value: .string(kid))) }
        if let alg = jwk.alg { members.append(.init(name: "alg", value: .string(alg))) }
        if let use = jwk.use { members.append(.init(name: "use", value: .string(use))) }
        return JSONObject(members: members)
    }
}
