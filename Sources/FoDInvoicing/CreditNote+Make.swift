import FoDCore

extension CreditNote {
    /// Makes the document for a draft with a payable amount.
    /// - Parameters:
    ///   - issuedAt: the close's moment (Unix seconds, UTC day).
    ///   - year/month: the closed period.
    ///   - preceding: the dealer's latest credit note number (a correction refers to it).
    /// - Returns: `nil` when nothing is payable either way (no document).
    /// - Throws: ``InvoicingError`` `master_data_incomplete` (no party data, no VAT ID or tax
    ///   number for the dealer), `overflow`.
    public static func make(_ draft: CreditNoteDraft, number: String, issuedAt: Int64, year: Int64, month: Int64,
                            issuer: IssuerProfile, dealer: LegalParty?, preceding: String?) throws -> CreditNote? {
        let payable = try draft.payable()
        guard payable != 0 else { return nil }
        guard let dealer else {
            throw InvoicingError(.masterDataIncomplete, "dealer \(draft.dealerID) has no legal name and address; a credit note needs them (§14(4) Nr. 1 UStG)")
        }
        guard dealer.hasTaxRegistration else {
            throw InvoicingError(.masterDataIncomplete, "dealer \(draft.dealerID) has neither vat_id nor tax_number (§14(4) Nr. 2 UStG)")
        }
        let kind: Kind = payable > 0 ? .creditNote : .correction
        let sign: Int64 = payable > 0 ? 1 : -1
        let period = String(year) + "-" + CreditNote.two(month)
        var lines: [Line] = []
        for part in draft.parts {
            let at = part.label.map { ", " + $0 } ?? ""
            if part.activations > 0 || part.share != 0 {
                lines.append(Line(description: "Provision \(period)\(at): \(part.activations) Aktivierung(en)", count: part.activations, amount: sign * part.share))
            }
            if part.clawbacks > 0 || part.clawback != 0 {
                lines.append(Line(description: "Rückbelastung \(period)\(at): \(part.clawbacks) Erstattung(en) und Widerruf(e)", count: part.clawbacks,
                                  amount: -sign * part.clawback))
            }
            if part.adjustments > 0 || part.adjustment != 0 {
                lines.append(Line(description: "Anpassungen aus früheren Monaten und Einwänden\(at): \(part.adjustments)", count: part.adjustments,
                                  amount: sign * part.adjustment))
            }
        }
        let net = sign * payable
        let vat: VATTreatment
        if dealer.address.country == issuer.party.address.country {
            vat = VATTreatment(category: "S", rateBps: issuer.commissionVATBps, exemptionNote: nil, exemptionCode: nil)
        } else {
            vat = VATTreatment(category: "AE", rateBps: 0,
                               exemptionNote: "Steuerschuldnerschaft des Leistungsempfängers (Reverse Charge, §13b UStG / Art. 196 MwStSystRL)",
                               exemptionCode: "VATEX-EU-AE")
        }
        let tax = try CreditNote.tax(net, rateBps: vat.rateBps)
        let (total, overflow) = net.addingReportingOverflow(tax)
        guard !overflow else { throw InvoicingError(.overflow, "the total of \(number) does not fit in 64 bits") }
        let issued = CivilDate(unixSeconds: issuedAt)
        let due = CivilDate(unixSeconds: issuedAt + issuer.paymentDays * 86_400)
        return CreditNote(number: number, kind: kind, issueDate: CreditNote.day(issued), dueDate: CreditNote.day(due), period: period,
                          periodStart: period + "-01", periodEnd: period + "-" + CreditNote.two(CivilDate.daysIn(year: year, month: month)),
                          dealerID: draft.dealerID, dealer: dealer, issuer: issuer.party, currency: draft.currency, lines: lines, vat: vat,
                          net: net, tax: tax, total: total, precedingNumber: kind == .correction ? preceding : nil)
    }

    /// VAT on `net` at `rateBps`, in minor units, rounded half to even.
    static func tax(_ net: Int64, rateBps: Int64) throws -> Int64 {
        guard let tax = HalfEvenDivision.mulDiv(net, rateBps, 10_000) else { throw InvoicingError(.overflow, "the VAT on \(net) does not fit in 64 bits") }
        return tax
    }

    static func day(_ date: CivilDate) -> String { String(date.year) + "-" + two(date.month) + "-" + two(date.day) }
    static func two(_ value: Int64) -> String { value < 10 ? "0" + String(value) : String(value) }
}

extension CreditNote {
    /// The same document with its number (given in the close's transaction).
    public func numbered(_ number: String) -> CreditNote {
        CreditNote(number: number, kind: kind, issueDate: issueDate, dueDate: dueDate, period: period, periodStart: periodStart,
                   periodEnd: periodEnd, dealerID: dealerID, dealer: dealer, issuer: issuer, currency: currency, lines: lines, vat: vat,
                   net: net, tax: tax, total: total, precedingNumber: precedingNumber)
    }
}

extension CreditNote {
    /// The number of the `sequence`-th document of `year` in a series: `GS-2026-000001`.
    public static func number(prefix: String, year: Int64, sequence: Int64) -> String {
        let digits = String(sequence)
        return prefix + "-" + String(year) + "-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }
}
