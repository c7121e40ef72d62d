import FoDCore
import FoDEntitlements

/// Builds a month's report from a stream of events in one pass.
///
/// It keeps the activations of the period and the month before (compact records, ``HeldActivations``,
/// on disk beyond their budget), the refunds dated in those two months, and for every other event
/// id where its row is (``FingerprintTable``, 8 bytes an event; ``IDPartitions`` beyond its budget). Every verdict that depends on ids — a duplicate, the activation a refund
/// refers to — is decided by comparing the ids' bytes, reading an earlier row's id again from the
/// input where it is not held (``EventIDSource``); hashes only propose candidates.
/// Rows that cannot be used are handed to `onReject` as they are read, in file order.
public final class ReportBuilder: EventSink {
    /// The commission plans (the network's, partners' own by site; one version for a single rules file).
    let plans: PlanSet
    /// Every plan's every version's pricing rules in one list (plan by plan, version by version), so
    /// that a line's rule index names its rule, plan and version; `ruleStart[p][v]` is where plan
    /// `p`'s version `v` begins.
    let combinedRules: [Rule]
    let ruleStart: [[Int]]
    /// The plan and version of each rule of ``combinedRules``.
    let rulePlan: [Int]
    let ruleVersion: [Int]
    let period: ReportPeriod
    private let onReject: (RejectedRow) -> Void

    // Mutated once or more per row by the one thread that feeds the builder; dynamic exclusivity
    // checks on these cost more than the work itself (see docs/benchmarks.md).
    @exclusivity(unchecked) var counts = ReportCounts()
    let fingerprints: FingerprintTable
    let idHash: EventIDHash
    /// Where ids of earlier rows are read again; `nil` until a reader attaches one, and then
    /// ``idArchive`` keeps the ids instead.
    private(set) var ids: (any EventIDSource)?
    /// Whether ``idArchive`` keeps the ids (no ``EventIDSource`` attached): a stored flag, as testing
    /// the existential for `nil` on every row copies it.
    @exclusivity(unchecked) private var archivesIDs = true
    /// Every accepted id, length-prefixed, when no reader gave an ``EventIDSource``.
    @exclusivity(unchecked) private(set) var idArchive: [UInt8] = []
    /// The held refunds' ids and `refers_to`s.
    let arena = ByteArena()
    /// The held activations, in memory up to their budget and on disk beyond it.
    let held: HeldActivations
    @exclusivity(unchecked) var refunds = ChunkedArray<HeldRefund>()
    @exclusivity(unchecked) var saleKinds: [SaleKind] = []
    @exclusivity(unchecked) var saleKindIndexes: [SaleKind: Int32] = [:]
    /// The sale kind of each combination of the five fields' bytes and the VAT rate seen.
    @exclusivity(unchecked) private var saleKindKeys = ByteInterner<Result<Int32, RevenueError>>()
    /// Scratch for a sale kind's key: five fields of under 64 bytes, each after its length, then the rate.
    private let saleKindKey = UnsafeMutableRawPointer.allocate(byteCount: 5 * 64 + 2, alignment: 8)

    deinit { saleKindKey.deallocate() }

    @exclusivity(unchecked) var dealers = ByteInterner<Result<String, RevenueError>>()
    @exclusivity(unchecked) var features = ByteInterner<Result<FeatureCode, RevenueError>>()
    @exclusivity(unchecked) var markets = ByteInterner<Result<Market, RevenueError>>()
    @exclusivity(unchecked) var currencies = ByteInterner<Result<Currency, RevenueError>>()
    @exclusivity(unchecked) var terms = ByteInterner<Result<Term, RevenueError>>()
    @exclusivity(unchecked) var channels = ByteInterner<Result<Channel, RevenueError>>()

