import FoDEntitlements

/// Builds a month's report from a stream of events in one pass.
///
/// It keeps the activations of the period and the month before (compact records), the refunds
/// dated in those two months, and for every other event id where its row is (``FingerprintTable``,
/// 8 bytes an event). Every verdict that depends on ids — a duplicate, the activation a refund
/// refers to — is decided by comparing the ids' bytes, reading an earlier row's id again from the
/// input where it is not held (``EventIDSource``); hashes only propose candidates.
/// Rows that cannot be used are handed to `onReject` as they are read, in file order.
public final class ReportBuilder: EventSink {
    let rules: RuleSet
    let period: ReportPeriod
    private let onReject: (RejectedRow) -> Void

    // Mutated once or more per row by the one thread that feeds the builder; dynamic exclusivity
    // checks on these cost more than the work itself (see docs/benchmarks.md).
    @exclusivity(unchecked) var counts = ReportCounts()
    let fingerprints: FingerprintTable
    let idHash: EventIDHash
    /// Where ids of earlier rows are read again; `nil` until a reader attaches one, and then
    /// ``idArchive`` keeps the ids instead.
    private var ids: (any EventIDSource)?
    /// Every accepted id, length-prefixed, when no reader gave an ``EventIDSource``.
    @exclusivity(unchecked) private var idArchive: [UInt8] = []
    @exclusivity(unchecked) var arena: [UInt8] = []
    @exclusivity(unchecked) var activations: [HeldActivation] = []
    @exclusivity(unchecked) var refunds: [HeldRefund] = []

    @exclusivity(unchecked) var dealers = ByteInterner<Result<String, RevenueError>>()
    @exclusivity(unchecked) var features = ByteInterner<Result<FeatureCode, RevenueError>>()
    @exclusivity(unchecked) var markets = ByteInterner<Result<Market, RevenueError>>()
    @exclusivity(unchecked) var currencies = ByteInterner<Result<Currency, RevenueError>>()
    @exclusivity(unchecked) var terms = ByteInterner<Result<Term, RevenueError>>()
    @exclusivity(unchecked) var channels = ByteInterner<Result<Channel, RevenueError>>()

    /// Creates a builder.
    /// - Parameters:
    ///   - expectedRows: a size hint (for example the file size / 100) so tables need not grow.
    ///   - onReject: receives each rejected row as it is read.
    public convenience init(rules: RuleSet, period: ReportPeriod, expectedRows: Int = 0, onReject: @escaping (RejectedRow) -> Void) {
        self.init(rules: rules, period: period, expectedRows: expectedRows, idHash: .sipHash, onReject: onReject)
    }

    /// Creates a builder with another id hash (tests use bad ones to show verdicts do not depend on it).
    init(rules: RuleSet, period: ReportPeriod, expectedRows: Int = 0, idHash: EventIDHash, onReject: @escaping (RejectedRow) -> Void) {
        self.rules = rules
        self.period = period
        self.onReject = onReject
        self.idHash = idHash
        self.fingerprints = FingerprintTable(capacity: max(1 << 16, expectedRows * 10 / 7 + 1))
    }

    /// Takes the reader's way of reading ids again.
    public func attach(_ ids: any EventIDSource) {
        if self.ids == nil && fingerprints.count == 0 { self.ids = ids }
    }

    /// How many times an id was compared with an earlier row's id, and how many of those read
    /// the earlier row again from the input (its id not held): what exactness cost on this input.
    public private(set) var idComparisons = 0
    public private(set) var idRereads = 0

    /// Whether the id of the table entry `entry` is `id`: compared in the arena when the entry is
    /// a held activation, else read again from the input (or the archive).
    func idEquals(_ entry: Int64, _ id: UnsafeRawBufferPointer) throws -> Bool {
        idComparisons += 1
        if let index = heldActivation(entry: entry) {
            let activation = activations[Int(index)]
            return Int(activation.idLength) == id.count
                && arena[Int(activation.idOffset)..<(Int(activation.idOffset) + Int(activation.idLength))].elementsEqual(id)
        }
        if let ids {
            idRereads += 1
            return try ids.eventID(atOffset: entry).elementsEqual(id)
        }
        let start = Int(entry)
        let length = Int(idArchive[start])
        return length == id.count && idArchive[(start + 1)..<(start + 1 + length)].elementsEqual(id)
    }

    /// The held activation whose id is the table entry `entry`, if there is one (binary search:
    /// entries grow in file order).
    func heldActivation(entry: Int64) -> Int32? {
        var low = 0, high = activations.count
        while low < high {
            let middle = (low + high) / 2
            if activations[middle].entry < entry { low = middle + 1 } else { high = middle }
        }
        return low < activations.count && activations[low].entry == entry ? Int32(low) : nil
    }

