import FoDCrypto

extension KeySet {
    /// Reads a JWK Set (`{"keys":[…]}`) or a single JWK.
    ///
    /// Each key must be P-256 or Ed25519; a `kid`, when present, must be the key's RFC 7638
    /// thumbprint; `alg` must match the key; a private member (`d`) is refused, since a key set
    /// is published. Other registered members (`use`, `key_ops`, `x5c`, …) are ignored.
    /// - Throws: ``EntitlementError`` `keyset_invalid`.
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
            let key: PublicKey
            do { key = try PublicKey(jwk: jwk) } catch {
                throw EntitlementError(.keySetInvalid, "key \(index): \(error)")
            }
            if let kid = jwk.kid, kid != key.thumbprint {
                throw EntitlementError(.keySetInvalid, "key \(index): kid \"\(kid.prefix(60))\" is not the key's RFC 7638 thumbprint \(key.thumbprint)")
            }
            trusted.append(TrustedKey(key))
        }
        self.init(trusted)
    }

    /// The set as a JWK Set document with `kid`, `alg` and `use` on every key.
    /// - Throws: ``EntitlementError`` `keyset_invalid` if a key cannot be exported.
    public func jwksJSON(indent: Int = 2) throws -> String {
        var keys: [JSONValue] = []
        for trusted in self.keys {
            do { keys.append(.object(KeySet.object(from: try trusted.publicKey.jwk()))) } catch {
                throw EntitlementError(.keySetInvalid, "cannot export key \(trusted.keyID): \(error)")
            }
        }
        return JSONWriter.text(.object(JSONObject(members: [.init(name: "keys", value: .array(keys))])), indent: indent)
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