    /// Creates a builder.
    /// - Parameters:
    ///   - expectedRows: a size hint (for example the file size / 100) so tables need not grow.
    ///   - memoryLimit: the bytes the report may use (`nil`: no limit): an eighth for the table of
    ///     event ids, a quarter for the held activations and a quarter for the sorted lines; what
    ///     does not fit is written to temporary files in `temporaryFolder` (`nil`: `TMPDIR`, else `/tmp`).
    ///   - onReject: receives each rejected row: the rows rejected while reading as they are read,
    ///     in file order; those rejected by their ids (duplicates, refunds) in line order by ``finish()``.
    public convenience init(rules: RuleSet, period: ReportPeriod, expectedRows: Int = 0, memoryLimit: Int? = nil,
                            temporaryFolder: String? = nil, onReject: @escaping (RejectedRow) -> Void) {
        self.init(plan: .single(rules), period: period, expectedRows: expectedRows, memoryLimit: memoryLimit, temporaryFolder: temporaryFolder,
                  onReject: onReject)
    }

    /// A builder that prices each activation by the plan version in force at its instant.
    public convenience init(plan: Plan, period: ReportPeriod, expectedRows: Int = 0, memoryLimit: Int? = nil,
                            temporaryFolder: String? = nil, onReject: @escaping (RejectedRow) -> Void) {
        self.init(plans: PlanSet(network: plan), period: period, expectedRows: expectedRows, memoryLimit: memoryLimit, temporaryFolder: temporaryFolder,
                  onReject: onReject)
    }

    /// A builder that prices each activation by its site's plan (a partner's own, else the
    /// network's), in the version in force at its instant.
    public convenience init(plans: PlanSet, period: ReportPeriod, expectedRows: Int = 0, memoryLimit: Int? = nil,
                            temporaryFolder: String? = nil, onReject: @escaping (RejectedRow) -> Void) {
        self.init(plans: plans, period: period, expectedRows: expectedRows, idHash: .sipHash,
                  budgets: memoryLimit.map { Budgets(memoryLimit: $0) } ?? Budgets(),
                  temporaryFolder: temporaryFolder ?? SpillFile.defaultFolder, onReject: onReject)
    }

    /// How the memory limit is divided, and the sizes of what is written out beyond it.
    struct Budgets {
        var idTable = Int.max
        var heldActivations = Int.max
        var lines = Int.max
        /// Activations per block written out (tests make them small).
        var heldBlockRecords = 1 << 16
        /// Lines per page of a sorted run on disk.
        var linePageLines = 4096

        init() {}

        init(memoryLimit: Int) {
            idTable = memoryLimit / 8
            heldActivations = memoryLimit / 4
            lines = memoryLimit / 4
        }
    }

    /// Creates a builder with another id hash (tests use bad ones to show verdicts do not depend
    /// on it) and byte budgets (tests use small ones to make everything spill).
    convenience init(rules: RuleSet, period: ReportPeriod, expectedRows: Int = 0, idHash: EventIDHash, budgets: Budgets = Budgets(),
                     temporaryFolder: String = SpillFile.defaultFolder, onReject: @escaping (RejectedRow) -> Void) {
        self.init(plans: PlanSet(network: .single(rules)), period: period, expectedRows: expectedRows, idHash: idHash, budgets: budgets,
                  temporaryFolder: temporaryFolder, onReject: onReject)
    }

    init(plans: PlanSet, period: ReportPeriod, expectedRows: Int = 0, idHash: EventIDHash, budgets: Budgets = Budgets(),
         temporaryFolder: String = SpillFile.defaultFolder, onReject: @escaping (RejectedRow) -> Void) {
        self.plans = plans
        var combined: [Rule] = [], starts: [[Int]] = [], planOf: [Int] = [], versionOf: [Int] = []
        for (p, plan) in plans.all.enumerated() {
            var planStarts: [Int] = []
            for (index, version) in plan.versions.enumerated() {
                planStarts.append(combined.count)
                let rules = version.pricing.rules
                combined += rules
                planOf += Array(repeating: p, count: rules.count)
                versionOf += Array(repeating: index, count: rules.count)
            }
            starts.append(planStarts)
        }
        self.combinedRules = combined
        self.ruleStart = starts
        self.rulePlan = planOf
        self.ruleVersion = versionOf
        self.period = period
        self.onReject = onReject
        self.idHash = idHash
        self.expectedRows = expectedRows
        self.temporaryFolder = temporaryFolder
        self.budgets = budgets
        self.fingerprints = FingerprintTable(capacity: max(1 << 16, expectedRows * 10 / 7 + 1), budget: budgets.idTable)
        self.held = HeldActivations(budget: budgets.heldActivations, folder: temporaryFolder, blockRecords: budgets.heldBlockRecords)
        self.duplicates = DuplicateRuns(folder: temporaryFolder)
    }

