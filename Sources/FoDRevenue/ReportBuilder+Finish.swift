import FoDCore
import FoDEntitlements

extension ReportBuilder {
    /// Matches refunds with activations, applies tiers and rules, and returns the report.
    /// Refunds rejected here go to `onReject` too, by line, after the rows rejected while reading.
    /// - Throws: ``RevenueError`` `overflow` if a total does not fit in 64 bits.
    public func finish() throws -> Report {
        let clawbackWindow = rules.clawbackDays * 86_400 * 1_000_000_000

        // Tier counts per dealer for the period (index 1) and the month before (index 0).
        var tierCounts = [Int64](repeating: 0, count: 2 * max(dealers.count, 1))
        for activation in activations where activation.dealer >= 0 {
            tierCounts[Int(activation.dealer) * 2 + (activation.inPeriod ? 1 : 0)] += 1
        }
        func bonus(_ dealer: Int32, inPeriod: Bool) -> Int64 {
            dealer < 0 ? 0 : rules.bonusBps(activations: tierCounts[Int(dealer) * 2 + (inPeriod ? 1 : 0)])
        }

        // Refunds with their activations, found in the fingerprint table by the ids' bytes (in the
        // arena for held activations, read again from the input for the others).
        var refundsOfHeld: [Int32: [Int32]] = [:]
        /// Refunds of activations before the held months, by the offset of the activation's row.
        var refundsOfOlder: [Int64: [Int32]] = [:]
        var lateRejects: [RejectedRow] = []
        func rejectRefund(_ refund: HeldRefund, _ code: RevenueError.Code, _ reason: String) {
            guard refund.inPeriod else { return }  // an earlier month's problem, not this report's
            lateRejects.append(RejectedRow(line: refund.line, eventID: string(refund.idOffset, refund.idLength), code: code, reason: reason))
        }
        let targets = try resolveIDs()
        for (index, refund) in refunds.enumerated() {
            let refersTo = string(refund.idOffset + UInt32(refund.idLength), refund.refersToLength)
            let found = targets[index]
            switch found {
            case .some(let entry) where entry.tag.activation && entry.tag.afterPeriod:
                rejectRefund(refund, .refundBeforeActivation, "refund of \(refersTo), which is dated after the refund")
            case .some(let entry) where entry.tag.activation:
                if let activation = heldActivation(entry: entry.offset) {
                    refundsOfHeld[activation, default: []].append(Int32(index))
                } else {
                    refundsOfOlder[entry.offset, default: []].append(Int32(index))
                }
            case .some:
                rejectRefund(refund, .refundUnknownActivation, "refers_to \(refersTo) is a refund, not an activation")
            case .none:
                rejectRefund(refund, .refundUnknownActivation, "refers_to \(refersTo) is not an activation in this file (or its row was rejected)")
            }
        }
        let byTimeThenID: (Int32, Int32) -> Bool = { a, b in
            let ra = self.refunds[Int(a)], rb = self.refunds[Int(b)]
            if ra.time != rb.time { return ra.time < rb.time }
            return self.string(ra.idOffset, ra.idLength) < self.string(rb.idOffset, rb.idLength)
        }
        var clawbackOf: [(activation: Int32, refund: Int32)] = []
        var matchedInPeriod: Int64 = 0
        for (activationIndex, list) in refundsOfHeld {
            let activation = activations[Int(activationIndex)]
            let activationID = string(activation.idOffset, activation.idLength)
            var remaining: [Int32] = []
            for refundIndex in list {
                let refund = refunds[Int(refundIndex)]
                if refund.time < activation.time {
                    rejectRefund(refund, .refundBeforeActivation, "refund is dated \(Timestamp.format(refund.time)), before activation \(activationID) at \(Timestamp.format(activation.time))")
                } else {
                    remaining.append(refundIndex)
                }
            }
            remaining.sort(by: byTimeThenID)
            guard let first = remaining.first else { continue }
            let firstRefund = refunds[Int(first)]
            for duplicate in remaining.dropFirst() {
                rejectRefund(refunds[Int(duplicate)], .refundDuplicate,
                             "activation \(activationID) was already refunded by \(string(firstRefund.idOffset, firstRefund.idLength)) (line \(firstRefund.line))")
            }
            guard firstRefund.inPeriod else { continue }
            matchedInPeriod += 1
            if firstRefund.time - activation.time <= clawbackWindow {
                // Without a dealer nothing was earned, so there is nothing to claw back.
                if activation.dealer >= 0 { clawbackOf.append((activationIndex, first)) }
            } else {
                counts.lateRefunds += 1
            }
        }
        for (_, var list) in refundsOfOlder {
            list.sort(by: byTimeThenID)
            let firstRefund = refunds[Int(list[0])]
            for duplicate in list.dropFirst() {
                rejectRefund(refunds[Int(duplicate)], .refundDuplicate,
                             "the activation was already refunded by \(string(firstRefund.idOffset, firstRefund.idLength)) (line \(firstRefund.line))")
            }
            if firstRefund.inPeriod {
                matchedInPeriod += 1
                counts.lateRefunds += 1
            }
        }
        lateRejects.sort { $0.line < $1.line }
        try emitIDRejects(lateRejects)

        // Row accounting: every held row is used, outside the period, or rejected.
        let heldRefundsInPeriod = refunds.reduce(Int64(0)) { $0 + ($1.inPeriod ? 1 : 0) }
        let activationsInPeriod = activations.reduce(Int64(0)) { $0 + ($1.inPeriod ? 1 : 0) }
        counts.used = activationsInPeriod + matchedInPeriod
        counts.outsidePeriod += Int64(activations.count) - activationsInPeriod + Int64(refunds.count) - heldRefundsInPeriod
        // Refunds of the period that were neither used nor rejected do not exist: each was matched or rejected.
        assert(heldRefundsInPeriod == matchedInPeriod + Int64(lateRejects.count))

        // Rules, resolved once per combination of attributes.
        var ruleCache: [RuleKey: Int32] = [:]
        func ruleIndex(_ activation: HeldActivation) -> Int32 {
            let key = RuleKey(activation)
            if let cached = ruleCache[key] { return cached }
            let dealer: DealerID? = activation.dealer < 0 ? nil : try? DealerID(dealerString(activation.dealer))
            let saleKind = saleKinds[Int(activation.saleKind)]
            let found = rules.ruleIndex(feature: value(features, saleKind.feature), channel: value(channels, saleKind.channel),
                                        market: value(markets, saleKind.market), term: value(terms, saleKind.term), dealer: dealer)
            ruleCache[key] = Int32(found)
            return Int32(found)
        }
        /// The activation's allocation, and the line that gives it again (``ReportLines/allocation(_:)``).
        func allocate(_ activation: HeldActivation, index: Int32, refund: Int32) throws -> (LineRecord, Allocation) {
            let record = LineRecord(activation: index, refund: refund, rule: ruleIndex(activation),
                                    tierBonusBps: Int32(bonus(activation.dealer, inPeriod: activation.inPeriod)))
            return (record, try ReportLines.allocation(record, activation, saleKinds: saleKinds, rules: rules.rules))
        }

        // Lines, statements, totals.
        var records: [LineRecord] = []
        records.reserveCapacity(Int(activationsInPeriod) + clawbackOf.count)
        var statements: [StatementKey: Statement] = [:]
        /// A dealer's statement in a currency, with the dealer's tier bonus in the period.
        func newStatement(_ activation: HeldActivation) -> Statement {
            var statement = Statement(dealerID: dealerString(activation.dealer), currency: currencyValues[Int(saleKinds[Int(activation.saleKind)].currency)])
            statement.tierBonusBps = bonus(activation.dealer, inPeriod: true)
            return statement
        }
        var mix: [MixKey: FeatureMix] = [:]
        let currencyValues = currencies.values.map { (try? $0.get()) ?? (try! Currency("EUR")) }
        for (index, activation) in activations.enumerated() where activation.inPeriod {
            let (record, allocation) = try allocate(activation, index: Int32(index), refund: -1)
            records.append(record)
            let key = StatementKey(dealer: activation.dealer, currency: saleKinds[Int(activation.saleKind)].currency)
            var statement = statements[key] ?? newStatement(activation)
            statement.activations += 1
            statement.gross = try Money.add(statement.gross, allocation.gross)
            statement.vat = try Money.add(statement.vat, allocation.vat)
            statement.net = try Money.add(statement.net, allocation.net)
            statement.share = try Money.add(statement.share, allocation.share)
            statements[key] = statement
            let saleKind = saleKinds[Int(activation.saleKind)]
            let mixKey = MixKey(feature: saleKind.feature, currency: saleKind.currency)
            var entry = mix[mixKey] ?? FeatureMix(feature: features.key(saleKind.feature), currency: currencyValues[Int(saleKind.currency)])
            entry.activations += 1
            entry.gross = try Money.add(entry.gross, allocation.gross)
            entry.share = try Money.add(entry.share, allocation.share)
            mix[mixKey] = entry
        }
        for (activationIndex, refundIndex) in clawbackOf {
            let activation = activations[Int(activationIndex)]
            let (record, allocation) = try allocate(activation, index: activationIndex, refund: refundIndex)
            records.append(record)
            let key = StatementKey(dealer: activation.dealer, currency: saleKinds[Int(activation.saleKind)].currency)
            var statement = statements[key] ?? newStatement(activation)
            statement.clawbacks += 1
            statement.clawback = try Money.add(statement.clawback, allocation.share)
            statements[key] = statement
        }
        var sortedStatements = Array(statements.values)
        sortedStatements.sort { ($0.dealerID, $0.currency.code) < ($1.dealerID, $1.currency.code) }
        var totals: [String: CurrencyTotal] = [:]
        for statement in sortedStatements {
            var total = totals[statement.currency.code] ?? CurrencyTotal(currency: statement.currency)
            total.activations += statement.activations
            total.clawbacks += statement.clawbacks
            total.gross = try Money.add(total.gross, statement.gross)
            total.vat = try Money.add(total.vat, statement.vat)
            total.net = try Money.add(total.net, statement.net)
            total.share = try Money.add(total.share, statement.share)
            total.clawback = try Money.add(total.clawback, statement.clawback)
            total.oem = try Money.add(try Money.subtract(total.net, total.share), total.clawback)
            totals[statement.currency.code] = total
        }

        // The book extract in a stable order: dealer, time, activation before clawback, id.
        let dealerNames = (0..<dealers.count).map { dealerString(Int32($0)) }
        let dealerRank = ReportBuilder.ranks(dealerNames)
        records.sort { a, b in
            let aa = activations[Int(a.activation)], ab = activations[Int(b.activation)]
            let rankA = aa.dealer < 0 ? -1 : dealerRank[Int(aa.dealer)], rankB = ab.dealer < 0 ? -1 : dealerRank[Int(ab.dealer)]
            if rankA != rankB { return rankA < rankB }
            let timeA = a.refund < 0 ? aa.time : refunds[Int(a.refund)].time
            let timeB = b.refund < 0 ? ab.time : refunds[Int(b.refund)].time
            if timeA != timeB { return timeA < timeB }
            if (a.refund < 0) != (b.refund < 0) { return a.refund < 0 }
            let idA = a.refund < 0 ? (aa.idOffset, aa.idLength) : (refunds[Int(a.refund)].idOffset, refunds[Int(a.refund)].idLength)
            let idB = b.refund < 0 ? (ab.idOffset, ab.idLength) : (refunds[Int(b.refund)].idOffset, refunds[Int(b.refund)].idLength)
            return compareArena(idA.0, idA.1, idB.0, idB.1) < 0
        }
        let strings = ReportStrings(
            arena: arena, dealers: dealerNames, features: (0..<features.count).map { features.key(Int32($0)) },
            markets: (0..<markets.count).map { markets.key(Int32($0)) }, currencies: currencyValues,
            terms: (0..<terms.count).map { terms.key(Int32($0)) }, channels: (0..<channels.count).map { channels.key(Int32($0)) }, saleKinds: saleKinds,
            rules: rules.rules, ruleIDs: rules.rules.map(\.id), ruleFixed: rules.rules.map(\.fixedMinor), ruleCaps: rules.rules.map(\.capMinor))
        // One precision for every timestamp in lines.csv: the fewest decimals that keep each exact.
        var timestampDigits = 0
        for record in records where timestampDigits < 9 {
            let time = record.refund < 0 ? activations[Int(record.activation)].time : refunds[Int(record.refund)].time
            let nanos = time - Timestamp.seconds(time) * 1_000_000_000
            let needed = nanos == 0 ? 0 : nanos % 1_000_000 == 0 ? 3 : nanos % 1_000 == 0 ? 6 : 9
            timestampDigits = max(timestampDigits, needed)
        }
        return Report(
            period: period, rulesVersion: rules.version, clawbackDays: rules.clawbackDays, statements: sortedStatements,
            totals: totals.values.sorted { $0.currency < $1.currency },
            featureMix: mix.values.sorted { ($0.feature, $0.currency.code) < ($1.feature, $1.currency.code) },
            counts: counts, refundRejects: lateRejects,
            lines: ReportLines(records: records, activations: activations, refunds: refunds, strings: strings, timestampDigits: timestampDigits))
    }

