import ArgumentParser
import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDPostgres
import FoDStore
import Foundation
import Synchronization

/// `fod-bench scale-load`: an OEM's year in a new database, written through the store's own
/// operations (the group commit of activations, renewals), for `scripts/bench-scale.py`.
///
/// The schedule is deterministic (which vehicle buys what, when, on which channel, at which price):
/// vehicle `WDDBENCH<9 digits>` n buys NAV_PLUS, MATRIX_LED and MORE_POWER once each (3 sales per
/// vehicle), a third of all sales in the busy month, the rest spread over the other eleven; the last
/// `--subscriptions` vehicles also take an ACC subscription in the first month, renewed every month.
/// Ids (UUIDv7) and ES256 signatures are random, as in service. Tokens are signed with the key the
/// service will run with (default the development key), so that its start re-issues nothing.
struct ScaleLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale-load",
        abstract: "Load a year of sales and renewals into a new database (SQLite folder or PostgreSQL URL) through the store.")

    @Option(help: "Vehicles (WDDBENCH000000001 …).") var vehicles = 1_000_000
    @Option(help: "Vehicles (the last ones) with an ACC subscription renewed monthly.") var subscriptions = 2_000
    @Option(help: "The month with a third of the sales, YYYY-MM (the year runs from 2025-12 to 2026-11).") var busyMonth = "2026-10"
    @Option(help: "A new data folder (SQLite).") var data: String?
    @Option(help: "A PostgreSQL URL (a new schema: search_path=…).") var database: String?
    @Option(help: "The signing key (PEM).") var key = "keys/dev-es256.private.pem"
    @Option(help: "The issuer.") var issuer = "https://fod.oem.example"
    @Option(help: "Activations per group commit.") var group = 2_000
    @Option(help: "Where to write the admin and dealer keys (JSON).") var keys = "scale-keys.json"

    static let features = ["NAV_PLUS", "MATRIX_LED", "MORE_POWER"]
    static let terms: [String: [Term]] = ["NAV_PLUS": [.oneMonth, .oneYear, .threeYears], "MATRIX_LED": [.oneMonth, .oneYear, .permanent],
                                          "MORE_POWER": [.oneMonth, .permanent]]
    static let channels = ["dealer", "online", "app", "vehicle"]
    /// 2025-12-01T00:00:00Z: the year's first month.
    static let yearStart: Int64 = 1_764_547_200

    func run() async throws {
        let started = Date()
        let store: any EntitlementStore
        if let database {
            let postgres = try PostgresStore(url: try DatabaseURL(database), maximumConnections: 4)
            try await postgres.start()
            store = postgres
        } else {
            let folder = data ?? "scale-data"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            store = try SQLiteStore(path: (folder as NSString).appendingPathComponent("fod.sqlite"))
        }
        defer { (store as? PostgresStore)?.shutdown() }
        let fixtures = URL(fileURLWithPath: "fixtures")
        let dealers = try String(contentsOf: fixtures.appendingPathComponent("dealers.json"), encoding: .utf8)
        let catalogText = try String(contentsOf: fixtures.appendingPathComponent("catalog.json"), encoding: .utf8)
        let catalog = try Catalog(json: catalogText)
        for first in stride(from: 1, through: vehicles, by: 50_000) {
            let range = first...min(first + 49_999, vehicles)
            let list = range.map { n in
                #"{"vin":"\#(Self.vin(n))","model":"A6","model_year":2024,"market":"DE","equipment":["8G4","7UG"],"dealer_id":"DE-1000\#(n % 2 + 1)"}"#
            }
            try await store.importFixtures(dealers: dealers, vehicles: "[" + list.joined(separator: ",") + "]", catalog: catalogText,
                                           actor: "scale-load", at: Self.yearStart)
        }
        print("vehicles: \(vehicles) in \(Int(Date().timeIntervalSince(started))) s")
        let admin = try await store.createAPIKey(role: .admin, dealer: nil, label: "scale admin", actor: "scale-load", at: Self.yearStart)
        let dealer = try await store.createAPIKey(role: .dealer, dealer: try DealerID("DE-10001"), label: "scale dealer", actor: "scale-load", at: Self.yearStart)
        try JSONSerialization.data(withJSONObject: ["admin": admin.secret, "dealer": dealer.secret]).write(to: URL(fileURLWithPath: keys))

        let signingKey = try PrivateKey(pem: try String(contentsOfFile: key, encoding: .utf8))
        let clock = LoadClock()
        let signer = Issuer(key: signingKey, issuer: try IssuerID(issuer), clock: clock)
        let busy = try Self.monthIndex(busyMonth)
        // Every sale's moment, then in time order.
        let total = vehicles * Self.features.count
        var schedule = (0..<total).map { sale -> (at: Int64, sale: Int) in
            var random = SplitMix(seed: UInt64(sale))
            let other = Int(random.next() % 11)
            let month = random.next() % 3 == 0 ? busy : (other >= busy ? other + 1 : other)
            let start = Self.monthStart(month), length = Self.monthStart(month + 1) - start
            return (start + Int64(random.next() % UInt64(length)), sale)
        }
        schedule.sort { $0.at < $1.at }
        let principals = try ["DE-10001", "DE-10002"].map { Principal(keyID: "scale", role: .dealer, dealer: try DealerID($0)) }
        let online = Principal(keyID: "scale-issuer", role: .issuer, dealer: nil)
        var recorded = 0
        for first in stride(from: 0, to: schedule.count, by: group) {
            let chunk = schedule[first..<min(first + group, schedule.count)]
            var records: [ActivationRecord] = []
            for (at, sale) in chunk {
                let vehicle = sale % vehicles + 1, feature = Self.features[sale / vehicles]
                let terms = Self.terms[feature] ?? [.oneYear]
                let term = terms[(sale / 7) % terms.count]
                let channel = Self.channels[sale % Self.channels.count]
                let servicing = principals[vehicle % 2]
                clock.set(at)
                let issued = try signer.issue(EntitlementRequest(vin: try VIN(Self.vin(vehicle)), feature: try FeatureCode(feature), term: term,
                                                                 dealer: servicing.dealer))
                let price = try Self.price(catalog, feature, term)
                records.append(ActivationRecord(activation: NewActivation(entitlement: issued, channel: channel, market: try Market("DE"),
                                                                          gross: price.gross, vat: price.vat),
                                                principal: channel == "dealer" ? servicing : online, idempotencyKey: "scale-\(sale)",
                                                requestHash: "scale", response: IdempotentResponse(status: 201, body: [])))
            }
            let results = try await store.recordActivations(records, at: chunk.last?.at ?? Self.yearStart)
            recorded += results.filter { if case .success = $0 { true } else { false } }.count
            if recorded % 100_000 < group { print("sales: \(recorded) of \(total), \(Int(Date().timeIntervalSince(started))) s") }
        }
        // Subscriptions: one a month from the first month, each renewal the next month's sale.
        var renewed = 0
        for vehicle in max(1, vehicles - subscriptions + 1)...vehicles {
            let principal = principals[vehicle % 2]
            var at = Self.yearStart + Int64(vehicle % 86_400)
            clock.set(at)
            let price = try Self.price(catalog, "ACC", .subscription)
            var previous = try signer.issue(EntitlementRequest(vin: try VIN(Self.vin(vehicle)), feature: try FeatureCode("ACC"), term: .subscription,
                                                               dealer: principal.dealer))
            _ = try await store.recordActivations([ActivationRecord(activation: NewActivation(entitlement: previous, channel: "app", market: try Market("DE"),
                                                                                              gross: price.gross, vat: price.vat),
                                                                   principal: principal, idempotencyKey: "scale-acc-\(vehicle)", requestHash: "scale",
                                                                   response: IdempotentResponse(status: 201, body: []))], at: at)
            while let end = previous.claims.expiresAt, end < Self.monthStart(12) {
                at = end - 2 * 86_400
                clock.set(at)
                let next = try signer.issue(EntitlementRequest(vin: previous.claims.vin, feature: previous.claims.feature, term: .subscription,
                                                               dealer: principal.dealer, notBefore: end))
                guard try await store.recordRenewal(RenewalRecord(previous: previous.claims.id,
                                                                  activation: NewActivation(entitlement: next, channel: "app", market: try Market("DE"),
                                                                                            gross: price.gross, vat: price.vat)),
                                                    actor: "system", at: at) else { break }
                renewed += 1
                previous = next
            }
        }
        print("done: \(recorded) sales, \(subscriptions) subscriptions with \(renewed) renewals, in \(Int(Date().timeIntervalSince(started))) s")
    }

    static func vin(_ n: Int) -> String { "WDDBENCH" + String(repeating: "0", count: max(0, 9 - String(n).count)) + String(n) }

    static func price(_ catalog: Catalog, _ feature: String, _ term: Term) throws -> Price {
        guard let price = catalog.feature(try FeatureCode(feature))?.prices.first(where: { $0.market.code == "DE" && $0.term == term }) else {
            throw ValidationError("no DE price of \(feature) \(term) in fixtures/catalog.json")
        }
        return price
    }

    /// The month `index` months after the year's first, as Unix seconds at its start.
    static func monthStart(_ index: Int) -> Int64 {
        let year = 2025 + (11 + index) / 12, month = (11 + index) % 12 + 1
        var components = DateComponents()
        (components.year, components.month, components.day) = (year, month, 1)
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        return Int64(calendar.date(from: components)!.timeIntervalSince1970)
    }

    static func monthIndex(_ text: String) throws -> Int {
        guard let index = (0..<12).first(where: { monthStart($0) == (Self.monthStartOf(text) ?? -1) }) else {
            throw ValidationError("--busy-month must be a month from 2025-12 to 2026-11")
        }
        return index
    }

    static func monthStartOf(_ text: String) -> Int64? {
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 2 else { return nil }
        return (0..<12).map(monthStart).first { start in
            let date = Date(timeIntervalSince1970: TimeInterval(start))
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            return calendar.component(.year, from: date) == parts[0] && calendar.component(.month, from: date) == parts[1]
        }
    }
}

/// The loader's clock: the moment of the sale being signed.
final class LoadClock: WallClock {
    private let seconds = Mutex<Int64>(0)
    func set(_ value: Int64) { seconds.withLock { $0 = value } }
    func now() -> Date { Date(timeIntervalSince1970: TimeInterval(seconds.withLock { $0 })) }
}

/// A small deterministic generator (SplitMix64).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state = state &+ 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