    /// The temporary folder for what does not fit in the memory limit.
    let temporaryFolder: String
    let budgets: Budgets
    let expectedRows: Int
    /// Rows rejected as duplicates, emitted by ``finish()`` in line order.
    let duplicates: DuplicateRuns
    /// The ids first seen after the table reached its budget; `nil` while it has room.
    var partitions: IDPartitions?
    /// How many ids went to the temporary file because the table was at its budget.
    public var spilledIDs: Int64 { partitions?.records ?? 0 }
    /// How many blocks of held activations went to a temporary file beyond their budget.
    public var spilledActivationBlocks: Int { held.storedBlocks }
    /// How many sorted runs of lines went to a temporary file beyond their budget (set by ``finish()``).
    public internal(set) var spilledLineRuns = 0
    /// The memory for checking one spilled partition (tests make it small to check in several passes).
    lazy var spillPartitionBudget = max(fingerprints.budget / 2, 1 << 20)

    /// Takes the reader's way of reading ids again.
    public func attach(_ ids: any EventIDSource) {
        if self.ids == nil && fingerprints.count == 0 {
            self.ids = ids
            archivesIDs = false
        }
    }

    /// How many times an id was compared with an earlier row's id, and how many of those read
    /// the earlier row again from the input (its id not held): what exactness cost on this input.
    public internal(set) var idComparisons = 0
    public internal(set) var idRereads = 0

    /// Whether the id of the table entry `entry` is `id`: compared in memory when the entry is
    /// a held activation in memory, else read again from the input (or the archive).
    func idEquals(_ entry: Int64, _ id: UnsafeRawBufferPointer) throws -> Bool {
        idComparisons += 1
        if let (activation, bytes) = held.idAndVIN(entry: entry) {
            return Int(activation.idLength) == id.count && bytes[0..<id.count].elementsEqual(id)
        }
        if let ids {
            idRereads += 1
            return try ids.eventID(atOffset: entry).elementsEqual(id)
        }
        let start = Int(entry)
        let length = Int(idArchive[start])
        return length == id.count && idArchive[(start + 1)..<(start + 1 + length)].elementsEqual(id)
    }

    /// Records an id as accepted, or the row as a duplicate.
    /// - Returns: the table entry of the id (the row's offset, or the archive's), or `nil` when
    ///   the row is a duplicate of an earlier row (then recorded in ``duplicates``).
    @inline(__always)
    private func accept(_ event: RawEvent, _ id: UnsafeRawBufferPointer, _ hash: UInt64,
                        _ tag: FingerprintTable.Tag, held: Bool) throws -> Int64? {
        let entry = archivesIDs ? Int64(idArchive.count) : event.offset
        switch try fingerprints.insert(hash, tag, offset: entry, isSameID: { try idEquals($0, id) }) {
        case .existing(let earlier):
            try duplicates.append(DuplicateRuns.Duplicate(line: event.line, earlier: earlier))
            return nil
        case .inserted:
            break
        case .full:
            // Not in the table, so not a duplicate of any id it holds; whether it repeats another
            // spilled id is decided in its partition when the report finishes.
            try spill().append(IDPartitions.Record(hash: hash, entry: entry, line: event.line, tag: tag, held: held))
        }
        if archivesIDs {
            idArchive.append(UInt8(id.count))
            idArchive.append(contentsOf: id)
        }
        return entry
    }

    /// The partitions, made when the first id does not fit: as many as keep one partition's
    /// check within half the table's budget for the rows still expected (at least as many as read).
    private func spill() throws -> IDPartitions {
        if let partitions { return partitions }
        let remaining = max(Int64(expectedRows) - counts.rowsRead, counts.rowsRead)
        var count = 2
        while count < 256 && remaining * Int64(ReportBuilder.spilledRecordBytes) / Int64(count) > Int64(spillPartitionBudget) { count <<= 1 }
        let made = try IDPartitions(count: count, folder: temporaryFolder)
        partitions = made
        return made
    }

