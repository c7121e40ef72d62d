import FoDCore

/// An International Bank Account Number (ISO 13616): the country's code, two check digits and the
/// country's Basic Bank Account Number in the structure the IBAN registry gives it; the check
/// digits pass ISO 7064 MOD 97-10. Written without spaces, upper case (``printed`` groups it by four).
public struct IBAN: Sendable, Hashable, ValidatedString, CustomStringConvertible {
    /// The electronic format: no spaces, upper case.
    public let value: String

    /// Accepts the electronic or the printed format (spaces between groups), in either case.
    /// - Throws: ``InvoicingError`` `iban_invalid` saying what is wrong.
    public init(_ text: String) throws {
        let compact = String(text.unicodeScalars.filter { $0 != " " }.map(Character.init)).uppercased()
        let scalars = Array(compact.unicodeScalars)
        func fail(_ why: String) -> InvoicingError {
            InvoicingError(.ibanInvalid, "iban \"\(text.prefix(42))\" is not a valid IBAN: \(why)")
        }
        guard scalars.count >= 5, scalars.count <= 34, scalars.allSatisfy({ IBAN.isLetter($0) || IBAN.isDigit($0) }) else {
            throw fail("an IBAN is 5 to 34 letters and digits")
        }
        let country = String(compact.prefix(2))
        guard let structure = IBAN.structures[country], let spec = IBAN.registry[country] else {
            throw fail("\(country) does not issue IBANs (ISO 13616 registry)")
        }
        guard IBAN.isDigit(scalars[2]), IBAN.isDigit(scalars[3]) else { throw fail("the third and fourth characters are the check digits") }
        let bban = Array(scalars.dropFirst(4))
        let expected = structure.reduce(0) { $0 + $1.count }
        guard bban.count == expected else { throw fail("an IBAN of \(country) has \(expected + 4) characters, this one \(scalars.count)") }
        guard IBAN.matches(bban, structure) else { throw fail("the account part does not have the structure of \(country) (\(spec))") }
        guard IBAN.mod97(bban + scalars.prefix(4)) == 1 else { throw fail("the check digits do not match (ISO 7064 MOD 97-10)") }
        value = compact
    }

    public init(validating text: String) throws { try self.init(text) }
    public var text: String { value }
    public var description: String { value }
    /// The printed format: groups of four separated by a space.
    public var printed: String {
        stride(from: 0, to: value.count, by: 4).map { start in
            String(value.dropFirst(start).prefix(4))
        }.joined(separator: " ")
    }

    static func isDigit(_ s: Unicode.Scalar) -> Bool { ("0"..."9").contains(s) }
    static func isLetter(_ s: Unicode.Scalar) -> Bool { ("A"..."Z").contains(s) }

    /// The remainder mod 97 of the number the characters spell (A = 10 … Z = 35), digit by digit.
    static func mod97(_ scalars: some Sequence<Unicode.Scalar>) -> Int {
        var remainder = 0
        for s in scalars {
            if isDigit(s) {
                remainder = (remainder * 10 + Int(s.value - 48)) % 97
            } else {
                remainder = (remainder * 100 + Int(s.value - 55)) % 97
            }
        }
        return remainder
    }

    /// The parts of a structure such as `4!n4!n12!c`: a count and a kind (`n` digits, `a` upper-case
    /// letters, `c` letters and digits), all of fixed length in the registry.
    static func parts(_ spec: String) -> [(count: Int, kind: Character)]? {
        var parts: [(Int, Character)] = [], number = 0
        for c in spec {
            if let digit = c.wholeNumberValue { number = number * 10 + digit; continue }
            if c == "!" { continue }
            guard "nac".contains(c), number > 0 else { return nil }
            parts.append((number, c))
            number = 0
        }
        return number == 0 ? parts : nil
    }

    /// The registry's structures, parsed once.
    static let structures: [String: [(count: Int, kind: Character)]] = registry.compactMapValues(parts)

