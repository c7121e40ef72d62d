/// An activation of the period or the month before, as the builder keeps it: fixed-size, with
/// its strings in a shared byte arena and its codes as indexes into interners.
struct HeldActivation {
    var time: Int64
    /// Where the fingerprint table finds the id: the row's input offset (or its ``ReportBuilder``
    /// archive offset). Increasing in file order, so an entry maps back to its held activation.
    var entry: Int64
    var gross: Int64
    /// Arena offset of the event id, followed directly by the 17 VIN bytes.
    var idOffset: UInt32
    var dealer: Int32  // -1: none
    var feature: Int32
    var market: Int32
    var currency: Int32
    var term: Int32
    var channel: Int32
    var vatBps: Int16
    var idLength: UInt8
    var inPeriod: Bool
}

/// A refund dated in the period or the month before.
struct HeldRefund {
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

/// One line of the book extract before it is turned into text.
struct LineRecord {
    var activation: Int32
    /// -1 for an activation line; the refund's index for a clawback.
    var refund: Int32
    var rule: Int32
    var rateBps: Int32
    var vat: Int64
    var net: Int64
    var share: Int64
}

/// The strings behind the indexes in held records, shared by the report's lines.
final class ReportStrings: @unchecked Sendable {
    // Immutable once the builder hands the report out.
    let arena: [UInt8]
    let dealers: [String]
    let features: [String]
    let markets: [String]
    let currencies: [Currency]
    let terms: [String]
    let channels: [String]
    let ruleIDs: [String]
    /// Each rule's fixed amount and cap, by rule index.
    let ruleFixed: [Int64]
    let ruleCaps: [Int64?]

    init(arena: [UInt8], dealers: [String], features: [String], markets: [String], currencies: [Currency],
         terms: [String], channels: [String], ruleIDs: [String], ruleFixed: [Int64], ruleCaps: [Int64?]) {
        self.arena = arena
        self.dealers = dealers
        self.features = features
        self.markets = markets
        self.currencies = currencies
        self.terms = terms
        self.channels = channels
        self.ruleIDs = ruleIDs
        self.ruleFixed = ruleFixed
        self.ruleCaps = ruleCaps
    }

    func string(_ offset: UInt32, _ length: Int) -> String {
        String(decoding: arena[Int(offset)..<(Int(offset) + length)], as: UTF8.self)
    }

    func dealer(_ index: Int32) -> String { index < 0 ? "" : dealers[Int(index)] }
}

/// The book extract as a collection that builds each ``ReportLine`` when it is read.
public struct ReportLines: RandomAccessCollection, Sendable {
    let records: [LineRecord]
    let activations: [HeldActivation]
    let refunds: [HeldRefund]
    let strings: ReportStrings
    /// Decimals of the second that every timestamp of `lines.csv` is written with: the fewest
    /// (0, 3, 6 or 9) that keep every line's time exact.
    let timestampDigits: Int

    public var startIndex: Int { 0 }
    public var endIndex: Int { records.count }

    public subscript(position: Int) -> ReportLine {
        let record = records[position]
        let activation = activations[Int(record.activation)]
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
            feature: strings.features[Int(activation.feature)],
            term: strings.terms[Int(activation.term)],
            channel: strings.channels[Int(activation.channel)],
            market: strings.markets[Int(activation.market)],
            currency: strings.currencies[Int(activation.currency)],
            gross: isClawback ? 0 : activation.gross,
            vatBps: Int64(activation.vatBps),
            vat: isClawback ? 0 : record.vat,
            net: isClawback ? 0 : record.net,
            ruleID: strings.ruleIDs[Int(record.rule)],
            rateBps: Int64(record.rateBps),
            share: isClawback ? -record.share : record.share,
            oem: isClawback ? record.share : record.net - record.share,
            basis: record.net,
            fixed: strings.ruleFixed[Int(record.rule)],
            cap: strings.ruleCaps[Int(record.rule)])
    }
}