    /// Records an id as accepted.
    /// - Returns: the table entry of the id (the row's offset, or the archive's), and whether it
    ///   is new; when it is not, the entry is the earlier row's.
    @inline(__always)
    private func accept(_ event: RawEvent, _ id: UnsafeRawBufferPointer, _ hash: UInt64,
                        _ tag: FingerprintTable.Tag) throws -> (entry: Int64, isNew: Bool) {
        let entry = ids == nil ? Int64(idArchive.count) : event.offset
        if let existing = try fingerprints.insert(hash, tag, offset: entry, isSameID: { try idEquals($0, id) }) {
            return (existing, false)
        }
        if ids == nil {
            idArchive.append(UInt8(id.count))
            idArchive.append(contentsOf: id)
        }
        return (entry, true)
    }

    /// Reports a row that could not be read as a row at all.
    public func malformed(line: Int64, eventID: String, reason: String) {
        counts.rowsRead += 1
        reject(RejectedRow(line: line, eventID: eventID, code: .rowMalformed, reason: reason))
    }

    func reject(_ row: RejectedRow) {
        counts.rejected += 1
        onReject(row)
    }

    /// Takes one row.
    public func consume(_ event: RawEvent) {
        consume(event, prepared: ReportBuilder.prepare(event, period: period, hash: idHash))
    }

    /// Takes one row whose stateless checks ``prepare(_:period:)`` already did (on another thread).
    func consume(_ event: RawEvent, prepared: PreparedEvent) {
        counts.rowsRead += 1
        do {
            try process(event, prepared)
        } catch let error as RevenueError {
            reject(RejectedRow(line: event.line, eventID: String(event.string(.eventID).prefix(64)), code: error.code, reason: error.reason))
        } catch {
            reject(RejectedRow(line: event.line, eventID: String(event.string(.eventID).prefix(64)), code: .fieldInvalid, reason: "\(error)"))
        }
    }

    private static let activationBytes: StaticString = "activation"
    private static let refundBytes: StaticString = "refund"

    /// The checks of a row that need no shared state, in the order the full check reports them:
    /// ids, timestamp, kind, refers_to, VIN, then the amounts (reported after the interned fields).
    static func prepare(_ event: RawEvent, period: ReportPeriod, hash: EventIDHash) -> PreparedEvent {
        var prepared = PreparedEvent()
        let id = event[.eventID]
        prepared.fingerprint = hash(id)
        do {
            try checkID(id, "event_id")
            guard let time = Timestamp.parse(event[.occurredAt]) else {
                throw RevenueError(.timestampInvalid, "occurred_at \"\(event.string(.occurredAt).prefix(40))\" is not an RFC 3339 timestamp such as 2026-11-03T09:15:00Z")
            }
            prepared.time = time
            let kind = event[.kind]
            if equals(kind, refundBytes) {
                prepared.isRefund = true
                let refersTo = event[.refersTo]
                try checkID(refersTo, "refers_to")
                prepared.refersToHash = hash(refersTo)
                return prepared
            }
            guard equals(kind, activationBytes) else {
                throw RevenueError(.fieldInvalid, "kind \"\(event.string(.kind).prefix(20))\" is not activation or refund")
            }
            guard event[.refersTo].isEmpty else {
                throw RevenueError(.fieldInvalid, "refers_to must be empty on an activation")
            }
            let vinField = event[.vin]
            guard vinField.count == 17 else {
                throw RevenueError(.fieldInvalid, "vin \"\(String(decoding: vinField, as: UTF8.self).prefix(30))\": a VIN has 17 characters")
            }
            try withUnsafeMutableBytes(of: &prepared.vin) { buffer in
                for index in 0..<17 {
                    let byte = vinField[index]
                    buffer[index] = byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") ? byte - 32 : byte
                }
                do { _ = try VIN.check(UnsafeRawBufferPointer(rebasing: buffer[0..<17])) } catch let error as EntitlementError {
                    throw RevenueError(.fieldInvalid, "vin: \(error.reason)")
                }
            }
        } catch let error as RevenueError {
            prepared.error = error
            return prepared
        } catch {
            prepared.error = RevenueError(.fieldInvalid, "\(error)")
            return prepared
        }
        do {
            prepared.gross = try integer(event[.grossMinor], "gross_minor", code: .amountInvalid, max: Int64.max)
            prepared.vatBps = try integer(event[.vatBps], "vat_bps", code: .vatInvalid, max: 10_000)
        } catch let error as RevenueError {
            prepared.amountError = error
        } catch {
            prepared.amountError = RevenueError(.amountInvalid, "\(error)")
        }
        return prepared
    }

