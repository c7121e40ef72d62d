import FoDCore

/// An e-mail address as an invoice contact carries it (BT-43 / BT-58): one `@`, a local part of
/// printable ASCII without spaces, quotes or angle brackets, a domain of dot-separated labels
/// (letters, digits, hyphens; no leading or trailing hyphen) with at least one dot; 254 characters
/// at most (RFC 5321). Internationalized addresses are refused.
public struct EmailAddress: Sendable, Hashable, ValidatedString, CustomStringConvertible {
    public let value: String

    /// - Throws: ``InvoicingError`` `party_invalid`.
    public init(_ text: String) throws {
        func fail(_ why: String) -> InvoicingError {
            InvoicingError(.partyInvalid, "email \"\(text.prefix(60))\" is not an e-mail address: \(why)")
        }
        guard text.utf8.count <= 254 else { throw fail("longer than 254 characters") }
        let halves = text.split(separator: "@", omittingEmptySubsequences: false)
        guard halves.count == 2 else { throw fail("it needs exactly one @") }
        let local = halves[0], domain = halves[1]
        guard !local.isEmpty, local.utf8.count <= 64,
              local.unicodeScalars.allSatisfy({ $0.value > 32 && $0.value < 127 && !"\"<>()[]\\,;:@ ".unicodeScalars.contains($0) }),
              !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..") else {
            throw fail("the part before @ must be 1 to 64 printable ASCII characters without spaces, quotes, brackets or '..'")
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ label in
            (1...63).contains(label.utf8.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                && label.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        }) else {
            throw fail("the domain must be dot-separated labels of letters, digits and hyphens, with at least one dot")
        }
        value = text
    }

    public init(validating text: String) throws { try self.init(text) }
    public var text: String { value }
    public var description: String { value }
}

/// Who answers for a partner's invoices (EN 16931 BG-6, the seller contact; XRechnung BR-DE-2
/// requires it: name, telephone and e-mail).
public struct InvoiceContact: Sendable, Hashable, Codable {
    /// BT-41.
    public let name: String
    /// BT-42: digits with an optional leading `+`, spaces, `-`, `/`, `(` and `)`; 3 to 32 characters, at least 3 digits.
    public let phone: String
    /// BT-43.
    public let email: EmailAddress

    /// - Throws: ``InvoicingError`` `party_invalid` naming the field.
    public init(name: String, phone: String, email: EmailAddress) throws {
        self.name = try LegalParty.text(name, "invoice_contact.name", max: 100)
        let scalars = Array(phone.unicodeScalars)
        guard (3...32).contains(scalars.count), scalars.filter({ ("0"..."9").contains($0) }).count >= 3,
              scalars.enumerated().allSatisfy({ index, s in
                  ("0"..."9").contains(s) || " -/()".unicodeScalars.contains(s) || (s == "+" && index == 0)
              }) else {
            throw InvoicingError(.partyInvalid, "invoice_contact.phone \"\(phone.prefix(40))\" is not a telephone number (digits, a leading +, spaces, '-', '/', '(' and ')'; 3 to 32 characters)")
        }
        self.phone = phone
        self.email = email
    }

    private enum CodingKeys: String, CodingKey { case name, phone, email }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(name: try c.decode(String.self, forKey: .name), phone: try c.decode(String.self, forKey: .phone),
                      email: try c.decode(EmailAddress.self, forKey: .email))
    }
}
