/// The claims of an attested-time token (`typ: fod-time+jwt`, docs/trust.md): the issuer, the
/// time, and the vehicle's nonce — exactly these three, so that a time token is never mistaken
/// for anything else.
public struct TimeClaims: Sendable, Equatable {
    /// `iss`.
    public let issuer: IssuerID
    /// `iat`: the attested time, Unix seconds.
    public let time: Int64
    /// `nonce`: the vehicle's fresh random value, so an old answer cannot be replayed to it.
    public let nonce: String

    /// Attested-time claims.
    /// - Throws: ``EntitlementError`` `nonce_invalid`.
    public init(issuer: IssuerID, time: Int64, nonce: String) throws {
        try TimeClaims.checkNonce(nonce)
        self.issuer = issuer
        self.time = time
        self.nonce = nonce
    }

    /// A nonce is 16 to 128 characters of the base64url alphabet (at least 96 random bits).
    /// - Throws: ``EntitlementError`` `nonce_invalid`.
    public static func checkNonce(_ nonce: String) throws {
        let bytes = nonce.utf8
        guard (16...128).contains(bytes.count), bytes.allSatisfy({ Base64URLAlphabet.contains($0) }) else {
            throw EntitlementError(.nonceInvalid, "a nonce is 16 to 128 characters of A-Z a-z 0-9 - _")
        }
    }

    /// The claims as JSON bytes: `iss`, `iat`, `nonce`.
    func jsonBytes() -> [UInt8] {
        var writer = JSONWriter(capacity: 128)
        writer.raw("{\"iss\":"); writer.string(issuer.value)
        writer.raw(",\"iat\":"); writer.int(time)
        writer.raw(",\"nonce\":"); writer.string(nonce)
        writer.raw("}")
        return writer.bytes
    }

    /// Reads the claims strictly.
    /// - Throws: ``EntitlementError`` `claim_unknown`, `claim_missing`, `claim_type`, `nonce_invalid`, `issuer_invalid`.
    init(json object: JSONObject) throws {
        for member in object.members where !["iss", "iat", "nonce"].contains(member.name) {
            throw EntitlementError(.claimUnknown, "a time token has only iss, iat and nonce, not \"\(member.name.prefix(40))\"")
        }
        guard let iss = object["iss"], let iat = object["iat"], let nonce = object["nonce"] else {
            throw EntitlementError(.claimMissing, "a time token needs iss, iat and nonce")
        }
        guard let issuer = iss.string, let time = iat.int64, NumericDate.range.contains(time), let text = nonce.string else {
            throw EntitlementError(.claimType, "iss and nonce are strings, iat an integer date")
        }
        try self.init(issuer: try IssuerID(issuer), time: time, nonce: text)
    }
}

/// The bytes of the base64url alphabet.
enum Base64URLAlphabet {
    static func contains(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }
}
