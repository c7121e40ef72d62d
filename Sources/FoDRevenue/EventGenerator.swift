import FoDCore
import FoDEntitlements

/// Writes a realistic synthetic events file: thousands of dealers with a skewed (power-law)
/// share of sales, fourteen markets in nine currencies (JPY with no decimals, KWD with three),
/// all terms including free trials, three channels, refunds inside and after the clawback
/// window, and a few bad rows of every kind. The same seed gives the same file.
public struct EventGenerator {
    /// Rows to write (refunds and bad rows included).
    public let rows: Int
    /// The random seed.
    public let seed: UInt64
    /// The year the events fall in.
    public let year: Int
    /// How event ids are spelled.
    public let ids: IDShape

    /// The spelling of generated event ids, as different exporting systems write them.
    public enum IDShape: String, CaseIterable, Sendable {
        /// `EV1`, `RF2`, … — a prefix and a counter.
        case counter
        /// `evt-000000001`, `rft-000000002`, … — a shared prefix and a zero-padded counter.
        case padded
        /// UUIDv7 (`0190…-7…-8…`): the event time in the first 48 bits, then random bits.
        case uuid7
    }

    /// Creates a generator.
    public init(rows: Int, seed: UInt64, year: Int = 2026, ids: IDShape = .counter) {
        self.rows = rows
        self.seed = seed
        self.year = year
        self.ids = ids
    }

    struct MarketInfo {
        let code: String, currency: String, vatBps: Int, perEuro: Double, exponent: Int
    }

    static let markets: [MarketInfo] = [
        .init(code: "DE", currency: "EUR", vatBps: 1900, perEuro: 1, exponent: 2), .init(code: "FR", currency: "EUR", vatBps: 2000, perEuro: 1, exponent: 2),
        .init(code: "IT", currency: "EUR", vatBps: 2200, perEuro: 1, exponent: 2), .init(code: "ES", currency: "EUR", vatBps: 2100, perEuro: 1, exponent: 2),
        .init(code: "NL", currency: "EUR", vatBps: 2100, perEuro: 1, exponent: 2), .init(code: "AT", currency: "EUR", vatBps: 2000, perEuro: 1, exponent: 2),
        .init(code: "GB", currency: "GBP", vatBps: 2000, perEuro: 0.86, exponent: 2), .init(code: "CH", currency: "CHF", vatBps: 810, perEuro: 0.95, exponent: 2),
        .init(code: "SE", currency: "SEK", vatBps: 2500, perEuro: 11.4, exponent: 2), .init(code: "NO", currency: "NOK", vatBps: 2500, perEuro: 11.7, exponent: 2),
        .init(code: "PL", currency: "PLN", vatBps: 2300, perEuro: 4.3, exponent: 2), .init(code: "JP", currency: "JPY", vatBps: 1000, perEuro: 162, exponent: 0),
        .init(code: "US", currency: "USD", vatBps: 0, perEuro: 1.08, exponent: 2), .init(code: "KW", currency: "KWD", vatBps: 0, perEuro: 0.33, exponent: 3),
    ]
    static let marketWeights = [30, 10, 8, 7, 5, 4, 9, 3, 3, 2, 3, 6, 8, 2]
    static let features: [(code: String, euros: Double)] = [
        ("MATRIX_LED", 19), ("NAV_PLUS", 14), ("MORE_POWER", 39), ("ACC", 24), ("HEATED_SEATS", 9), ("PARK_ASSIST", 12),
        ("SOUND_PLUS", 8), ("REMOTE_START", 6),
    ]
    /// Term, weight, price multiple of the monthly price.
    static let terms: [(term: String, weight: Int, months: Double)] = [
        ("trial", 10, 0), ("P1M", 20, 1), ("P6M", 10, 5.5), ("P1Y", 25, 10), ("P3Y", 10, 27), ("subscription", 10, 1), ("permanent", 15, 40),
    ]
    static let wmis = ["WVW", "WAU", "WBA", "WDD", "VF1", "ZFA", "SAL", "YV1", "JN1", "1FM", "5YJ", "TMB"]