    /// The most memory one spilled id takes while its partition is checked: the record and up to
    /// four table slots (``SpilledIDTable`` has a power of two of at least twice the records).
    static let spilledRecordBytes = MemoryLayout<IDPartitions.Record>.stride + 4 * MemoryLayout<Int32>.stride

    /// Reports a row that could not be read as a row at all.
    public func malformed(line: Int64, eventID: String, reason: String) {
        counts.rowsRead += 1
        reject(RejectedRow(line: line, eventID: eventID, code: .rowMalformed, reason: reason))
    }

    func reject(_ row: RejectedRow) {
        counts.rejected += 1
        onReject(row)
    }

    /// Starts loading the id table's slots for an id hash (a row the builder will take soon).
    @inline(__always)
    func prefetch(_ hash: UInt64) { fingerprints.prefetch(hash) }

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
    /// Records only whether they failed (so the result is plain data, copied without reference
    /// counting); ``preparedErrors(_:)`` runs them again for the rare row that failed, for the errors.
    static func prepare(_ event: RawEvent, period: ReportPeriod, hash: EventIDHash) -> PreparedEvent {
        var errors = PreparedErrors()
        return prepare(event, period: period, hash: hash, errors: &errors)
    }

    /// The errors ``prepare(_:period:hash:)`` found in a row.
    struct PreparedErrors {
        /// The first error of the id, timestamp, kind, refers_to and VIN checks.
        var error: RevenueError?
        /// An error of gross_minor or vat_bps, reported after the interned fields' errors.
        var amountError: RevenueError?
    }

    /// The errors of a row whose ``PreparedEvent`` says a check failed.
    private func preparedErrors(_ event: RawEvent) -> PreparedErrors {
        var errors = PreparedErrors()
        _ = ReportBuilder.prepare(event, period: period, hash: idHash, errors: &errors)
        return errors
    }

    @inline(__always)
    private static func prepare(_ event: RawEvent, period: ReportPeriod, hash: EventIDHash, errors: inout PreparedErrors) -> PreparedEvent {
        var prepared = checks(event, period: period, hash: hash, errors: &errors)
        prepared.failed = errors.error != nil
        prepared.amountFailed = errors.amountError != nil
        return prepared
    }

