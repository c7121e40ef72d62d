import FoDCore

/// A self-billing credit note (Gutschrift, §14(2) Satz 2 UStG) for one dealer's commission in one
/// currency over one closed month, or — when the month's clawbacks exceed its commission — the
/// correction document by which the dealer pays the difference back. Made once, at the period's
/// close, with the parties' data of that moment; rendered as CII XML and as HTML from this value.
public struct CreditNote: Sendable, Hashable, Codable {
    /// What the document is.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// The month's commission is owed to the dealer: a self-billed invoice, UNTDID 1001 code 389.
        case creditNote = "credit_note"
        /// The month's clawbacks exceed its commission: a self-billed credit note, code 261, that
        /// reduces what earlier credit notes paid (§17 UStG), with positive amounts the dealer owes.
        case correction

        /// The document type code (BT-3).
        public var typeCode: String { self == .creditNote ? "389" : "261" }
        /// The document's title.
        public var title: String { self == .creditNote ? "Gutschrift" : "Korrektur einer Gutschrift" }
    }

    /// How the commission is taxed.
    public struct VATTreatment: Sendable, Hashable, Codable {
        /// EN 16931 VAT category (BT-118): `S` standard rate, `AE` reverse charge.
        public let category: String
        /// The rate in basis points (0 for reverse charge).
        public let rateBps: Int64
        /// The exemption note (BT-120) and its code (BT-121) when no VAT is charged.
        public let exemptionNote: String?
        public let exemptionCode: String?

        private enum CodingKeys: String, CodingKey {
            case category, rateBps = "rate_bps", exemptionNote = "exemption_note", exemptionCode = "exemption_code"
        }
    }

    /// One line (BG-25): what the month consisted of. `amount` is the line's net amount, negative
    /// for what reduces the document's total.
    public struct Line: Sendable, Hashable, Codable {
        public let description: String
        /// How many activations, clawbacks or adjustments the line stands for.
        public let count: Int64
        public let amount: Int64
    }

    /// The number (BT-1), unique and without gaps per issuer and year: `GS-2026-000001`.
    public let number: String
    public let kind: Kind
    /// The issue date (BT-2), `YYYY-MM-DD`: the day of the close.
    public let issueDate: String
    /// The payment's due date (BT-9), `YYYY-MM-DD`.
    public let dueDate: String
    /// The closed month, `YYYY-MM`, and its first and last day (BG-14, the service period).
    public let period: String
    public let periodStart: String
    public let periodEnd: String
    /// fod's id of the dealer.
    public let dealerID: String
    /// The dealer: the seller of the service (BG-4).
    public let dealer: LegalParty
    /// The OEM: the buyer, who issues the document (BG-7).
    public let issuer: LegalParty
    public let currency: Currency
    public let lines: [Line]
    public let vat: VATTreatment
    /// The sum of the lines (BT-106, BT-109), the VAT (BT-110) and the total (BT-112, BT-115).
    public let net: Int64
    public let tax: Int64
    public let total: Int64
    /// A correction's reference to the dealer's latest credit note before it (BT-25).
    public let precedingNumber: String?

    private enum CodingKeys: String, CodingKey {
        case number, kind, issueDate = "issue_date", dueDate = "due_date", period, periodStart = "period_start", periodEnd = "period_end"
        case dealerID = "dealer_id", dealer, issuer, currency, lines, vat, net, tax, total, precedingNumber = "preceding_number"
    }
}

/// What a credit note is made from: one dealer's closed statement in one currency, before the
/// close gives it a number.
public struct CreditNoteDraft: Sendable, Hashable {
    /// One part of the document: a site's figures (labelled), or the whole when the partner has
    /// one site of its own id (no label: the lines read as before the network).
    public struct Part: Sendable, Hashable {
        /// What the part's lines name: `Standort DE-10003 Autohaus Beispiel Augsburg`; `nil`: none.
        public let label: String?
        public let share: Int64
        public let clawback: Int64
        public let adjustment: Int64
        public let activations: Int64
        public let clawbacks: Int64
        public let adjustments: Int64

        public init(label: String?, share: Int64, clawback: Int64, adjustment: Int64, activations: Int64, clawbacks: Int64, adjustments: Int64) {
            self.label = label
            self.share = share
            self.clawback = clawback
            self.adjustment = adjustment
            self.activations = activations
            self.clawbacks = clawbacks
            self.adjustments = adjustments
        }
    }

    /// The partner paid (the seller on the document).
    public let dealerID: String
    public let currency: Currency
    /// Commission on the month's activations, clawed back commission (positive), the sum of the
    /// adjustments settled in the month (signed), and how many of each: the sums of ``parts``.
    public let share: Int64
    public let clawback: Int64
    public let adjustment: Int64
    public let activations: Int64
    public let clawbacks: Int64
    public let adjustments: Int64
    /// The parts, in the order the lines list them.
    public let parts: [Part]

    /// A draft of one unlabelled part.
    public init(dealerID: String, currency: Currency, share: Int64, clawback: Int64, adjustment: Int64,
                activations: Int64, clawbacks: Int64, adjustments: Int64) {
        self.dealerID = dealerID
        self.currency = currency
        self.share = share
        self.clawback = clawback
        self.adjustment = adjustment
        self.activations = activations
        self.clawbacks = clawbacks
        self.adjustments = adjustments
        self.parts = [Part(label: nil, share: share, clawback: clawback, adjustment: adjustment, activations: activations,
                           clawbacks: clawbacks, adjustments: adjustments)]
    }

    /// A draft of several parts (a partner's sites), summed exactly.
    /// - Throws: ``InvoicingError`` `overflow`.
    public init(dealerID: String, currency: Currency, parts: [Part]) throws {
        func sum(_ value: (Part) -> Int64) throws -> Int64 {
            try parts.reduce(Int64(0)) { total, part in
                let (next, overflow) = total.addingReportingOverflow(value(part))
                guard !overflow else { throw InvoicingError(.overflow, "the sums of \(dealerID) \(currency) do not fit in 64 bits") }
                return next
            }
        }
        self.dealerID = dealerID
        self.currency = currency
        self.share = try sum(\.share)
        self.clawback = try sum(\.clawback)
        self.adjustment = try sum(\.adjustment)
        self.activations = try sum(\.activations)
        self.clawbacks = try sum(\.clawbacks)
        self.adjustments = try sum(\.adjustments)
        self.parts = parts
    }

    /// What the dealer is owed: `share - clawback + adjustment` (negative: what it owes back).
    public func payable() throws -> Int64 {
        let (a, o1) = share.subtractingReportingOverflow(clawback)
        let (b, o2) = a.addingReportingOverflow(adjustment)
        guard !o1, !o2 else { throw InvoicingError(.overflow, "the payable of \(dealerID) \(currency) does not fit in 64 bits") }
        return b
    }
}
