import FoDCore
/// An activation of the period or the month before, as the builder keeps it: fixed-size, with
/// its strings in a shared byte arena and its codes as indexes into interners.
struct HeldActivation: Sendable {
    var time: Int64
    /// Where the fingerprint table finds the id: the row's input offset (or its ``ReportBuilder``
    /// archive offset). Increasing in file order, so an entry maps back to its held activation.
    var entry: Int64
    var gross: Int64
    /// Where the event id starts in its block's bytes (``HeldActivations``), followed directly by the 17 VIN bytes.
    var idOffset: UInt32
    var dealer: Int32  // -1: none
    /// What was sold where, as an index into the builder's sale kinds (``SaleKind``) (a few hundred in a file).
    var saleKind: Int32
    var idLength: UInt8
    var inPeriod: Bool
}

/// What an activation sold, where and at what VAT, as indexes into the builder's interners:
/// activations share a few hundred of these, so each held activation keeps only its index.
struct SaleKind: Hashable, Sendable {
    var feature: Int32
    var market: Int32
    var currency: Int32
    var term: Int32
    var channel: Int32
    var vatBps: Int16
}

/// A refund dated in the period or the month before.
struct HeldRefund: Sendable {
    var time: Int64
    var line: Int64
    /// Where the fingerprint table finds the refund's own id (as for ``HeldActivation/entry``).
    var entry: Int64
    var refersToHash: UInt64
    /// Arena offset of the event id, followed directly by the `refers_to` bytes.
    var idOffset: UInt32
    var idLength: UInt8
    var refersToLength: UInt8
    var inPeriod: Bool
}

/// The strings behind the indexes in held records, shared by the report's lines.
final class ReportStrings: Sendable {
    let dealers: [String]
    let features: [String]
    let markets: [String]
    let currencies: [Currency]
    let terms: [String]
    let channels: [String]
    let saleKinds: [SaleKind]
    let rules: [Rule]
    let ruleIDs: [String]
    /// Each rule's fixed amount and cap, by rule index.
    let ruleFixed: [Int64]
    let ruleCaps: [Int64?]
    /// The plan and the version (its label) each rule belongs to.
    let rulePlans: [String]
    let rulePlanVersions: [String]

    init(dealers: [String], features: [String], markets: [String], currencies: [Currency],
         terms: [String], channels: [String], saleKinds: [SaleKind], rules: [Rule], ruleIDs: [String], ruleFixed: [Int64], ruleCaps: [Int64?],
         rulePlans: [String], rulePlanVersions: [String]) {
        self.rulePlans = rulePlans
        self.rulePlanVersions = rulePlanVersions
        self.dealers = dealers
        self.features = features
        self.markets = markets
        self.currencies = currencies
        self.terms = terms
        self.channels = channels
        self.saleKinds = saleKinds
        self.rules = rules
        self.ruleIDs = ruleIDs
        self.ruleFixed = ruleFixed
        self.ruleCaps = ruleCaps
    }

    func dealer(_ index: Int32) -> String { index < 0 ? "" : dealers[Int(index)] }
}

/// The book extract, in order: each ``ReportLine`` is built when it is read, from the sorted
/// compact lines (``LineSorter``, in memory or, beyond the memory limit, merged from a temporary file).
public struct ReportLines: Sendable {
    let sorted: LineSorter
    let strings: ReportStrings
    /// Decimals of the second that every timestamp of `lines.csv` is written with: the fewest
    /// (0, 3, 6 or 9) that keep every line's time exact.
    let timestampDigits: Int

    /// How many lines there are.
    public var count: Int { sorted.count }
    /// Whether there are none.
    public var isEmpty: Bool { sorted.count == 0 }

    /// How a line's activation divides: the one computation (``Allocation``), done again from
    /// the same inputs as when the report was made.
    static func allocation(_ line: LineEntry, saleKinds: [SaleKind], rules: [Rule]) throws -> Allocation {
        try Allocation(grossMinor: line.gross, vatBps: Int64(saleKinds[Int(line.saleKind)].vatBps), rule: rules[Int(line.rule)],
                       tierBonusBps: Int64(line.tierBonusBps), hasDealer: line.dealer >= 0)
    }

    /// The allocation of a line (``ReportBuilder/finish()`` computed it from the same values
    /// before the line was kept, so it does not fail unless those were damaged).
    func allocation(_ line: LineEntry) throws -> Allocation {
        try ReportLines.allocation(line, saleKinds: strings.saleKinds, rules: strings.rules)
    }

    /// Calls `body` with each line in order, as its compact entry and the buffer of its strings.
    /// - Throws: ``RevenueError`` `spill_failed` when the temporary file cannot be read back; what `body` throws.
    func forEachEntry(_ body: (LineEntry, UnsafeRawBufferPointer) throws -> Void) throws {
        try sorted.makeMerge().forEach(body)
    }

    /// The line of an entry.
    func line(_ entry: LineEntry, _ bytes: UnsafeRawBufferPointer) throws -> ReportLine {
        let allocation = try allocation(entry)
        let saleKind = strings.saleKinds[Int(entry.saleKind)]
        func text(_ start: Int, _ length: Int) -> String {
            String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)]), as: UTF8.self)
        }
        let start = Int(entry.bytesOffset), idLength = Int(entry.eventIDLength), refersLength = Int(entry.refersToLength)
        let isClawback = entry.isClawback
        return ReportLine(
            kind: isClawback ? .clawback : .activation,
            eventID: text(start, idLength),
            refersTo: text(start + idLength, refersLength),
            occurredAt: entry.time,
            dealerID: strings.dealer(entry.dealer),
            vin: text(start + idLength + refersLength, 17),
            feature: strings.features[Int(saleKind.feature)],
            term: strings.terms[Int(saleKind.term)],
            channel: strings.channels[Int(saleKind.channel)],
            market: strings.markets[Int(saleKind.market)],
            currency: strings.currencies[Int(saleKind.currency)],
            gross: isClawback ? 0 : entry.gross,
            vatBps: Int64(saleKind.vatBps),
            vat: isClawback ? 0 : allocation.vat,
            net: isClawback ? 0 : allocation.net,
            ruleID: strings.ruleIDs[Int(entry.rule)],
            rateBps: allocation.rateBps,
            share: isClawback ? -allocation.share : allocation.share,
            oem: isClawback ? allocation.share : allocation.oem,
            basis: allocation.net,
            fixed: strings.ruleFixed[Int(entry.rule)],
            cap: strings.ruleCaps[Int(entry.rule)],
            plan: strings.rulePlans[Int(entry.rule)],
            planVersion: strings.rulePlanVersions[Int(entry.rule)])
    }

    /// Calls `body` with each line in order.
    /// - Throws: ``RevenueError`` `spill_failed` when a temporary file the report wrote cannot be
    ///   read back (the lines of a large report are kept on disk); what `body` throws.
    public func forEachLine(_ body: (ReportLine) throws -> Void) throws {
        let merge = sorted.makeMerge()
        while let line = try merge.next({ try self.line($0, $1) }) { try body(line) }
    }

    /// Every line, in order, in memory (a small report; a large one is walked with ``forEachLine(_:)``).
    /// - Throws: as ``forEachLine(_:)``.
    public func collect() throws -> [ReportLine] {
        var out: [ReportLine] = []
        out.reserveCapacity(count)
        try forEachLine { out.append($0) }
        return out
    }
}
