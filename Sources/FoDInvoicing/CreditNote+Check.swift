import FoDCore

extension CreditNote {
    /// fod's own check before a document leaves it (the EN 16931 validator checks the XML too):
    /// the lines add up to the net, the VAT is the rate applied to the net, the total is both,
    /// amounts are positive, and the parties carry what §14(4) UStG and the VAT category require.
    /// - Throws: ``InvoicingError`` `credit_note_invalid` naming the first failure.
    public func check() throws {
        func fail(_ why: String) -> InvoicingError { InvoicingError(.creditNoteInvalid, "\(number): \(why)") }
        guard !lines.isEmpty else { throw fail("no lines") }
        var sum: Int64 = 0
        for line in lines {
            let (next, overflow) = sum.addingReportingOverflow(line.amount)
            guard !overflow else { throw fail("the lines overflow") }
            sum = next
        }
        guard sum == net else { throw fail("the lines add up to \(sum), the net is \(net)") }
        guard net > 0 else { throw fail("the net must be positive (a negative month is a correction document)") }
        guard tax == (try CreditNote.tax(net, rateBps: vat.rateBps)) else { throw fail("the VAT \(tax) is not \(vat.rateBps) bp of \(net)") }
        guard total == net + tax else { throw fail("the total \(total) is not net \(net) + VAT \(tax)") }
        guard dealer.hasTaxRegistration else { throw fail("the dealer has neither VAT ID nor tax number") }
        guard issuer.vatID != nil else { throw fail("the issuer has no VAT ID") }
        switch vat.category {
        case "S": guard vat.rateBps > 0, vat.exemptionNote == nil else { throw fail("standard rate without a rate, or with an exemption note") }
        case "AE": guard vat.rateBps == 0, vat.exemptionNote != nil else { throw fail("reverse charge needs rate 0 and its note") }
        default: throw fail("VAT category \(vat.category) is not one fod issues")
        }
    }
}