    /// Whether `bban` (of the structure's length) has the structure's kind of character in each part.
    static func matches(_ bban: [Unicode.Scalar], _ parts: [(count: Int, kind: Character)]) -> Bool {
        var index = 0
        for part in parts {
            for s in bban[index..<index + part.count] {
                switch part.kind {
                case "n": guard isDigit(s) else { return false }
                case "a": guard isLetter(s) else { return false }
                default: guard isDigit(s) || isLetter(s) else { return false }
                }
            }
            index += part.count
        }
        return true
    }

    /// The structure of each country's account part (BBAN), from the SWIFT IBAN registry as the
    /// schwifty package (2026.10.1, MIT) publishes it, without the countries it marks aspirational.
    static let registry: [String: String] = [
        "AD": "4!n4!n12!c", "AE": "3!n16!n", "AL": "8!n16!c", "AT": "5!n11!n", "AX": "3!n11!n", "AZ": "4!a20!c",
        "BA": "3!n3!n8!n2!n", "BE": "3!n7!n2!n", "BG": "4!a4!n2!n8!c", "BH": "4!a14!c", "BI": "5!n5!n11!n2!n",
        "BL": "5!n5!n11!c2!n", "BR": "8!c5!n10!n1!c1!c", "BY": "4!c4!n16!c", "CH": "5!n12!c", "CR": "4!n14!n",
        "CY": "3!n5!n16!c", "CZ": "4!n6!n10!n", "DE": "8!n10!n", "DJ": "23!n", "DK": "4!n9!n1!n", "DO": "4!c20!n",
        "EE": "2!n2!n11!n1!n", "EG": "4!n4!n17!n", "ES": "4!n4!n1!n1!n10!n", "FI": "3!n11!n", "FK": "2!a12!n",
        "FO": "4!n9!n1!n", "FR": "5!n5!n11!c2!n", "GB": "4!a6!n8!n", "GE": "2!a16!n", "GF": "5!n5!n11!c2!n",
        "GG": "4!a6!n8!n", "GI": "4!a15!c", "GL": "4!n9!n1!n", "GP": "5!n5!n11!c2!n", "GR": "3!n4!n16!c",
        "GT": "4!c20!c", "HN": "4!a20!n", "HR": "7!n10!n", "HU": "3!n4!n1!n15!n1!n", "IE": "4!a6!n8!n",
        "IL": "3!n3!n13!n", "IM": "4!a6!n8!n", "IQ": "4!a3!n12!n", "IS": "4!n2!n6!n10!n", "IT": "1!a5!n5!n12!c",
        "JE": "4!a6!n8!n", "JO": "4!a4!n18!c", "KW": "4!a22!c", "KZ": "3!n13!c", "LB": "4!n20!c", "LC": "4!a24!c",
        "LI": "5!n12!c", "LT": "5!n11!n", "LU": "3!n13!c", "LV": "4!a13!c", "LY": "3!n3!n15!n",
        "MC": "5!n5!n11!c2!n", "MD": "2!c18!c", "ME": "3!n13!n2!n", "MF": "5!n5!n11!c2!n", "MK": "3!n10!c2!n",
        "MN": "4!n12!n", "MQ": "5!n5!n11!c2!n", "MR": "5!n5!n11!n2!n", "MT": "4!a5!n18!c",
        "MU": "4!a2!n2!n12!n3!n3!a", "NC": "5!n5!n11!c2!n", "NI": "4!a20!n", "NL": "4!a10!n", "NO": "4!n6!n1!n",
        "OM": "3!n16!c", "PF": "5!n5!n11!c2!n", "PK": "4!a16!c", "PL": "8!n16!n", "PM": "5!n5!n11!c2!n",
        "PS": "4!a21!c", "PT": "4!n4!n11!n2!n", "QA": "4!a21!c", "RE": "5!n5!n11!c2!n", "RO": "4!a16!c",
        "RS": "3!n13!n2!n", "RU": "9!n5!n15!c", "SA": "2!n18!c", "SC": "4!a2!n2!n16!n3!a", "SD": "2!n12!n",
        "SE": "3!n16!n1!n", "SI": "5!n8!n2!n", "SK": "4!n6!n10!n", "SM": "1!a5!n5!n12!c", "SO": "4!n3!n12!n",
        "ST": "4!n4!n11!n2!n", "SV": "4!a20!n", "TF": "5!n5!n11!c2!n", "TL": "3!n14!n2!n", "TN": "2!n3!n13!n2!n",
        "TR": "5!n1!n16!c", "UA": "6!n19!c", "VA": "3!n15!n", "VG": "4!a16!n", "WF": "5!n5!n11!c2!n",
        "XK": "4!n10!n2!n", "YE": "4!a4!n18!c", "YT": "5!n5!n11!c2!n"
    ]
}