    /// Writes the file as CSV, handing `write` blocks of about 1 MiB.
    /// - Throws: what `write` throws.
    public func writeCSV(_ write: ([UInt8]) throws -> Void) throws {
        var rng = SplitMix64(seed: seed)
        let dealerCount = max(20, min(4000, rows / 2500))
        let dealerMarket = (0..<dealerCount).map { _ in EventGenerator.pick(EventGenerator.marketWeights, &rng) }
        let marketDealers = (0..<EventGenerator.markets.count).map { market in (0..<dealerCount).filter { dealerMarket[$0] == market } }
        let yearStart = CivilDate(year: Int64(year), month: 1, day: 1).unixSeconds
        let yearSeconds = CivilDate(year: Int64(year + 1), month: 1, day: 1).unixSeconds - yearStart
        var out: [UInt8] = []
        out.reserveCapacity(1 << 20 + 1024)
        out.append(contentsOf: (EventColumn.headerLine + "\n").utf8)
        var pending = RefundQueue()
        var lastActivationIDs: [String] = []
        var written = 0
        var counter = 0
        // UUIDs take their random bits from their own generator, so the rows are those of every shape.
        var idRNG = SplitMix64(seed: seed ^ 0x5EED_1D5)
        var lastTime: Int64 = 0
        func nextID(_ prefix: String) -> String {
            counter += 1
            switch ids {
            case .counter: return prefix + String(counter)
            case .padded:
                let digits = String(counter)
                return (prefix == "EV" ? "evt-" : "rft-") + String(repeating: "0", count: max(0, 9 - digits.count)) + digits
            case .uuid7:
                return EventGenerator.uuid7(millis: UInt64(max(0, lastTime)) * 1000, &idRNG)
            }
        }
        func emit(_ fields: [String]) throws {
            for (index, field) in fields.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: field.utf8)
            }
            out.append(0x0A)
            written += 1
            if out.count >= 1 << 20 { try write(out); out.removeAll(keepingCapacity: true) }
        }
        while written < rows {
            let progress = Double(written) / Double(max(rows, 1))
            let jitter = Int64(rng.next() % 172_800) - 86_400
            let time = min(yearStart + yearSeconds - 1, max(yearStart, yearStart + Int64(progress * Double(yearSeconds)) + jitter))
            lastTime = time
            while let due = pending.popDue(before: time), written < rows {
                try emit([nextID("RF"), EventGenerator.timestamp(due.time, &rng), "refund", due.activationID, "", "", "", "", "", "", "", "", ""])
            }
            guard written < rows else { break }
            let roll = rng.next() % 10_000
            if roll < 12 && !lastActivationIDs.isEmpty {
                try emit(EventGenerator.badRow(Int(roll), time: time, recent: lastActivationIDs, id: nextID("EV"), &rng))
                continue
            }
            let market = EventGenerator.pick(EventGenerator.marketWeights, &rng)
            let info = EventGenerator.markets[market]
            let channelRoll = rng.next() % 100
            let channel = channelRoll < 55 ? "dealer" : (channelRoll < 85 ? "online" : "vehicle")
            let credited = channel == "dealer" || (channel == "online" && rng.next() % 100 < 85) || (channel == "vehicle" && rng.next() % 100 < 30)
            var dealer = ""
            if credited, !marketDealers[market].isEmpty {
                // Power law: a few dealers sell most.
                let u = Double(rng.next() % 1_000_000) / 1_000_000
                let local = marketDealers[market]
                dealer = EventGenerator.dealerID(local[min(local.count - 1, Int(Double(local.count) * u * u * u))], market: info.code)
            }
            let feature = EventGenerator.features[Int(rng.next() % UInt64(EventGenerator.features.count))]
            let term = EventGenerator.terms[EventGenerator.pick(EventGenerator.terms.map(\.weight), &rng)]
            let gross = EventGenerator.price(euros: feature.euros, months: term.months, info: info)
            let id = nextID("EV")
            try emit([id, EventGenerator.timestamp(time, &rng), "activation", "", EventGenerator.vin(&rng), feature.code, term.term, channel, dealer,
                      info.code, info.currency, String(gross), String(info.vatBps)])
            if lastActivationIDs.count < 64 { lastActivationIDs.append(id) } else { lastActivationIDs[Int(rng.next() % 64)] = id }
            if rng.next() % 1000 < 30 && gross > 0 {
                // 3 % are refunded: most within the 14-day window, some after it.
                let delay: Int64 = rng.next() % 100 < 75 ? Int64(rng.next() % (13 * 86_400)) : Int64(15 * 86_400 + rng.next() % (45 * 86_400))
                pending.push(PendingRefund(time: time + delay + 60, activationID: id))
            }
        }
        try write(out)
    }

    /// A UUIDv7 (RFC 9562) for a time in milliseconds.
    static func uuid7(millis: UInt64, _ rng: inout SplitMix64) -> String {
        let high = (millis << 16) | (7 << 12) | (rng.next() & 0xFFF)
        let low = (rng.next() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        func hex(_ value: UInt64) -> [Character] {
            let text = String(value, radix: 16)
            return Array(String(repeating: "0", count: 16 - text.count) + text)
        }
        let c = hex(high) + hex(low)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-" + String(c[16..<20]) + "-" + String(c[20..<32])
    }

    static func badRow(_ kind: Int, time: Int64, recent: [String], id: String, _ rng: inout SplitMix64) -> [String] {
        let base = [id, timestamp(time, &rng), "activation", "", "WVWZZZ1KZAW394821", "NAV_PLUS", "P1Y", "dealer", "DE-10001", "DE", "EUR", "14900", "1900"]
        var row = base
        switch kind % 6 {
        case 0: row[1] = "2026-13-45 25:61"  // malformed timestamp
        case 1: row[10] = "XEU"  // unknown currency
        case 2: row[11] = "-500"  // negative amount
        case 3: row[12] = "12000"  // VAT out of range
        case 4: row = [id, timestamp(time, &rng), "refund", "EV-MISSING-\(id)", "", "", "", "", "", "", "", "", ""]  // missing activation
        default: row[0] = recent[Int(rng.next() % UInt64(recent.count))]  // duplicate event id
        }
        return row
    }

    static func dealerID(_ index: Int, market: String) -> String { "\(market)-\(10_000 + index)" }

    static func price(euros: Double, months: Double, info: MarketInfo) -> Int64 {
        guard months > 0 else { return 0 }
        let major = (euros * months * info.perEuro).rounded(.up) - (info.exponent > 0 ? 0.01 : 0)
        var scale = 1.0
        for _ in 0..<info.exponent { scale *= 10 }
        return Int64((major * scale).rounded())
    }

    static func timestamp(_ seconds: Int64, _ rng: inout SplitMix64) -> String {
        let date = CivilDate(unixSeconds: seconds)
        func pad(_ value: Int64) -> String { value < 10 ? "0\(value)" : String(value) }
        let base = "\(date.year)-\(pad(date.month))-\(pad(date.day))T\(pad(date.secondOfDay / 3600)):\(pad(date.secondOfDay / 60 % 60)):\(pad(date.secondOfDay % 60))"
        // Mostly UTC, some with an offset (the same instant), a few with milliseconds.
        switch rng.next() % 20 {
        case 0:
            let local = CivilDate(unixSeconds: seconds + 3600)
            return "\(local.year)-\(pad(local.month))-\(pad(local.day))T\(pad(local.secondOfDay / 3600)):\(pad(local.secondOfDay / 60 % 60)):\(pad(local.secondOfDay % 60))+01:00"
        case 1: return base + ".\(100 + rng.next() % 900)Z"
        default: return base + "Z"
        }
    }

    static func vin(_ rng: inout SplitMix64) -> String {
        let alphabet = Array("ABCDEFGHJKLMNPRSTUVWXYZ0123456789".utf8)
        var bytes = Array(wmis[Int(rng.next() % UInt64(wmis.count))].utf8)
        for _ in 0..<5 { bytes.append(alphabet[Int(rng.next() % UInt64(alphabet.count))]) }
        bytes.append(UInt8(ascii: "0"))  // check digit, set below
        bytes.append(UInt8(ascii: "T"))  // model year 2026
        bytes.append(alphabet[Int(rng.next() % 23)])
        for _ in 0..<6 { bytes.append(UInt8(ascii: "0") + UInt8(rng.next() % 10)) }
        // Every generated VIN carries a valid check digit, so North-American WMIs pass too.
        bytes[8] = bytes.withUnsafeBytes { VIN.checkDigit($0) } ?? UInt8(ascii: "0")
        return String(decoding: bytes, as: UTF8.self)
    }

    static func pick(_ weights: [Int], _ rng: inout SplitMix64) -> Int {
        let total = weights.reduce(0, +)
        var roll = Int(rng.next() % UInt64(total))
        for (index, weight) in weights.enumerated() {
            if roll < weight { return index }
            roll -= weight
        }
        return weights.count - 1
    }
}

/// A refund to be written once the generator's clock passes its time.
struct PendingRefund {
    let time: Int64
    let activationID: String
}

/// A min-heap of pending refunds by time.
struct RefundQueue {
    private var heap: [PendingRefund] = []

    mutating func push(_ refund: PendingRefund) {
        heap.append(refund)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].time < heap[parent].time else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popDue(before time: Int64) -> PendingRefund? {
        guard let first = heap.first, first.time <= time else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].time < heap[smallest].time { smallest = left }
            if right < heap.count, heap[right].time < heap[smallest].time { smallest = right }
            guard smallest != parent else { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}

/// SplitMix64: a small, fast, deterministic generator for synthetic data (not for secrets).
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    /// Seeds the generator.
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