    @inline(__always)
    private func process(_ event: RawEvent, _ prepared: PreparedEvent) throws {
        // Start loading the table slot: the cache miss then overlaps with the checks below.
        fingerprints.prefetch(prepared.fingerprint)
        if let error = prepared.error { throw error }
        let id = event[.eventID]
        let time = prepared.time
        let held = time >= period.previousStart && time < period.end
        if prepared.isRefund {
            let refersTo = event[.refersTo]
            guard try accept(event, id, prepared.fingerprint, FingerprintTable.Tag(activation: false, afterPeriod: time >= period.end)).isNew else {
                throw RevenueError(.duplicateEvent, "event_id \"\(event.string(.eventID))\" is used by an earlier row")
            }
            if held {
                let offset = try appendToArena(id, refersTo)
                refunds.append(HeldRefund(time: time, line: event.line, refersToHash: prepared.refersToHash, idOffset: offset,
                                          idLength: UInt8(id.count), refersToLength: UInt8(refersTo.count), inPeriod: time >= period.start))
            } else {
                counts.outsidePeriod += 1
            }
            return
        }
        let feature = try ReportBuilder.resolve(&features, event[.feature], "feature") { try FeatureCode($0) }
        let term = try ReportBuilder.resolve(&terms, event[.term], "term") { try Term(validating: $0) }
        let channel = try ReportBuilder.resolve(&channels, event[.channel], "channel") { try Channel(validating: $0) }
        let market = try ReportBuilder.resolve(&markets, event[.market], "market") { try Market($0) }
        let currency = try ReportBuilder.resolve(&currencies, event[.currency], "currency") { try Currency($0) }
        let dealerField = event[.dealerID]
        let dealer: Int32 = dealerField.isEmpty ? -1 : try ReportBuilder.resolve(&dealers, dealerField, "dealer_id") { try DealerID($0).value }
        if let error = prepared.amountError { throw error }
        let accepted = try accept(event, id, prepared.fingerprint, FingerprintTable.Tag(activation: true, afterPeriod: time >= period.end))
        guard accepted.isNew else {
            throw RevenueError(.duplicateEvent, "event_id \"\(event.string(.eventID))\" is used by an earlier row")
        }
        guard held else {
            counts.outsidePeriod += 1
            return
        }
        var vin = prepared.vin
        let offset = try withUnsafeBytes(of: &vin) { try appendToArena(id, UnsafeRawBufferPointer(rebasing: $0[0..<17])) }
        activations.append(HeldActivation(time: time, entry: accepted.entry, gross: prepared.gross, idOffset: offset, dealer: dealer, feature: feature,
                                          market: market, currency: currency, term: term, channel: channel, vatBps: Int16(prepared.vatBps),
                                          idLength: UInt8(id.count), inPeriod: time >= period.start))
    }

    /// Copies two byte strings into the arena, one after the other; returns the first's offset.
    private func appendToArena(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) throws -> UInt32 {
        let offset = arena.count
        guard offset + first.count + second.count < Int(UInt32.max) else {
            throw RevenueError(.overflow, "more than 4 GiB of ids in two months")
        }
        arena.append(contentsOf: first)
        arena.append(contentsOf: second)
        return UInt32(offset)
    }

    @inline(__always)
    private static func equals(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        bytes.count == literal.utf8CodeUnitCount && literal.withUTF8Buffer { $0.elementsEqual(bytes) }
    }

    /// An id: 1–64 bytes, no control characters.
    @inline(__always)
    private static func checkID(_ bytes: UnsafeRawBufferPointer, _ name: String) throws {
        guard (1...64).contains(bytes.count) else {
            throw RevenueError(.fieldInvalid, "\(name) must be 1 to 64 characters, it has \(bytes.count)")
        }
        for byte in bytes where byte < 0x20 || byte == 0x7F {
            throw RevenueError(.fieldInvalid, "\(name) contains a control character")
        }
    }

    /// A non-negative integer of plain digits, at most `max`.
    @inline(__always)
    private static func integer(_ bytes: UnsafeRawBufferPointer, _ name: String, code: RevenueError.Code, max: Int64) throws -> Int64 {
        guard !bytes.isEmpty, bytes.count <= 19 else {
            throw RevenueError(code, "\(name) \"\(String(decoding: bytes, as: UTF8.self).prefix(30))\" is not a non-negative integer")
        }
        var value: Int64 = 0
        for byte in bytes {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else {
                let text = String(decoding: bytes, as: UTF8.self)
                let why = text.hasPrefix("-") ? "is negative" : "is not a non-negative integer in minor units"
                throw RevenueError(code, "\(name) \"\(text.prefix(30))\" \(why)")
            }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(Int64(digit))
            guard !o1, !o2 else { throw RevenueError(code, "\(name) is too large") }
            value = sum
        }
        guard value <= max else { throw RevenueError(code, "\(name) is \(value); the most allowed is \(max)") }
        return value
    }

    /// Interns a field and returns its index, validating a value the first time it is seen.
    @inline(__always)
    private static func resolve<T>(_ interner: inout ByteInterner<Result<T, RevenueError>>, _ bytes: UnsafeRawBufferPointer, _ name: String,
                                   _ make: (String) throws -> T) throws -> Int32 {
        let index = interner.index(of: bytes) { raw in
            let text = String(decoding: raw, as: UTF8.self)
            do { return .success(try make(text)) } catch let error as RevenueError {
                return .failure(RevenueError(error.code, "\(name): \(error.reason)"))
            } catch let error as EntitlementError {
                return .failure(RevenueError(.fieldInvalid, "\(name): \(error.reason)"))
            } catch {
                return .failure(RevenueError(.fieldInvalid, "\(name): \(error)"))
            }
        }
        if case .failure(let error) = interner.values[Int(index)] { throw error }
        return index
    }
}
