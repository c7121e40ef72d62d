import FoDInvoicing
import FoDTestSupport
import Foundation
import Testing

/// The partner's payout account and invoice contact: IBAN (ISO 13616) checked against schwifty's
/// verdicts, BIC (ISO 9362), e-mail and telephone.
@Suite("Payout account and invoice contact")
struct PayoutTests {
    struct Vectors: Decodable {
        struct Vector: Decodable { let iban: String; let valid: Bool }
        let generator: String
        let vectors: [Vector]
    }

    @Test("every IBAN of schwifty's vectors gets schwifty's verdict (valid ones of 105 countries, and their mutations)")
    func ibanAgainstSchwifty() throws {
        let data = try Data(contentsOf: TestPaths.vectors.appendingPathComponent("iban/schwifty.json"))
        let file = try JSONDecoder().decode(Vectors.self, from: data)
        #expect(file.vectors.count > 1_000)
        #expect(file.vectors.filter(\.valid).count >= 300)
        for vector in file.vectors {
            let ours = (try? IBAN(vector.iban)) != nil
            #expect(ours == vector.valid, "\(vector.iban): schwifty says \(vector.valid)")
        }
    }

    @Test("IBANs in print and electronic format, and what is wrong with the others", arguments: [
        ("DE89370400440532013000", "DE89370400440532013000"),
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("gb82 west 1234 5698 7654 32", "GB82WEST12345698765432"),
        ("FR1420041010050500013M02606", "FR1420041010050500013M02606"),
    ])
    func ibanAccepted(text: String, value: String) throws {
        let iban = try IBAN(text)
        #expect(iban.value == value)
        #expect(iban.printed.replacingOccurrences(of: " ", with: "") == value)
    }

    @Test("IBANs refused with iban_invalid and a reason", arguments: [
        ("DE88370400440532013000", "check digits"),
        ("DE8937040044053201300", "22 characters"),
        ("JP89370400440532013000", "does not issue IBANs"),
        ("DE89-3704-0044-0532-0130-00", "letters and digits"),
        ("DE8937040044053201300A", "structure"),
        ("", "letters and digits"),
    ])
    func ibanRefused(text: String, reason: String) {
        do {
            _ = try IBAN(text)
            Issue.record("\(text) was accepted")
        } catch let error as InvoicingError {
            #expect(error.code == .ibanInvalid)
            #expect(error.reason.contains(reason), "\(error.reason)")
        } catch { Issue.record("\(error)") }
    }

    @Test("BICs: 8 or 11 characters, a real country in the middle")
    func bic() {
        for good in ["DEUTDEFF", "DEUTDEFF500", "BNPAFRPPXXX", "MHCBJPJT"] { #expect((try? BIC(good)) != nil, "\(good)") }
        for bad in ["DEUTDEF", "DEUTXXFF", "deutdeff", "DEUTDEFF50", "1EUTDEFF", "DEUTDEFF5000"] { #expect((try? BIC(bad)) == nil, "\(bad)") }
    }

    @Test("e-mail addresses and telephone numbers of an invoice contact")
    func contact() throws {
        for good in ["rechnung@autohaus-beispiel.de", "a.b+c@x.co.jp", "X_Y@sub.domain-1.fr"] { #expect((try? EmailAddress(good)) != nil, "\(good)") }
        for bad in ["", "a", "a@b", "a@@b.de", "a b@c.de", "a@-b.de", "a@b-.de", ".a@b.de", "a..b@c.de", "a@b..de", "ä@b.de", "a@ä.de",
                    String(repeating: "a", count: 65) + "@b.de"] {
            #expect((try? EmailAddress(bad)) == nil, "\(bad)")
        }
        let email = try EmailAddress("rechnung@autohaus-beispiel.de")
        #expect((try? InvoiceContact(name: "Buchhaltung", phone: "+49 89 123456-0", email: email)) != nil)
        for bad in ["", "12", "+", "089 123 4567 ext", "0+49 89", "12345678901234567890123456789012345"] {
            #expect((try? InvoiceContact(name: "Buchhaltung", phone: bad, email: email)) == nil, "\(bad)")
        }
        #expect((try? InvoiceContact(name: "", phone: "+49 89 1234", email: email)) == nil)
    }

    @Test("a payout account decodes from JSON with its checks, and encodes back the same")
    func payoutJSON() throws {
        let json = #"{"iban":"DE89 3704 0044 0532 0130 00","bic":"COBADEFFXXX","holder":"Autohaus Beispiel München GmbH"}"#
        let account = try JSONDecoder().decode(PayoutAccount.self, from: Data(json.utf8))
        #expect(account.iban?.value == "DE89370400440532013000")
        let again = try JSONDecoder().decode(PayoutAccount.self, from: try JSONEncoder().encode(account))
        #expect(again == account)
        for bad in [#"{"iban":"DE00370400440532013000","holder":"X"}"#, #"{"holder":"X"}"#,
                    #"{"iban":"DE89370400440532013000","account":"0001-123-1234567","bic":"MHCBJPJT","holder":"X"}"#,
                    #"{"account":"0001-123-1234567","holder":"X"}"#, #"{"account":"1","bic":"MHCBJPJT","holder":"X"}"#] {
            #expect(throws: InvoicingError.self, "\(bad)") { try JSONDecoder().decode(PayoutAccount.self, from: Data(bad.utf8)) }
        }
        let japan = try JSONDecoder().decode(PayoutAccount.self, from: Data(#"{"account":"0001-123-1234567","bic":"MHCBJPJT","holder":"Sample Motors Osaka K.K."}"#.utf8))
        #expect(japan.account == "0001-123-1234567" && japan.iban == nil)
    }
}
