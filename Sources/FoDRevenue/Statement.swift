import FoDCore
/// One dealer's monthly statement in one currency.
public struct Statement: Sendable, Hashable {
    /// The dealer; empty for activations credited to no dealer (so the statements reconcile with the input).
    public let dealerID: String
    public let currency: Currency
    /// Activations of the period.
    public var activations: Int64 = 0
    /// Clawbacks booked in the period.
    public var clawbacks: Int64 = 0
    public var gross: Int64 = 0
    public var vat: Int64 = 0
    public var net: Int64 = 0
    /// Commission earned on the period's activations.
    public var share: Int64 = 0
    /// Commission clawed back in the period, as a positive amount.
    public var clawback: Int64 = 0
    /// The dealer's tier bonus in the period.
    public var tierBonusBps: Int64 = 0
    /// The same figures by the plan version that priced them (one entry for a month under one version).
    public internal(set) var byPlanVersion: [PlanVersionFigures] = []

    /// `share - clawback`.
    public var payable: Int64 { share - clawback }

    init(dealerID: String, currency: Currency) {
        self.dealerID = dealerID
        self.currency = currency
    }
}

/// A statement's activations and clawbacks priced by one plan version.
public struct PlanVersionFigures: Sendable, Hashable {
    public let plan: String
    public let version: String
    public var activations: Int64 = 0
    public var share: Int64 = 0
    public var clawbacks: Int64 = 0
    /// Positive, as ``Statement/clawback``.
    public var clawback: Int64 = 0

    init(plan: String, version: String) {
        self.plan = plan
        self.version = version
    }
}

extension Statement {
    /// Adds an activation's (or, with `clawback`, a clawback's) share to its version's figures.
    mutating func book(plan: String, version: String, share: Int64, clawback: Bool) throws {
        var index = byPlanVersion.firstIndex { $0.plan == plan && $0.version == version }
        if index == nil {
            byPlanVersion.append(PlanVersionFigures(plan: plan, version: version))
            index = byPlanVersion.count - 1
        }
        if clawback {
            byPlanVersion[index!].clawbacks += 1
            byPlanVersion[index!].clawback = try MinorUnits.add(byPlanVersion[index!].clawback, share)
        } else {
            byPlanVersion[index!].activations += 1
            byPlanVersion[index!].share = try MinorUnits.add(byPlanVersion[index!].share, share)
        }
    }
}

/// Totals of one currency over all statements (never summed across currencies).
public struct CurrencyTotal: Sendable, Hashable {
    public let currency: Currency
    public var activations: Int64 = 0
    public var clawbacks: Int64 = 0
    public var gross: Int64 = 0
    public var vat: Int64 = 0
    public var net: Int64 = 0
    public var share: Int64 = 0
    public var clawback: Int64 = 0
    /// What the OEM keeps: `net - share + clawback`.
    public var oem: Int64 = 0
    /// `share - clawback`.
    public var payable: Int64 { share - clawback }

    init(currency: Currency) { self.currency = currency }
}

/// Activations and gross per feature and currency, for the people-facing report.
public struct FeatureMix: Sendable, Hashable {
    public let feature: String
    public let currency: Currency
    public var activations: Int64 = 0
    public var gross: Int64 = 0
    public var share: Int64 = 0
}

/// How many rows went where. `rowsRead == used + outsidePeriod + rejected`.
public struct ReportCounts: Sendable, Hashable {
    /// Data rows in the file (the header not counted).
    public var rowsRead: Int64 = 0
    /// Activations of the period, and refunds of the period matched to an activation.
    public var used: Int64 = 0
    /// Valid rows dated outside the period (the month before included: its activations are context).
    public var outsidePeriod: Int64 = 0
    /// Rows in rejects.csv.
    public var rejected: Int64 = 0
    /// Refunds of the period after the clawback window: no clawback.
    public var lateRefunds: Int64 = 0
}
