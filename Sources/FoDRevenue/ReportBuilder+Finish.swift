import FoDCore
import FoDEntitlements

extension ReportBuilder {
    /// Matches refunds with activations, applies tiers and rules, and returns the report.
    /// Refunds rejected here go to `onReject` too, by line, after the rows rejected while reading.
    /// - Throws: ``RevenueError`` `overflow` if a total does not fit in 64 bits.
    public func finish() throws -> Report {
        // An activation's plan is its site's (a partner's own, else the network's); its clawback window is its
        // plan version's; a month's tiers are the site's plan's version in force at the month's first instant.
        let allPlans = plans.all
        var planOfDealer = [Int](repeating: -1, count: max(dealers.count, 1))
        /// A partner's own plan from its first version's date on, the network's before (and for every other site).
        func planIndex(_ dealer: Int32, at nanos: Int64) -> Int {
            guard dealer >= 0, allPlans.count > 1 else { return 0 }
            if planOfDealer[Int(dealer)] < 0 { planOfDealer[Int(dealer)] = plans.index(of: dealerString(dealer)) }
            let p = planOfDealer[Int(dealer)]
            guard p > 0, let first = allPlans[p].versions.first else { return 0 }
            return nanos / 1_000_000_000 >= first.effectiveFrom ? p : 0
        }
        let windows = allPlans.map { plan in plan.versions.map { $0.pricing.clawbackDays * 86_400 * 1_000_000_000 } }
        func clawbackWindow(_ activation: HeldActivation) -> Int64 {
            let p = planIndex(activation.dealer, at: activation.time)
            return windows[p][allPlans[p].versionIndex(atNanos: activation.time)]
        }
        let previousMonthStart = (try? ReportPeriod(ReportPeriod.text(containing: period.start / 1_000_000_000 - 1)).start) ?? period.start
        let tierRules = allPlans.map { plan in
            (before: plan.versions[plan.versionIndex(atNanos: previousMonthStart)].pricing, inPeriod: plan.versions[plan.versionIndex(atNanos: period.start)].pricing)
        }
        var lateRejects: [RejectedRow] = []
        func rejectRefund(_ refund: HeldRefund, _ code: RevenueError.Code, _ reason: String) {
            guard refund.inPeriod else { return }  // an earlier month's problem, not this report's
            lateRejects.append(RejectedRow(line: refund.line, eventID: string(refund.idOffset, refund.idLength), code: code, reason: reason))
        }

        // Refunds with their activations, found in the fingerprint table by the ids' bytes (in
        // memory for held activations there, read again from the input for the others).
        let (targets, dropped) = try resolveIDs()
        fingerprints.release()
        /// Refunds of activations, by the table entry of the activation's row.
        var refundsOf: [Int64: [Int32]] = [:]
        for (index, refund) in refunds.enumerated() {
            let refersTo = string(refund.idOffset + UInt32(refund.idLength), refund.refersToLength)
            switch targets[index] {
            case .some(let entry) where entry.tag.activation && entry.tag.afterPeriod:
                rejectRefund(refund, .refundBeforeActivation, "refund of \(refersTo), which is dated after the refund")
            case .some(let entry) where entry.tag.activation:
                refundsOf[entry.offset, default: []].append(Int32(index))
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

        // First walk through the held activations: tier counts per dealer for the period (index 1)
        // and the month before (index 0), and the refunds of each held activation.
        var tierCounts = [Int64](repeating: 0, count: 2 * max(dealers.count, 1))
        var heldCount: Int64 = 0, activationsInPeriod: Int64 = 0
        /// The activations to claw back (their id and VIN in `clawbackBytes`) with their refunds.
        var clawbackOf: [(activation: HeldActivation, refund: Int32)] = []
        var clawbackBytes: [UInt8] = []
        var matchedInPeriod: Int64 = 0
        try held.forEach(consuming: false, skipping: dropped) { activation, bytes in
            heldCount += 1
            if activation.inPeriod { activationsInPeriod += 1 }
            if activation.dealer >= 0 { tierCounts[Int(activation.dealer) * 2 + (activation.inPeriod ? 1 : 0)] += 1 }
            guard !refundsOf.isEmpty, let list = refundsOf.removeValue(forKey: activation.entry) else { return }
            let idAndVIN = bytes[Int(activation.idOffset)..<(Int(activation.idOffset) + Int(activation.idLength) + 17)]
            let activationID = String(decoding: idAndVIN.prefix(Int(activation.idLength)), as: UTF8.self)
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
            guard let first = remaining.first else { return }
            let firstRefund = refunds[Int(first)]
            for duplicate in remaining.dropFirst() {
                rejectRefund(refunds[Int(duplicate)], .refundDuplicate,
                             "activation \(activationID) was already refunded by \(string(firstRefund.idOffset, firstRefund.idLength)) (line \(firstRefund.line))")
            }
            guard firstRefund.inPeriod else { return }
            matchedInPeriod += 1
            if firstRefund.time - activation.time <= clawbackWindow(activation) {
                // Without a dealer nothing was earned, so there is nothing to claw back.
                if activation.dealer >= 0 {
                    var copy = activation
                    copy.idOffset = UInt32(clawbackBytes.count)
                    clawbackBytes.append(contentsOf: idAndVIN)
                    clawbackOf.append((copy, first))
                }
            } else {
                counts.lateRefunds += 1
            }
        }
        func bonus(_ dealer: Int32, inPeriod: Bool) -> Int64 {
            guard dealer >= 0 else { return 0 }
            let tiers = tierRules[planIndex(dealer, at: inPeriod ? period.start : previousMonthStart)]
            return (inPeriod ? tiers.inPeriod : tiers.before).bonusBps(activations: tierCounts[Int(dealer) * 2 + (inPeriod ? 1 : 0)])
        }
        // The refunds left refer to activations before the held months.
        for (_, var list) in refundsOf {
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
        counts.used = activationsInPeriod + matchedInPeriod
        counts.outsidePeriod += heldCount - activationsInPeriod + Int64(refunds.count) - heldRefundsInPeriod
        // Refunds of the period that were neither used nor rejected do not exist: each was matched or rejected.
        assert(heldRefundsInPeriod == matchedInPeriod + Int64(lateRejects.count))

        // Rules, resolved once per combination of attributes and plan version (the version in
        // force at the activation's instant; its index in the combined list names both).
        var ruleCache: [RuleKey: Int32] = [:]
        let pricing = allPlans.map { $0.versions.map(\.pricing) }
        func ruleIndex(_ activation: HeldActivation) throws -> Int32 {
            let p = planIndex(activation.dealer, at: activation.time)
            let version = Int32(allPlans[p].versionIndex(atNanos: activation.time))
            let key = RuleKey(activation, plan: Int32(p), version: version)
            if let cached = ruleCache[key] { return cached }
            let dealer: DealerID? = activation.dealer < 0 ? nil : try? DealerID(dealerString(activation.dealer))
            let saleKind = saleKinds[Int(activation.saleKind)]
            let found = pricing[p][Int(version)].ruleIndex(feature: try value(features, saleKind.feature), channel: try value(channels, saleKind.channel),
                                                        market: try value(markets, saleKind.market), term: try value(terms, saleKind.term), dealer: dealer)
            let index = Int32(ruleStart[p][Int(version)] + found)
            ruleCache[key] = index
            return index
        }
        let dealerNames = (0..<dealers.count).map { dealerString(Int32($0)) }
        let dealerRank = ReportBuilder.ranks(dealerNames)
        /// The activation's line (a clawback's when `refund` is given) and its allocation.
        func line(_ activation: HeldActivation, refund: HeldRefund?) throws -> (LineEntry, Allocation) {
            let entry = LineEntry(time: refund?.time ?? activation.time, gross: activation.gross,
                                  dealerRank: activation.dealer < 0 ? -1 : dealerRank[Int(activation.dealer)], dealer: activation.dealer,
                                  saleKind: activation.saleKind, rule: try ruleIndex(activation),
                                  tierBonusBps: Int32(bonus(activation.dealer, inPeriod: activation.inPeriod)),
                                  bytesOffset: 0, eventIDLength: 0, refersToLength: 0, isClawback: refund != nil)
            return (entry, try ReportLines.allocation(entry, saleKinds: saleKinds, rules: combinedRules))
        }
        // One precision for every timestamp in lines.csv: the fewest decimals that keep each exact.
        var timestampDigits = 0
        func noteTime(_ time: Int64) {
            guard timestampDigits < 9 else { return }
            let nanos = time - Timestamp.seconds(time) * 1_000_000_000
            let needed = nanos == 0 ? 0 : nanos % 1_000_000 == 0 ? 3 : nanos % 1_000 == 0 ? 6 : 9
            timestampDigits = max(timestampDigits, needed)
        }

        // Second walk, letting go of the held activations as it goes: lines (sorted within their
        // own budget), statements, totals.
        let sorter = LineSorter(budget: budgets.lines, folder: temporaryFolder, pageLines: budgets.linePageLines)
        var statements: [StatementKey: Statement] = [:]
        /// A dealer's statement in a currency, with the dealer's tier bonus in the period.
        func newStatement(_ activation: HeldActivation) -> Statement {
            var statement = Statement(dealerID: dealerString(activation.dealer), currency: currencyValues[Int(saleKinds[Int(activation.saleKind)].currency)])
            statement.tierBonusBps = bonus(activation.dealer, inPeriod: true)
            return statement
        }
        var mix: [MixKey: FeatureMix] = [:]
        // Currencies that did not validate belong to rejected rows only; no held record names them.
        let currencyValues = currencies.values.map { (try? $0.get()) ?? ReportBuilder.unusedCurrency }
        /// Hands an activation's line (a clawback's when `refund` is given) to the sorter; its id
        /// and VIN are at `idOffset` in `bytes`. Returns the activation's allocation and the line's rule
        /// (its index names the plan and version that priced it).
        func keepLine(_ activation: HeldActivation, _ bytes: UnsafeRawBufferPointer, refund: HeldRefund?) throws -> (Allocation, rule: Int) {
            let (entry, allocation) = try line(activation, refund: refund)
            let start = Int(activation.idOffset), idLength = Int(activation.idLength)
            let activationID = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + idLength)])
            let vin = UnsafeRawBufferPointer(rebasing: bytes[(start + idLength)..<(start + idLength + 17)])
            if let refund {
                try sorter.append(entry, eventID: arena[refund.idOffset, Int(refund.idLength)], refersTo: activationID, vin: vin)
            } else {
                try sorter.append(entry, eventID: activationID, refersTo: UnsafeRawBufferPointer(start: nil, count: 0), vin: vin)
            }
            noteTime(entry.time)
            return (allocation, Int(entry.rule))
        }
        let planIDs = allPlans.map(\.id), versionLabels = allPlans.map { $0.versions.map(\.rules.version) }
        try held.forEach(consuming: true, skipping: dropped) { activation, bytes in
            guard activation.inPeriod else { return }
            let (allocation, rule) = try keepLine(activation, bytes, refund: nil)
            let key = StatementKey(dealer: activation.dealer, currency: saleKinds[Int(activation.saleKind)].currency)
            var statement = statements[key] ?? newStatement(activation)
            statement.activations += 1
            statement.gross = try MinorUnits.add(statement.gross, allocation.gross)
            statement.vat = try MinorUnits.add(statement.vat, allocation.vat)
            statement.net = try MinorUnits.add(statement.net, allocation.net)
            statement.share = try MinorUnits.add(statement.share, allocation.share)
            try statement.book(plan: planIDs[rulePlan[rule]], version: versionLabels[rulePlan[rule]][ruleVersion[rule]], share: allocation.share,
                               clawback: false)
            statements[key] = statement
            let saleKind = saleKinds[Int(activation.saleKind)]
            let mixKey = MixKey(feature: saleKind.feature, currency: saleKind.currency)
            var mixed = mix[mixKey] ?? FeatureMix(feature: features.key(saleKind.feature), currency: currencyValues[Int(saleKind.currency)])
            mixed.activations += 1
            mixed.gross = try MinorUnits.add(mixed.gross, allocation.gross)
            mixed.share = try MinorUnits.add(mixed.share, allocation.share)
            mix[mixKey] = mixed
        }
        try clawbackBytes.withUnsafeBytes { bytes in
            for (activation, refundIndex) in clawbackOf {
                let (allocation, rule) = try keepLine(activation, bytes, refund: refunds[Int(refundIndex)])
                let key = StatementKey(dealer: activation.dealer, currency: saleKinds[Int(activation.saleKind)].currency)
                var statement = statements[key] ?? newStatement(activation)
                statement.clawbacks += 1
                statement.clawback = try MinorUnits.add(statement.clawback, allocation.share)
                try statement.book(plan: planIDs[rulePlan[rule]], version: versionLabels[rulePlan[rule]][ruleVersion[rule]], share: allocation.share,
                                   clawback: true)
                statements[key] = statement
            }
        }
        sorter.seal()
        var sortedStatements = Array(statements.values)
        sortedStatements.sort { ($0.dealerID, $0.currency.code) < ($1.dealerID, $1.currency.code) }
        var totals: [String: CurrencyTotal] = [:]
        for statement in sortedStatements {
            var total = totals[statement.currency.code] ?? CurrencyTotal(currency: statement.currency)
            total.activations += statement.activations
            total.clawbacks += statement.clawbacks
            total.gross = try MinorUnits.add(total.gross, statement.gross)
            total.vat = try MinorUnits.add(total.vat, statement.vat)
            total.net = try MinorUnits.add(total.net, statement.net)
            total.share = try MinorUnits.add(total.share, statement.share)
            total.clawback = try MinorUnits.add(total.clawback, statement.clawback)
            total.oem = try MinorUnits.add(try MinorUnits.subtract(total.net, total.share), total.clawback)
            totals[statement.currency.code] = total
        }

        let strings = ReportStrings(
            dealers: dealerNames, features: (0..<features.count).map { features.key(Int32($0)) },
            markets: (0..<markets.count).map { markets.key(Int32($0)) }, currencies: currencyValues,
            terms: (0..<terms.count).map { terms.key(Int32($0)) }, channels: (0..<channels.count).map { channels.key(Int32($0)) }, saleKinds: saleKinds,
            rules: combinedRules, ruleIDs: combinedRules.map(\.id), ruleFixed: combinedRules.map(\.fixedMinor), ruleCaps: combinedRules.map(\.capMinor),
            rulePlans: rulePlan.map { planIDs[$0] }, rulePlanVersions: zip(rulePlan, ruleVersion).map { versionLabels[$0][$1] })
        spilledLineRuns = sorter.storedRuns
        return Report(
            period: period, rulesVersion: plans.network.label(from: period.start, to: period.end), clawbackDays: tierRules[0].inPeriod.clawbackDays,
            statements: sortedStatements,
            totals: totals.values.sorted { $0.currency < $1.currency },
            featureMix: mix.values.sorted { ($0.feature, $0.currency.code) < ($1.feature, $1.currency.code) },
            counts: counts, refundRejects: lateRejects,
            lines: ReportLines(sorted: sorter, strings: strings, timestampDigits: timestampDigits))
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

    /// Held records only carry indexes of values that validated; one that did not is a defect,
    /// reported as the value's own error rather than a crash.
    private func value<T>(_ interner: ByteInterner<Result<T, RevenueError>>, _ index: Int32) throws -> T {
        try interner.values[Int(index)].get()
    }

    /// What stands in the currency table for a code that did not validate (never used by a line).
    static let unusedCurrency = Currency.euro

    private func dealerString(_ index: Int32) -> String { index < 0 ? "" : dealers.key(index) }

    private func string(_ offset: UInt32, _ length: UInt8) -> String {
        arena.string(offset, Int(length))
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
    let saleKind, dealer, plan, version: Int32
    init(_ activation: HeldActivation, plan: Int32, version: Int32) {
        saleKind = activation.saleKind
        dealer = activation.dealer
        self.plan = plan
        self.version = version
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
