/// A JSON Web Key (RFC 7517) for the two key types fod uses, as plain values.
///
/// `FoDCrypto` converts between keys and this value; reading and writing JWK JSON is done
/// by the layer above, which owns the JSON codec. Coordinates are base64url text.
public struct JWK: Sendable, Hashable {
    /// `EC` for P-256, `OKP` for Ed25519.
    public var kty: String
    /// `P-256` or `Ed25519`.
    public var crv: String
    /// The x coordinate (EC) or the public key (OKP), base64url.
    public var x: String
    /// The y coordinate (EC only), base64url.
    public var y: String?
    /// The private scalar or seed, base64url; `nil` for public keys.
    public var d: String?
    /// The key id, if the JWK carries one.
    public var kid: String?
    /// The algorithm the key is for (`ES256` or `EdDSA`), if stated.
    public var alg: String?
    /// The intended use; fod publishes `sig`.
    public var use: String?

    /// Creates a JWK from its members.
    public init(kty: String, crv: String, x: String, y: String? = nil, d: String? = nil,
                kid: String? = nil, alg: String? = nil, use: String? = nil) {
        self.kty = kty
        self.crv = crv
        self.x = x
        self.y = y
        self.d = d
        self.kid = kid
        self.alg = alg
        self.use = use
    }

    /// The same key without its private member.
    public var publicOnly: JWK {
        var copy = self
        copy.d = nil
        return copy
    }

    /// The RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order,
    /// base64url. fod uses it as the key id.
    public var thumbprint: String {
        // Every member value here is base64url or a fixed name, so no JSON escaping is needed.
        let canonical: String
        if kty == "EC" {
            canonical = #"{"crv":"\#(crv)","kty":"EC","x":"\#(x)","y":"\#(y ?? "")"}"#
        } else {
            canonical = #"{"crv":"\#(crv)","kty":"\#(kty)","x":"\#(x)"}"#
        }
        return Base64URL.encode(SHA256.hash(Array(canonical.utf8)))
    }
}
