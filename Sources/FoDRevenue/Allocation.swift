/// How one activation's gross price divides into VAT, the dealer's share and the OEM's part.
///
/// `share + oem + vat == gross` always holds.
public struct Allocation: Sendable, Hashable {
    /// VAT-inclusive price paid.
    public let gross: Int64
    /// VAT in the price.
    public let vat: Int64
    /// Net price: `gross - vat`.
    public let net: Int64
    /// The rate applied: the rule's share plus the tier bonus (when the rule pays a share).
    public let rateBps: Int64
    /// The dealer's commission.
    public let share: Int64
    /// What the OEM keeps of the net price.
    public let oem: Int64

    /// Allocates one activation (all amounts in minor units):
    ///
    /// ```
    /// net   = round_half_even(gross × 10000 / (10000 + vat_bps));  vat = gross − net
    /// rate  = share_bps + (share_bps > 0 ? tier bonus : 0)
    /// share = min(round_half_even(net × rate / 10000) + fixed, cap, net), or 0 without a dealer
    /// oem   = net − share
    /// ```
    /// - Throws: ``RevenueError`` `overflow`, `amount_invalid` or `vat_invalid` for out-of-range input.
    public init(grossMinor gross: Int64, vatBps: Int64, rule: Rule, tierBonusBps: Int64, hasDealer: Bool) throws {
        guard gross >= 0 else { throw RevenueError(.amountInvalid, "gross \(gross) is negative") }
        guard (0...10_000).contains(vatBps) else { throw RevenueError(.vatInvalid, "VAT rate \(vatBps) bps is outside 0–10000") }
        let net = try MinorUnits.mulDivHalfEven(gross, 10_000, 10_000 + vatBps)
        let rate = rule.shareBps + (rule.shareBps > 0 ? tierBonusBps : 0)
        var share = try MinorUnits.add(MinorUnits.mulDivHalfEven(net, rate, 10_000), rule.fixedMinor)
        if let cap = rule.capMinor { share = min(share, cap) }
        share = min(share, net)
        if !hasDealer { share = 0 }
        self.gross = gross
        self.vat = gross - net
        self.net = net
        self.rateBps = rate
        self.share = share
        self.oem = net - share
    }
}
