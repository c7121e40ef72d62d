import FoDCore

/// A postal address as an invoice carries it (EN 16931 BG-5 / BG-8).
public struct PostalAddress: Sendable, Hashable, Codable {
    /// Street and number (BT-35 / BT-50).
    public let street: String
    /// Post code (BT-38 / BT-53).
    public let postcode: String
    /// City (BT-37 / BT-52).
    public let city: String
    /// Country (BT-40 / BT-55).
    public let country: CountryCode

    /// Checks every field.
    /// - Throws: ``InvoicingError`` `party_invalid` naming the field.
    public init(street: String, postcode: String, city: String, country: CountryCode) throws {
        self.street = try LegalParty.text(street, "address.street", max: 100)
        self.postcode = try LegalParty.text(postcode, "address.postcode", max: 16)
        guard postcode.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == " " || $0 == "-" }) else {
            throw InvoicingError(.partyInvalid, "address.postcode may hold only A–Z, 0–9, space and '-'")
        }
        self.city = try LegalParty.text(city, "address.city", max: 100)
        self.country = country
    }

    private enum CodingKeys: String, CodingKey { case street, postcode, city, country }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(street: try c.decode(String.self, forKey: .street), postcode: try c.decode(String.self, forKey: .postcode),
                      city: try c.decode(String.self, forKey: .city), country: try c.decode(CountryCode.self, forKey: .country))
    }
}

/// A VAT identification number (USt-IdNr., BT-31 / BT-48): a two-letter prefix and 2 to 12 letters
/// or digits; a German one (`DE` and nine digits) must pass its check digit (ISO 7064 MOD 11,10).
public struct VATID: Sendable, Hashable, Codable, ValidatedString, CustomStringConvertible {
    /// The number as written, without spaces.
    public let value: String

    /// - Throws: ``InvoicingError`` `vat_id_invalid`.
    public init(_ text: String) throws {
        let scalars = Array(text.unicodeScalars)
        guard (4...14).contains(scalars.count), scalars.prefix(2).allSatisfy({ ("A"..."Z").contains($0) }),
              scalars.dropFirst(2).allSatisfy({ ("A"..."Z").contains($0) || ("0"..."9").contains($0) }) else {
            throw InvoicingError(.vatIDInvalid, "vat_id \"\(text.prefix(20))\" is not a VAT identification number (a country prefix and 2 to 12 letters or digits, no spaces)")
        }
        if text.hasPrefix("DE") {
            let digits = scalars.dropFirst(2).compactMap { Int(String($0)) }
            guard digits.count == 9, scalars.count == 11, VATID.mod1110(digits) else {
                throw InvoicingError(.vatIDInvalid, "vat_id \(text): a German VAT ID is DE and nine digits with a valid check digit")
            }
        }
        self.value = text
    }

    public init(validating text: String) throws { try self.init(text) }
    public var text: String { value }
    public var description: String { value }

    /// ISO 7064 MOD 11,10 over the first eight digits, compared with the ninth.
    static func mod1110(_ digits: [Int]) -> Bool {
        var product = 10
        for digit in digits.dropLast() {
            var sum = (digit + product) % 10
            if sum == 0 { sum = 10 }
            product = (2 * sum) % 11
        }
        let check = (11 - product) % 10
        return check == digits[8]
    }
}

/// A party of a credit note: the OEM that issues it (the buyer of the dealer's service) or the
/// dealer (the seller), with what §14(4) UStG requires: full name and address, and the VAT ID or
/// tax number of the party that supplies the service.
public struct LegalParty: Sendable, Hashable, Codable {
    /// Registered name (BT-27 / BT-44).
    public let legalName: String
    public let address: PostalAddress
    /// VAT identification number (BT-31 / BT-48).
    public let vatID: VATID?
    /// Tax number given by the tax office (Steuernummer, BT-32).
    public let taxNumber: String?
    /// Where a seller is paid (BG-16/BG-17; XRechnung BR-DE-1 wants the payment instructions).
    public let payout: PayoutAccount?
    /// Who answers for the party's invoices (BG-6; XRechnung BR-DE-2 wants the seller's).
    public let invoiceContact: InvoiceContact?
    /// The party's electronic address for e-invoices (BT-34 / BT-49), an e-mail address (scheme `EM`).
    public let electronicAddress: EmailAddress?

    /// - Throws: ``InvoicingError`` `party_invalid` naming the field.
    public init(legalName: String, address: PostalAddress, vatID: VATID?, taxNumber: String?, payout: PayoutAccount? = nil,
                invoiceContact: InvoiceContact? = nil, electronicAddress: EmailAddress? = nil) throws {
        self.payout = payout
        self.invoiceContact = invoiceContact
        self.electronicAddress = electronicAddress
        self.legalName = try LegalParty.text(legalName, "legal_name", max: 200)
        self.address = address
        self.vatID = vatID
        if let taxNumber {
            _ = try LegalParty.text(taxNumber, "tax_number", max: 32)
            guard taxNumber.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) || ("0"..."9").contains($0) || " /-.".unicodeScalars.contains($0) }) else {
                throw InvoicingError(.partyInvalid, "tax_number may hold only A–Z, 0–9, space, '/', '-' and '.'")
            }
        }
        self.taxNumber = taxNumber
    }

    /// Whether the party can supply a service on a credit note: §14(4) Nr. 2 UStG wants its VAT ID
    /// or its tax number.
    public var hasTaxRegistration: Bool { vatID != nil || taxNumber != nil }

    private enum CodingKeys: String, CodingKey {
        case legalName = "legal_name", address, vatID = "vat_id", taxNumber = "tax_number", payout, invoiceContact = "invoice_contact"
        case electronicAddress = "electronic_address"
    }

    /// The members of a party's JSON object.
    public static let members = ["legal_name", "address", "vat_id", "tax_number", "payout", "invoice_contact", "electronic_address"]

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(legalName: try c.decode(String.self, forKey: .legalName), address: try c.decode(PostalAddress.self, forKey: .address),
                      vatID: try c.decodeIfPresent(VATID.self, forKey: .vatID), taxNumber: try c.decodeIfPresent(String.self, forKey: .taxNumber),
                      payout: try c.decodeIfPresent(PayoutAccount.self, forKey: .payout),
                      invoiceContact: try c.decodeIfPresent(InvoiceContact.self, forKey: .invoiceContact),
                      electronicAddress: try c.decodeIfPresent(EmailAddress.self, forKey: .electronicAddress))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(legalName, forKey: .legalName)
        try c.encode(address, forKey: .address)
        try c.encodeIfPresent(vatID, forKey: .vatID)
        try c.encodeIfPresent(taxNumber, forKey: .taxNumber)
        try c.encodeIfPresent(payout, forKey: .payout)
        try c.encodeIfPresent(invoiceContact, forKey: .invoiceContact)
        try c.encodeIfPresent(electronicAddress, forKey: .electronicAddress)
    }

    /// A required text field, by the one text rule (``DisplayText``).
    static func text(_ value: String, _ name: String, max: Int) throws -> String {
        if let problem = DisplayText.violation(in: value, name, maxLength: max) { throw InvoicingError(.partyInvalid, problem) }
        return value
    }
}
