import ArgumentParser
import AsyncHTTPClient
import FoDAPI
import FoDCore
import FoDEntitlements
import FoDVehicle
import Foundation
import HeapModule
import NIOCore
import NIOHTTP1
import Synchronization

/// `fod vehicle simulate`: a fleet of reference cars polling a service as cars do — each on its
/// own schedule, spread over the interval, with jitter — for load tests. Bounded in time; prints
/// polls per second and latency percentiles.
struct VehicleSimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "A fleet of cars polling a service (roots, attested time, manifest), for load tests.",
        discussion: """
        Each car pins root 1 as the service publishes it and polls every --interval seconds
        (its first poll at a random point of the first interval, then ± --jitter), doing what
        fod vehicle sync does, in memory. With --register the cars are registered first
        (POST /v1/vehicles, an issuer key from FOD_VEHICLE_KEY or --key-file; the manifest needs it too).
        """
    )

    @Option(help: "How many cars.") var vehicles: Int
    @Option(help: "The service's URL.") var server: String
    @Option(help: "How long to run, in seconds.") var seconds: Int = 60
    @Option(help: "Mean seconds between one car's polls.") var interval: Double = 60
    @Option(help: "The spread of a car's interval, as a fraction (0.1: ±10 %).") var jitter: Double = 0.1
    @Option(help: "Concurrent connections to the service.") var connections: Int = 32
    @Option(name: .customLong("vin-prefix"), help: "The first 6 characters of the cars' VINs (the rest is their number).")
    var vinPrefix = "WDDFLT"
    @Option(help: "The cars' market.") var market = "DE"
    @Flag(help: "Register the cars first (POST /v1/vehicles; an existing one is fine).") var register = false
    @Option(name: .customLong("key-file"), help: "A file whose first line is an issuer key (else FOD_VEHICLE_KEY).") var keyFile: String?
    @Flag(help: "Print the figures as one JSON object.") var json = false
    @Flag(name: .customLong("no-report"), help: "Do not report what each car has after its poll (POST /v1/vehicles/{vin}/state).")
    var noReport = false

    func validate() throws {
        guard (1...1_000_000).contains(vehicles) else { throw ValidationError("--vehicles is 1 to 1,000,000") }
        guard (1...3600).contains(seconds) else { throw ValidationError("--seconds is 1 to 3,600") }
        guard interval >= 0.1, interval <= 86_400, (0...0.5).contains(jitter) else { throw ValidationError("--interval is 0.1 s to a day, --jitter 0 to 0.5") }
        guard (1...1024).contains(connections) else { throw ValidationError("--connections is 1 to 1,024") }
    }

    /// The figures of a run.
    struct Figures: Sendable {
        var latencies: [Double] = []
        var late = 0
        var errors: [String: Int] = [:]
        var refusals: [String: Int] = [:]
    }

    func run() async throws {
        let url = try await CLIError.run { try VehicleCommand.url(server) }
        let key = try await CLIError.run { try VehicleClient.key(file: keyFile) }
        let cars = try await CLIError.run { try (0..<vehicles).map { index in try VIN(strict: vinPrefix + String(format: "%011d", index)) } }
        let marketCode = try await CLIError.run { try Market(market) }
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = connections
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let client = VehicleClient(http: http, server: url, key: key)

        guard let rootText = try await CLIError.run({ try await client.root(1) }) else {
            CLIError.printError("the service publishes no root version 1 (fod serve --trust)")
            throw ExitCode(3)
        }
        let root = try await CLIError.run { try SignedRoot(json: rootText) }
        if register { try await registerAll(cars, market: marketCode, client: client) }
        let fleet = try await CLIError.run {
            try cars.map { try OnboardVehicle(vin: $0, market: marketCode, pinnedRoot: root, productionTime: root.metadata.issuedAt,
                                              offlineGrace: 7 * 86_400, at: VehicleFiles.monotonic()) }
        }

        // The schedule: each car's next poll, earliest first; workers take the earliest due.
        let clock = ContinuousClock()
        let start = clock.now
        let end = start + .seconds(seconds)
        var first = Heap<Due>()
        for index in fleet.indices { first.insert(Due(at: start + .seconds(Double.random(in: 0..<interval)), car: index)) }
        let schedule = Shared(first)
        let figures = Shared(Figures())
        let (interval, jitter, reporting) = (self.interval, self.jitter, !noReport)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    while true {
                        guard let due = schedule.withLock({ $0.popMin() }), due.at < end else { return }
                        if due.at > clock.now { try? await Task.sleep(until: due.at, clock: clock) }
                        let began = clock.now
                        let late = began - due.at > .seconds(1)
                        var failure: String?
                        var refused: [String] = []
                        do {
                            let outcome = try await VehicleSync.run(fleet[due.car], client: client, report: reporting)
                            refused = outcome.refusals.map(\.code) + (outcome.comparison.map { $0.inSync ? [] : ["service: not in sync"] } ?? [])
                        } catch let error as CommandError {
                            failure = VehicleSimulateCommand.errorCode(error)
                        } catch {
                            failure = "unexpected"
                        }
                        let took = clock.now - began
                        let next = due.at + .seconds(interval * Double.random(in: (1 - jitter)...(1 + jitter)))
                        schedule.withLock { $0.insert(Due(at: next, car: due.car)) }
                        figures.withLock { figures in
                            if clock.now <= end {
                                figures.latencies.append(Double(took.components.seconds) * 1000 + Double(took.components.attoseconds) / 1e15)
                                if late { figures.late += 1 }
                                if let failure { figures.errors[failure, default: 0] += 1 }
                                for code in refused { figures.refusals[code, default: 0] += 1 }
                            }
                        }
                    }
                }
            }
        }
        try? await http.shutdown()
        report(figures.withLock { $0 }, elapsed: Double(seconds))
    }

    /// A value behind a lock, shared by the workers.
    final class Shared<Value: Sendable>: Sendable {
        private let value: Mutex<Value>
        init(_ value: Value) { self.value = Mutex(value) }
        func withLock<T: Sendable>(_ body: (inout sending Value) -> sending T) -> T { value.withLock(body) }
    }

    /// A car's next poll.
    struct Due: Comparable, Sendable {
        let at: ContinuousClock.Instant
        let car: Int
        static func < (lhs: Due, rhs: Due) -> Bool { lhs.at < rhs.at }
    }

    /// Registers the cars (201, or 409 when it exists), `connections` at a time.
    private func registerAll(_ cars: [VIN], market: Market, client: VehicleClient) async throws {
        let next = Shared(0)
        let failures = Shared<[String]>([])
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    while true {
                        let index = next.withLock { value -> Int in defer { value += 1 }; return value }
                        guard index < cars.count else { return }
                        let body = #"{"vin":"\#(cars[index].value)","model":"SIM","model_year":2026,"market":"\#(market.code)","equipment":[]}"#
                        do {
                            let answer = try await client.send(.POST, "/v1/vehicles", json: Array(body.utf8), authorized: true)
                            if answer.status != 201, answer.status != 409 { failures.withLock { $0.append("HTTP \(answer.status)") } }
                        } catch {
                            failures.withLock { $0.append("\(error)") }
                        }
                    }
                }
            }
        }
        let failed = failures.withLock { $0 }
        if !failed.isEmpty {
            CLIError.printError("registering the cars: \(failed.count) failed (\(failed.prefix(3).joined(separator: "; ")))")
            throw ExitCode(3)
        }
    }

    /// The code of a failed poll: the service's problem code, or the kind of failure.
    static func errorCode(_ error: CommandError) -> String {
        if error.code == .serverRefused, let range = error.reason.range(of: #"HTTP \d+ [a-z_]+"#, options: .regularExpression) {
            return String(error.reason[range])
        }
        return error.codeName
    }

    private func report(_ figures: Figures, elapsed: Double) {
        let sorted = figures.latencies.sorted()
        func percentile(_ p: Double) -> Double {
            guard !sorted.isEmpty else { return 0 }
            return sorted[min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1)]
        }
        let failed = figures.errors.values.reduce(0, +)
        let rate = Double(sorted.count - failed) / elapsed
        if json {
            let errors = figures.errors.map { "\"\($0.key)\":\($0.value)" }.sorted().joined(separator: ",")
            let refusals = figures.refusals.map { "\"\($0.key)\":\($0.value)" }.sorted().joined(separator: ",")
            print(String(format: "{\"vehicles\":%d,\"seconds\":%d,\"interval\":%.1f,\"polls\":%d,\"failed\":%d,\"polls_per_second\":%.1f,\"p50_ms\":%.2f,\"p90_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f,\"late\":%d,\"errors\":{%@},\"refusals\":{%@}}",
                         vehicles, seconds, interval, sorted.count, failed, rate, percentile(0.5), percentile(0.9), percentile(0.99),
                         sorted.last ?? 0, figures.late, errors, refusals))
        } else {
            print(String(format: "%d cars, %d s, a poll every %.1f s ± %.0f %%: %d polls (%.1f/s), %d failed; a poll took p50 %.2f ms, p99 %.2f ms, max %.2f ms; %d started over 1 s late",
                         vehicles, seconds, interval, jitter * 100, sorted.count, rate, failed, percentile(0.5), percentile(0.99), sorted.last ?? 0, figures.late))
            for (code, count) in figures.errors.sorted(by: { $0.key < $1.key }) { print("  failed: \(code): \(count)") }
            for (code, count) in figures.refusals.sorted(by: { $0.key < $1.key }) { print("  refused by a car: \(code): \(count)") }
        }
    }
}
