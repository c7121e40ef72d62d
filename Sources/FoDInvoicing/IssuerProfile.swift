import FoDCore
import Foundation

/// What the OEM puts on every credit note it issues: its own party data, the VAT rate of a
/// domestic dealer's commission, the number series' prefix and the payment term. Read from a
/// JSON file (`fod serve --issuer-profile`, `fod close --issuer-profile`).
public struct IssuerProfile: Sendable, Hashable, Codable {
    /// The OEM (the buyer on a self-billed invoice, BG-7). Needs a VAT ID (BT-48).
    public let party: LegalParty
    /// The VAT rate on the commission of a dealer in the issuer's own country, in basis points (1900 = 19 %).
    public let commissionVATBps: Int64
    /// The number series' prefix: `GS` gives `GS-2026-000001`.
    public let numberPrefix: String
    /// Days from the issue date to the payment's due date (BT-9).
    public let paymentDays: Int64

    /// - Throws: ``InvoicingError`` `issuer_invalid`.
    public init(party: LegalParty, commissionVATBps: Int64, numberPrefix: String, paymentDays: Int64) throws {
        guard party.vatID != nil else { throw InvoicingError(.issuerInvalid, "the issuer needs a vat_id (BT-48)") }
        guard (1...10_000).contains(commissionVATBps) else {
            throw InvoicingError(.issuerInvalid, "commission_vat_bps must be 1 to 10000")
        }
        guard (1...8).contains(numberPrefix.count), numberPrefix.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) }) else {
            throw InvoicingError(.issuerInvalid, "number_prefix must be 1 to 8 letters A–Z")
        }
        guard (0...120).contains(paymentDays) else { throw InvoicingError(.issuerInvalid, "payment_days must be 0 to 120") }
        self.party = party
        self.commissionVATBps = commissionVATBps
        self.numberPrefix = numberPrefix
        self.paymentDays = paymentDays
    }

    /// Parses the profile's JSON document: the party's members and `commission_vat_bps`,
    /// `number_prefix`, `payment_days`.
    /// - Throws: ``InvoicingError`` `issuer_invalid` or `party_invalid`.
    public init(json: [UInt8]) throws {
        do { self = try JSONDecoder().decode(IssuerProfile.self, from: Data(json)) } catch let error as InvoicingError {
            throw error
        } catch {
            throw InvoicingError(.issuerInvalid, "the issuer profile is not valid: \(InvoicingError.describe(error))")
        }
    }


    private enum CodingKeys: String, CodingKey {
        case commissionVATBps = "commission_vat_bps", numberPrefix = "number_prefix", paymentDays = "payment_days"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(party: try LegalParty(from: decoder), commissionVATBps: try c.decode(Int64.self, forKey: .commissionVATBps),
                      numberPrefix: try c.decode(String.self, forKey: .numberPrefix), paymentDays: try c.decodeIfPresent(Int64.self, forKey: .paymentDays) ?? 30)
    }

    public func encode(to encoder: any Encoder) throws {
        try party.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(commissionVATBps, forKey: .commissionVATBps)
        try c.encode(numberPrefix, forKey: .numberPrefix)
        try c.encode(paymentDays, forKey: .paymentDays)
    }
}

extension InvoicingError {
    /// A decoding error in words: the path of the member and what was wrong, or the module's own reason.
    public static func describe(_ error: any Error) -> String {
        if let coded = error as? InvoicingError { return coded.reason }
        if let coded = error as? any CodedError { return coded.reason }
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?: return "missing \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?, .dataCorrupted(let context)?:
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? "not a JSON object" : "\(path): wrong type or value"
        default: return "not JSON"
        }
    }
}
