import FoDCore

extension CreditNote {
    /// The document as a printable HTML page (the report's style; the PDF is the browser's print),
    /// with every field §14(4) UStG requires.
    public func html() -> String {
        func money(_ minor: Int64) -> String { "\(currency.formatGrouped(minor: minor)) \(currency.code)".markupEscaped }
        func party(_ role: String, _ p: LegalParty) -> String {
            var rows = "<div class=\"card\"><div class=\"label\">\(role)</div><strong>\(p.legalName.markupEscaped)</strong><br>"
            rows += "\(p.address.street.markupEscaped)<br>\(p.address.postcode.markupEscaped) \(p.address.city.markupEscaped)<br>\(p.address.country.code)"
            if let vatID = p.vatID { rows += "<br>USt-IdNr.: \(vatID.value)" }
            if let taxNumber = p.taxNumber { rows += "<br>Steuernummer: \(taxNumber.markupEscaped)" }
            if let contact = p.invoiceContact {
                rows += "<br>Kontakt: \(contact.name.markupEscaped), \(contact.phone.markupEscaped), \(contact.email.value.markupEscaped)"
            }
            if let payout = p.payout {
                rows += "<br>Konto: \(payout.iban?.printed ?? payout.account ?? "")" + (payout.bic.map { " (BIC \($0.value))" } ?? "")
                    + ", \(payout.holder.markupEscaped)"
            }
            return rows + "</div>"
        }
        var lineRows = ""
        for (index, line) in lines.enumerated() {
            lineRows += "<tr><td>\(index + 1)</td><td>\(line.description.markupEscaped)</td><td>\(line.count)</td><td>\(money(line.amount))</td></tr>\n"
        }
        let taxLabel = vat.category == "S" ? "USt \(CreditNote.percent(vat.rateBps)) %" : "USt 0 % — \(vat.exemptionNote ?? "")"
        return """
        <!DOCTYPE html>
        <html lang="de">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(kind.title) \(number.markupEscaped)</title>
        <style>
        body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:56rem;padding:0 1rem;color:#1b1f24;line-height:1.45}
        h1{font-size:1.6rem;margin-bottom:.2rem}.meta{color:#57606a;font-size:.9rem}
        table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums;margin:.6rem 0}
        th,td{padding:.35rem .6rem;border-bottom:1px solid #eaeef2;text-align:right}th{background:#f6f8fa}
        th:nth-child(2),td:nth-child(2){text-align:left}
        .cards{display:flex;flex-wrap:wrap;gap:1rem}.card{border:1px solid #d0d7de;border-radius:8px;padding:.8rem 1rem;min-width:18rem}
        .label{color:#57606a;font-size:.85rem}.total td{font-weight:600}
        @media print{body{margin:0;max-width:none}}
        </style>
        </head>
        <body>
        <h1>\(kind.title)</h1>
        <p class="meta">Nr. <strong id="number">\(number.markupEscaped)</strong> · Ausstellungsdatum \(issueDate) · Leistungszeitraum \(periodStart) bis \(periodEnd) · Gutschriftsverfahren nach §14 Abs. 2 Satz 2 UStG</p>
        <div class="cards">
        \(party("Leistender (Gutschriftsempfänger)", dealer))
        \(party("Leistungsempfänger und Aussteller", issuer))
        </div>
        <table>
        <thead><tr><th>Pos.</th><th>Leistung</th><th>Anzahl</th><th>Netto</th></tr></thead>
        <tbody>
        \(lineRows)<tr class="total"><td></td><td>Nettobetrag</td><td></td><td id="net">\(money(net))</td></tr>
        <tr><td></td><td>\(taxLabel.markupEscaped)</td><td></td><td id="tax">\(money(tax))</td></tr>
        <tr class="total"><td></td><td>\(kind == .creditNote ? "Auszahlungsbetrag" : "Vom Leistenden zu erstatten")</td><td></td><td id="total">\(money(total))</td></tr>
        </tbody>
        </table>
        \(precedingNumber.map { "<p>Bezieht sich auf die Gutschrift \($0.markupEscaped).</p>" } ?? "")
        <p>Fällig am \(dueDate). Der Leistende kann dieser \(kind.title) widersprechen; sie gilt nicht als anerkannt, solange er nicht zugestimmt hat.</p>
        <p class="meta">fod-Händler \(dealerID.markupEscaped) · Abrechnungsmonat \(period) · elektronisch als EN 16931 CII (\(number.markupEscaped).xml)</p>
        </body>
        </html>

        """
    }
}