    /// Hands the rows rejected by their ids to `onReject` in line order: the duplicates (their id
    /// read again from the earlier row with the same id) merged with the refunds rejected here.
    private func emitIDRejects(_ refundRejects: [RejectedRow]) throws {
        var next = 0
        try duplicates.forEachInLineOrder { duplicate in
            while next < refundRejects.count && refundRejects[next].line < duplicate.line {
                reject(refundRejects[next])
                next += 1
            }
            let id = String(decoding: try eventID(entry: duplicate.earlier), as: UTF8.self)
            reject(RejectedRow(line: duplicate.line, eventID: id, code: .duplicateEvent, reason: "event_id \"\(id)\" is used by an earlier row"))
        }
        for row in refundRejects[next...] { reject(row) }
    }

    private func value<T>(_ interner: ByteInterner<Result<T, RevenueError>>, _ index: Int32) -> T {
        // Held records only carry indexes of values that validated.
        try! interner.values[Int(index)].get()
    }

    private func dealerString(_ index: Int32) -> String { index < 0 ? "" : dealers.key(index) }

    private func string(_ offset: UInt32, _ length: UInt8) -> String {
        arena.string(offset, Int(length))
    }

    private func compareArena(_ a: UInt32, _ la: UInt8, _ b: UInt32, _ lb: UInt8) -> Int {
        let x = arena[a, Int(la)], y = arena[b, Int(lb)]
        for (p, q) in zip(x, y) where p != q { return p < q ? -1 : 1 }
        return Int(la) - Int(lb)
    }

    /// The rank of each name in sorted order.
    private static func ranks(_ names: [String]) -> [Int32] {
        var ranks = [Int32](repeating: 0, count: names.count)
        for (rank, index) in names.indices.sorted(by: { names[$0] < names[$1] }).enumerated() { ranks[index] = Int32(rank) }
        return ranks
    }
}

/// What picks an activation's rule: its sale kind (feature, channel, market, term among others) and dealer.
private struct RuleKey: Hashable {
    let saleKind, dealer: Int32
    init(_ activation: HeldActivation) {
        saleKind = activation.saleKind
        dealer = activation.dealer
    }
}

private struct StatementKey: Hashable {
    let dealer: Int32
    let currency: Int32
}

private struct MixKey: Hashable {
    let feature: Int32
    let currency: Int32
}
