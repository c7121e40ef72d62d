import FoDCore

extension CreditNote {
    /// The document as UN/CEFACT Cross Industry Invoice D16B XML in the EN 16931 profile (the syntax
    /// of XRechnung CII and ZUGFeRD): document type 389 (self-billed invoice) or 261 (self-billed
    /// credit note); the dealer is the seller, the OEM the buyer. `docs/revenue-share.md` maps
    /// each element to its business term (BT-…).
    public func ciiXML() -> String {
        var x = XMLText()
        x.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        x.raw("<rsm:CrossIndustryInvoice xmlns:rsm=\"urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100\" xmlns:ram=\"urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100\" xmlns:udt=\"urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100\" xmlns:qdt=\"urn:un:unece:uncefact:data:standard:QualifiedDataType:100\">\n")
        x.open("rsm:ExchangedDocumentContext")
        x.open("ram:GuidelineSpecifiedDocumentContextParameter"); x.element("ram:ID", "urn:cen.eu:en16931:2017"); x.close("ram:GuidelineSpecifiedDocumentContextParameter")
        x.close("rsm:ExchangedDocumentContext")

        x.open("rsm:ExchangedDocument")
        x.element("ram:ID", number)
        x.element("ram:TypeCode", kind.typeCode)
        x.date("ram:IssueDateTime", issueDate)
        x.note("\(kind.title) im Gutschriftsverfahren (§14 Abs. 2 Satz 2 UStG): Provision für die Vermittlung von Fahrzeugfunktionen im Agenturmodell, Abrechnungszeitraum \(period).")
        x.note("Der Leistende (\(dealer.legalName)) kann dieser \(kind.title) widersprechen; sie gilt nicht als anerkannt, solange er nicht zugestimmt hat.")
        x.close("rsm:ExchangedDocument")

        x.open("rsm:SupplyChainTradeTransaction")
        for (index, line) in lines.enumerated() {
            x.open("ram:IncludedSupplyChainTradeLineItem")
            x.open("ram:AssociatedDocumentLineDocument"); x.element("ram:LineID", String(index + 1)); x.close("ram:AssociatedDocumentLineDocument")
            x.open("ram:SpecifiedTradeProduct"); x.element("ram:Name", line.description); x.close("ram:SpecifiedTradeProduct")
            x.open("ram:SpecifiedLineTradeAgreement")
            x.open("ram:NetPriceProductTradePrice"); x.element("ram:ChargeAmount", currency.format(minor: line.amount < 0 ? -line.amount : line.amount)); x.close("ram:NetPriceProductTradePrice")
            x.close("ram:SpecifiedLineTradeAgreement")
            x.open("ram:SpecifiedLineTradeDelivery"); x.element("ram:BilledQuantity", line.amount < 0 ? "-1" : "1", attributes: [("unitCode", "C62")]); x.close("ram:SpecifiedLineTradeDelivery")
            x.open("ram:SpecifiedLineTradeSettlement")
            x.open("ram:ApplicableTradeTax")
            x.element("ram:TypeCode", "VAT"); x.element("ram:CategoryCode", vat.category); x.element("ram:RateApplicablePercent", CreditNote.percent(vat.rateBps))
            x.close("ram:ApplicableTradeTax")
            x.open("ram:SpecifiedTradeSettlementLineMonetarySummation"); x.element("ram:LineTotalAmount", currency.format(minor: line.amount)); x.close("ram:SpecifiedTradeSettlementLineMonetarySummation")
            x.close("ram:SpecifiedLineTradeSettlement")
            x.close("ram:IncludedSupplyChainTradeLineItem")
        }

        x.open("ram:ApplicableHeaderTradeAgreement")
        x.element("ram:BuyerReference", "fod dealer " + dealerID)
        // The seller's identifier (BT-29) is the number the buyer knows the dealer by: fod's dealer id.
        CreditNote.party(&x, "ram:SellerTradeParty", dealer, id: dealerID)
        CreditNote.party(&x, "ram:BuyerTradeParty", issuer, id: nil)
        x.close("ram:ApplicableHeaderTradeAgreement")

        x.raw("<ram:ApplicableHeaderTradeDelivery/>\n")

        x.open("ram:ApplicableHeaderTradeSettlement")
        x.element("ram:InvoiceCurrencyCode", currency.code)
        if let payout = dealer.payout {
            // The dealer's account: where the commission is paid (code 30, credit transfer).
            x.open("ram:SpecifiedTradeSettlementPaymentMeans")
            x.element("ram:TypeCode", "30")
            x.open("ram:PayeePartyCreditorFinancialAccount")
            // The schema's order: IBANID, AccountName, ProprietaryID.
            if let iban = payout.iban { x.element("ram:IBANID", iban.value) }
            x.element("ram:AccountName", payout.holder)
            if let account = payout.account { x.element("ram:ProprietaryID", account) }
            x.close("ram:PayeePartyCreditorFinancialAccount")
            if let bic = payout.bic {
                x.open("ram:PayeeSpecifiedCreditorFinancialInstitution"); x.element("ram:BICID", bic.value); x.close("ram:PayeeSpecifiedCreditorFinancialInstitution")
            }
            x.close("ram:SpecifiedTradeSettlementPaymentMeans")
        }
        x.open("ram:ApplicableTradeTax")
        x.element("ram:CalculatedAmount", currency.format(minor: tax))
        x.element("ram:TypeCode", "VAT")
        if let note = vat.exemptionNote { x.element("ram:ExemptionReason", note) }
        x.element("ram:BasisAmount", currency.format(minor: net))
        x.element("ram:CategoryCode", vat.category)
        if let code = vat.exemptionCode { x.element("ram:ExemptionReasonCode", code) }
        x.element("ram:RateApplicablePercent", CreditNote.percent(vat.rateBps))
        x.close("ram:ApplicableTradeTax")
        x.open("ram:BillingSpecifiedPeriod")
        x.date("ram:StartDateTime", periodStart)
        x.date("ram:EndDateTime", periodEnd)
        x.close("ram:BillingSpecifiedPeriod")
        x.open("ram:SpecifiedTradePaymentTerms")
        x.element("ram:Description", kind == .creditNote ? "Zahlbar bis \(dueDate) an den Leistenden." : "Vom Leistenden zu erstatten bis \(dueDate).")
        x.date("ram:DueDateDateTime", dueDate)
        x.close("ram:SpecifiedTradePaymentTerms")
        x.open("ram:SpecifiedTradeSettlementHeaderMonetarySummation")
        x.element("ram:LineTotalAmount", currency.format(minor: net))
        x.element("ram:TaxBasisTotalAmount", currency.format(minor: net))
        x.element("ram:TaxTotalAmount", currency.format(minor: tax), attributes: [("currencyID", currency.code)])
        x.element("ram:GrandTotalAmount", currency.format(minor: total))
        x.element("ram:DuePayableAmount", currency.format(minor: total))
        x.close("ram:SpecifiedTradeSettlementHeaderMonetarySummation")
        if let precedingNumber {
            x.open("ram:InvoiceReferencedDocument"); x.element("ram:IssuerAssignedID", precedingNumber); x.close("ram:InvoiceReferencedDocument")
        }
        x.close("ram:ApplicableHeaderTradeSettlement")
        x.close("rsm:SupplyChainTradeTransaction")
        x.raw("</rsm:CrossIndustryInvoice>\n")
        return x.text
    }

