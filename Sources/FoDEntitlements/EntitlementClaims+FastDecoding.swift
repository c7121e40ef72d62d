extension EntitlementClaims {
    /// Decodes a payload in one pass without building a JSON tree, for the verify hot path.
    ///
    /// Returns `nil` whenever anything is unusual (an unknown or escaped member name, a wrong
    /// type, a negative or non-plain number, an invalid value); the caller then runs the full
    /// parser and ``init(json:)``, which give the authoritative result or error. It never accepts
    /// what the full path refuses, and returns the same claims when it succeeds (a differential
    /// test checks both on fuzzed payloads).
    static func decodeFast(_ payload: UnsafeRawBufferPointer) -> EntitlementClaims? {
        var iss: String?, sub: String?, jti: String?, feature: String?, term: String?, dealer: String?, ecu: String?
        var iat: Int64?, nbf: Int64?, exp: Int64?
        var seen: UInt16 = 0
        do {
            try JSONParser.streamObject(payload) { name, parser in
                let slot = Self.slot(of: name)
                guard slot >= 0, seen & (1 << slot) == 0 else { throw EntitlementError(.jsonMalformed, "fallback") }
                seen |= 1 << slot
                switch slot {
                case 0: iss = try parser.readString()
                case 1: sub = try parser.readString()
                case 2: jti = try parser.readString()
                case 3: iat = try parser.readUnsignedInteger()
                case 4: nbf = try parser.readUnsignedInteger()
                case 5: exp = try parser.readUnsignedInteger()
                case 6: feature = try parser.readString()
                case 7: term = try parser.readString()
                case 8: dealer = try parser.readString()
                default: ecu = try parser.readString()
                }
            }
            guard let iss, let sub, let jti, let iat, let nbf, let feature, let term,
                  let termValue = Term(rawValue: term) else { return nil }
            let claims = EntitlementClaims(
                issuer: try IssuerID(iss), vin: try VIN(strict: sub), id: try EntitlementID(jti), issuedAt: iat, notBefore: nbf,
                expiresAt: exp, feature: try FeatureCode(feature), term: termValue,
                dealer: try dealer.map { try DealerID($0) }, ecu: try ecu.map { try ECUIdentifier($0) })
            try claims.validate()
            return claims
        } catch {
            return nil
        }
    }

    /// The index of a claim name in ``Claim/allCases``, or -1 (hand-written for the hot path; a
    /// test checks it against the table for every claim).
    static func slot(of name: UnsafeRawBufferPointer) -> Int {
        func equals(_ literal: StaticString) -> Bool {
            literal.utf8CodeUnitCount == name.count
                && literal.withUTF8Buffer { $0.elementsEqual(name) }
        }
        switch name.count {
        case 3:
            if equals("iss") { return 0 }
            if equals("sub") { return 1 }
            if equals("jti") { return 2 }
            if equals("iat") { return 3 }
            if equals("nbf") { return 4 }
            if equals("exp") { return 5 }
            if equals("ecu") { return 9 }
        case 7: if equals("feature") { return 6 }
        case 4: if equals("term") { return 7 }
        case 6: if equals("dealer") { return 8 }
        default: break
        }
        return -1
    }
}
