import FoDCore
/// An activation of the period or the month before, as the builder keeps it: fixed-size, with
/// its strings in a shared byte arena and its codes as indexes into interners.
struct HeldActivation: Sendable {
    var time: Int64
    /// Where the fingerprint table finds the id: the row's input offset (or its ``ReportBuilder``
    /// archive offset). Increasing in file order, so an entry maps back to its held activation.
    var entry: Int64
    var gross: Int64
    /// Arena offset of the event id, followed directly by the 17 VIN bytes.
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

/// One line of the book extract before it is turned into text: 16 bytes, as the amounts are
/// computed again from the activation when the line is read (``ReportLines/allocation(_:)``).
struct LineRecord {
    var activation: Int32
    /// -1 for an activation line; the refund's index for a clawback.
    var refund: Int32
    var rule: Int32
    /// The tier bonus of the dealer in the activation's month.
    var tierBonusBps: Int32
}

/// The strings behind the indexes in held records, shared by the report's lines.
final class ReportStrings: @unchecked Sendable {
    // Immutable once the builder hands the report out.
    let arena: ByteArena
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

    init(arena: ByteArena, dealers: [String], features: [String], markets: [String], currencies: [Currency],
         terms: [String], channels: [String], saleKinds: [SaleKind], rules: [Rule], ruleIDs: [String], ruleFixed: [Int64], ruleCaps: [Int64?]) {
        self.arena = arena
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

    func string(_ offset: UInt32, _ length: Int) -> String {
        arena.string(offset, length)
    }

    func dealer(_ index: Int32) -> String { index < 0 ? "" : dealers[Int(index)] }
}

/// The book extract as a collection that builds each ``ReportLine`` when it is read.
public struct ReportLines: RandomAccessCollection, Sendable {
    let records: [LineRecord]
    let activations: ChunkedArray<HeldActivation>
    let refunds: ChunkedArray<HeldRefund>
    let strings: ReportStrings
    /// Decimals of the second that every timestamp of `lines.csv` is written with: the fewest
    /// (0, 3, 6 or 9) that keep every line's time exact.
    let timestampDigits: Int

    public var startIndex: Int { 0 }
    public var endIndex: Int { records.count }

    /// How a line's activation divides: the one computation (``Allocation``), done again from
    /// the same inputs as when the report was made.
    static func allocation(_ record: LineRecord, _ activation: HeldActivation, saleKinds: [SaleKind], rules: [Rule]) throws -> Allocation {
        try Allocation(grossMinor: activation.gross, vatBps: Int64(saleKinds[Int(activation.saleKind)].vatBps), rule: rules[Int(record.rule)],
                       tierBonusBps: Int64(record.tierBonusBps), hasDealer: activation.dealer >= 0)
    }

    /// The allocation of line `record`. It cannot fail: ``ReportBuilder/finish()`` computed it
    /// from the same values before the lines existed.
    func allocation(_ record: LineRecord) -> Allocation {
        try! ReportLines.allocation(record, activations[Int(record.activation)], saleKinds: strings.saleKinds, rules: strings.rules)
    }

    public subscript(position: Int) -> ReportLine {
        let record = records[position]
        let allocation = allocation(record)
        let activation = activations[Int(record.activation)]
        let saleKind = strings.saleKinds[Int(activation.saleKind)]
        let activationID = strings.string(activation.idOffset, Int(activation.idLength))
        let vin = strings.string(activation.idOffset + UInt32(activation.idLength), 17)
        let isClawback = record.refund >= 0
        let refund = isClawback ? refunds[Int(record.refund)] : nil
        return ReportLine(
            kind: isClawback ? .clawback : .activation,
            eventID: refund.map { strings.string($0.idOffset, Int($0.idLength)) } ?? activationID,
            refersTo: isClawback ? activationID : "",
            occurredAt: refund?.time ?? activation.time,
            dealerID: strings.dealer(activation.dealer),
            vin: vin,
            feature: strings.features[Int(saleKind.feature)],
            term: strings.terms[Int(saleKind.term)],
            channel: strings.channels[Int(saleKind.channel)],
            market: strings.markets[Int(saleKind.market)],
            currency: strings.currencies[Int(saleKind.currency)],
            gross: isClawback ? 0 : activation.gross,
            vatBps: Int64(saleKind.vatBps),
            vat: isClawback ? 0 : allocation.vat,
            net: isClawback ? 0 : allocation.net,
            ruleID: strings.ruleIDs[Int(record.rule)],
            rateBps: allocation.rateBps,
            share: isClawback ? -allocation.share : allocation.share,
            oem: isClawback ? allocation.share : allocation.oem,
            basis: allocation.net,
            fixed: strings.ruleFixed[Int(record.rule)],
            cap: strings.ruleCaps[Int(record.rule)])
    }
}
