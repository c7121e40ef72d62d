import FoDRevenue

/// How quotes are made and credited (`fod serve --quote-validity-days`, `--quote-max-validity-days`,
/// `--attribution`, `--public-url`; docs/journeys.md).
public struct QuotePolicy: Sendable {
    /// Seconds a quote is valid when its request names no `expires_at`.
    public let validity: Int64
    /// The longest validity a request may ask for, in seconds.
    public let maxValidity: Int64
    /// Who is credited when a quote is accepted.
    public let attribution: AttributionRule
    /// The service's address as customers' and dealers' devices reach it (the QR code's link to
    /// the dealer page); empty: links are relative to the page that shows them.
    public let publicURL: String
    /// Lookups by code a key may miss: a burst, then one per this many seconds.
    public let codeMissBurst: Double
    public let codeMissInterval: Double

    /// - Throws: ``RevenueError`` `field_invalid` for a validity out of bounds.
    public init(validityDays: Int = 14, maxValidityDays: Int = 90, attribution: AttributionRule = .standard, publicURL: String = "",
                codeMissBurst: Double = 20, codeMissInterval: Double = 5) throws {
        guard (1...365).contains(maxValidityDays), (1...maxValidityDays).contains(validityDays) else {
            throw RevenueError(.fieldInvalid, "quote validity: 1 to \(maxValidityDays) days, the longest 1 to 365 days")
        }
        validity = Int64(validityDays) * 86_400
        maxValidity = Int64(maxValidityDays) * 86_400
        self.attribution = attribution
        var url = publicURL
        while url.hasSuffix("/") { url.removeLast() }
        self.publicURL = url
        self.codeMissBurst = codeMissBurst
        self.codeMissInterval = codeMissInterval
    }

    /// The dealer page's address that opens the quote with `code` (what its QR code holds).
    public func dealerPage(code: String) -> String { "\(publicURL)/dealer/quotes?code=\(QuoteCode.display(code))" }
}