/// A Business Identifier Code (ISO 9362, "SWIFT code"): four letters of the institution, the
/// country (ISO 3166-1), two letters or digits of the location and optionally three of the branch.
public struct BIC: Sendable, Hashable, ValidatedString, CustomStringConvertible {
    /// Eight or eleven characters, upper case.
    public let value: String

    /// - Throws: ``InvoicingError`` `party_invalid`.
    public init(_ text: String) throws {
        let scalars = Array(text.unicodeScalars)
        let alnum = { (s: Unicode.Scalar) in IBAN.isLetter(s) || IBAN.isDigit(s) }
        guard scalars.count == 8 || scalars.count == 11, scalars.prefix(4).allSatisfy(IBAN.isLetter),
              (try? CountryCode(String(String.UnicodeScalarView(scalars[4..<6])))) != nil, scalars.dropFirst(6).allSatisfy(alnum) else {
            throw InvoicingError(.partyInvalid, "bic \"\(text.prefix(20))\" is not a BIC (ISO 9362: 4 letters, a country code, 2 letters or digits, optionally 3 more; upper case)")
        }
        value = text
    }

    public init(validating text: String) throws { try self.init(text) }
    public var text: String { value }
    public var description: String { value }
}

/// Where a partner's commission is paid (EN 16931 BG-16/BG-17, the payment instructions of a
/// credit note; XRechnung BR-DE-1): an IBAN, or — in a country without IBANs (Japan) — the bank's
/// account number as written there, then with the bank's BIC.
public struct PayoutAccount: Sendable, Hashable, Codable {
    public let iban: IBAN?
    /// An account number where there is no IBAN (BT-84 as a proprietary id): letters, digits,
    /// spaces and `-`, 4 to 34 characters.
    public let account: String?
    public let bic: BIC?
    /// The account holder's name (BT-85).
    public let holder: String

    /// - Throws: ``InvoicingError`` `party_invalid` naming the field.
    public init(iban: IBAN?, account: String? = nil, bic: BIC?, holder: String) throws {
        guard (iban == nil) != (account == nil) else {
            throw InvoicingError(.partyInvalid, "payout needs either an iban or, where the country has none, an account (not both)")
        }
        if let account {
            let scalars = Array(account.unicodeScalars)
            guard (4...34).contains(scalars.count), scalars.allSatisfy({ IBAN.isLetter($0) || IBAN.isDigit($0) || $0 == " " || $0 == "-" }) else {
                throw InvoicingError(.partyInvalid, "payout.account \"\(account.prefix(40))\" must be 4 to 34 upper-case letters, digits, spaces and '-'")
            }
            guard bic != nil else { throw InvoicingError(.partyInvalid, "payout.bic is needed with an account number (there is no IBAN to name the bank)") }
        }
        self.iban = iban
        self.account = account
        self.bic = bic
        self.holder = try LegalParty.text(holder, "payout.holder", max: 140)
    }

    private enum CodingKeys: String, CodingKey { case iban, account, bic, holder }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(iban: try c.decodeIfPresent(IBAN.self, forKey: .iban), account: try c.decodeIfPresent(String.self, forKey: .account),
                      bic: try c.decodeIfPresent(BIC.self, forKey: .bic), holder: try c.decode(String.self, forKey: .holder))
    }
}