    @inline(__always)
    private static func checks(_ event: RawEvent, period: ReportPeriod, hash: EventIDHash, errors: inout PreparedErrors) -> PreparedEvent {
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
            errors.error = error
            return prepared
        } catch {
            errors.error = RevenueError(.fieldInvalid, "\(error)")
            return prepared
        }
        do {
            prepared.gross = try integer(event[.grossMinor], "gross_minor", code: .amountInvalid, max: Int64.max)
        } catch let error as RevenueError {
            errors.amountError = error
        } catch {
            errors.amountError = RevenueError(.amountInvalid, "\(error)")
        }
        do {
            prepared.vatBps = try integer(event[.vatBps], "vat_bps", code: .vatInvalid, max: 10_000)
        } catch {
            // The gross amount's error, if any, is the one reported.
            prepared.vatBps = -1
            if errors.amountError == nil { errors.amountError = error as? RevenueError ?? RevenueError(.vatInvalid, "\(error)") }
        }
        return prepared
    }

    @inline(__always)
    private func process(_ event: RawEvent, _ prepared: PreparedEvent) throws {
        // Start loading the table slot: the cache miss then overlaps with the checks below.
        fingerprints.prefetch(prepared.fingerprint)
        if prepared.failed, let error = preparedErrors(event).error { throw error }
        let id = event[.eventID]
        let time = prepared.time
        let isHeld = time >= period.previousStart && time < period.end
        if prepared.isRefund {
            let refersTo = event[.refersTo]
            guard let entry = try accept(event, id, prepared.fingerprint, FingerprintTable.Tag(activation: false, afterPeriod: time >= period.end),
                                         held: isHeld) else { return }
            if isHeld {
                let offset = try appendToArena(id, refersTo)
                refunds.append(HeldRefund(time: time, line: event.line, entry: entry, refersToHash: prepared.refersToHash, idOffset: offset,
                                          idLength: UInt8(id.count), refersToLength: UInt8(refersTo.count), inPeriod: time >= period.start))
            } else {
                counts.outsidePeriod += 1
            }
            return
        }
        let saleKindIndex = try resolveSaleKind(event, vatBps: prepared.vatBps)
        let dealerField = event[.dealerID]
        let dealer: Int32 = dealerField.isEmpty ? -1 : try ReportBuilder.resolve(&dealers, dealerField, "dealer_id") { try DealerID($0).value }
        if prepared.amountFailed, let error = preparedErrors(event).amountError { throw error }
        guard let entry = try accept(event, id, prepared.fingerprint, FingerprintTable.Tag(activation: true, afterPeriod: time >= period.end),
                                     held: isHeld) else { return }
        guard isHeld else {
            counts.outsidePeriod += 1
            return
        }
        var vin = prepared.vin
        try withUnsafeBytes(of: &vin) { vin in
            try held.append(HeldActivation(time: time, entry: entry, gross: prepared.gross, idOffset: 0, dealer: dealer, saleKind: saleKindIndex,
                                           idLength: UInt8(id.count), inPeriod: time >= period.start),
                            id: id, vin: UnsafeRawBufferPointer(rebasing: vin[0..<17]))
        }
    }

    private static let saleKindColumns: [EventColumn] = [.feature, .term, .channel, .market, .currency]

    /// The sale kind of an activation row: its feature, term, channel, market and currency validated
    /// (the first invalid one, in that order, is thrown) and, with the VAT rate, interned as one
    /// ``SaleKind``. The five fields and the rate are looked up together by their bytes — one hash
    /// a row instead of one a field; each new combination is resolved field by field, once.
    /// - Returns: the sale kind's index, or -1 when the VAT rate is invalid (the row's amount error is then thrown by the caller).
    @inline(__always)
    private func resolveSaleKind(_ event: RawEvent, vatBps: Int64) throws -> Int32 {
        var length = 0
        for column in ReportBuilder.saleKindColumns {
            let field = event[column]
            guard field.count < 64 else { return try resolveSaleKindFields(event, vatBps: vatBps) }
            saleKindKey.storeBytes(of: UInt8(field.count), toByteOffset: length, as: UInt8.self)
            if let start = field.baseAddress { (saleKindKey + length + 1).copyMemory(from: start, byteCount: field.count) }
            length += 1 + field.count
        }
        saleKindKey.storeBytes(of: Int16(vatBps).littleEndian, toByteOffset: length, as: Int16.self)
        length += 2
        let index = saleKindKeys.index(of: UnsafeRawBufferPointer(start: saleKindKey, count: length)) { _ in
            do { return .success(try resolveSaleKindFields(event, vatBps: vatBps)) } catch let error as RevenueError {
                return .failure(error)
            } catch {
                return .failure(RevenueError(.fieldInvalid, "\(error)"))
            }
        }
        return try saleKindKeys.values[Int(index)].get()
    }

    /// Resolves the sale kind's fields one by one, then the sale kind.
    private func resolveSaleKindFields(_ event: RawEvent, vatBps: Int64) throws -> Int32 {
        let feature = try ReportBuilder.resolve(&features, event[.feature], "feature") { try FeatureCode($0) }
        let term = try ReportBuilder.resolve(&terms, event[.term], "term") { try Term(validating: $0) }
        let channel = try ReportBuilder.resolve(&channels, event[.channel], "channel") { try Channel(validating: $0) }
        let market = try ReportBuilder.resolve(&markets, event[.market], "market") { try Market($0) }
        let currency = try ReportBuilder.resolve(&currencies, event[.currency], "currency") { try Currency($0) }
        guard vatBps >= 0 else { return -1 }
        let saleKind = SaleKind(feature: feature, market: market, currency: currency, term: term, channel: channel, vatBps: Int16(vatBps))
        if let known = saleKindIndexes[saleKind] { return known }
        saleKinds.append(saleKind)
        saleKindIndexes[saleKind] = Int32(saleKinds.count - 1)
        return Int32(saleKinds.count - 1)
    }

    /// Copies two byte strings into the arena, one after the other; returns the first's offset.
    @inline(__always)
    private func appendToArena(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer) throws -> UInt32 {
        try arena.append(first, second)
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
            } catch let error as CoreError {
                return .failure(RevenueError(error.code == .currencyUnknown ? .currencyUnknown : .fieldInvalid, "\(name): \(error.reason)"))
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