    private static func party(_ x: inout XMLText, _ name: String, _ party: LegalParty, id: String?) {
        x.open(name)
        if let id { x.element("ram:ID", id) }
        x.element("ram:Name", party.legalName)
        if let contact = party.invoiceContact {
            x.open("ram:DefinedTradeContact")
            x.element("ram:PersonName", contact.name)
            x.open("ram:TelephoneUniversalCommunication"); x.element("ram:CompleteNumber", contact.phone); x.close("ram:TelephoneUniversalCommunication")
            x.open("ram:EmailURIUniversalCommunication"); x.element("ram:URIID", contact.email.value); x.close("ram:EmailURIUniversalCommunication")
            x.close("ram:DefinedTradeContact")
        }
        x.open("ram:PostalTradeAddress")
        x.element("ram:PostcodeCode", party.address.postcode)
        x.element("ram:LineOne", party.address.street)
        x.element("ram:CityName", party.address.city)
        x.element("ram:CountryID", party.address.country.code)
        x.close("ram:PostalTradeAddress")
        if let address = party.electronicAddress {
            x.open("ram:URIUniversalCommunication"); x.element("ram:URIID", address.value, attributes: [("schemeID", "EM")]); x.close("ram:URIUniversalCommunication")
        }
        if let vatID = party.vatID {
            x.open("ram:SpecifiedTaxRegistration"); x.element("ram:ID", vatID.value, attributes: [("schemeID", "VA")]); x.close("ram:SpecifiedTaxRegistration")
        }
        if let taxNumber = party.taxNumber {
            x.open("ram:SpecifiedTaxRegistration"); x.element("ram:ID", taxNumber, attributes: [("schemeID", "FC")]); x.close("ram:SpecifiedTaxRegistration")
        }
        x.close(name)
    }

    /// Basis points as a percentage with two decimals: 1900 → `19.00`.
    static func percent(_ bps: Int64) -> String {
        let fraction = bps % 100
        return String(bps / 100) + "." + (fraction < 10 ? "0" : "") + String(fraction)
    }
}

/// Indented XML text with escaped content.
struct XMLText {
    private(set) var text = ""
    private var depth = 1

    mutating func raw(_ s: String) { text += s }
    mutating func open(_ name: String) { indent(); text += "<\(name)>\n"; depth += 1 }
    mutating func close(_ name: String) { depth -= 1; indent(); text += "</\(name)>\n" }
    mutating func element(_ name: String, _ value: String, attributes: [(String, String)] = []) {
        indent()
        text += "<\(name)"
        for (key, attribute) in attributes { text += " \(key)=\"\(attribute.markupEscaped)\"" }
        text += ">\(value.markupEscaped)</\(name)>\n"
    }
    /// A date element with format 102 (`YYYYMMDD`) from `YYYY-MM-DD`.
    mutating func date(_ name: String, _ day: String) {
        open(name)
        element("udt:DateTimeString", String(day.filter { $0 != "-" }), attributes: [("format", "102")])
        close(name)
    }
    mutating func note(_ content: String) {
        open("ram:IncludedNote"); element("ram:Content", content); close("ram:IncludedNote")
    }
    private mutating func indent() { text += String(repeating: "  ", count: depth) }
}
