import ArgumentParser
import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDRevenue
import FoDServer
import FoDStore
import Foundation

/// `fod renew`: one renewal run against the service's database, as `fod serve` does in the background.
struct RenewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "renew",
        abstract: "Renew the subscriptions that end soon: the next period's token and its priced sale, once each.",
        discussion: """
        Books, for every subscription (not cancelled) ending within --lead-days of --at, the next
        month as a new entitlement starting where the current one ends, with an activation event at
        the catalog's subscription price, credited like the first sale. Safe to run twice or at the
        same time as fod serve on the same database: each period is booked once. Exit 0 when done.
        """
    )

    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var signingOptions: SigningOptions
    @Option(help: "The revenue-share rules the service runs with. Env FOD_RULES.")
    var rules: String = ProcessInfo.processInfo.environment["FOD_RULES"] ?? "fixtures/revenue/rules.json"
    @Option(help: "The moment of the run (RFC 3339); default now.")
    var at: String?
    @Option(help: "Renew what ends within this many days of --at (1 to 28).")
    var leadDays: Int = 3

    func run() async throws {
        guard (1...28).contains(leadDays) else { throw ValidationError("--lead-days must be 1 to 28") }
        try await CLIError.run {
            let instant = try at.map { try CLIInput.unixSeconds(rfc3339: $0, option: "--at") }
            let opened = try await storeOptions.open()
            defer { opened.close() }
            let clock: any WallClock = instant.map { FixedClock(unixSeconds: $0) } ?? SystemClock()
            let signing = try signingOptions.signingKeys(development: signingOptions.isDevelopment(storeOptions), clock: clock)
            let services = try await FoDServices(store: opened.store, signing: signing, catalog: try await opened.catalog(),
                                                 rules: try RuleSet(json: try CLIInput.readFile(rules)), clock: clock)
            let summary = try await RenewalService(services: services).run(lead: Int64(leadDays) * 86_400, actor: "cli:renew")
            print("renewed \(summary.renewed), already renewed by another run \(summary.taken), skipped \(summary.skipped.count)")
            for line in summary.skipped { print("  skipped \(line)") }
            if summary.endedByTransfer > 0 { print("ended by a change of owner taking effect: \(summary.endedByTransfer)") }
        }
    }
}
