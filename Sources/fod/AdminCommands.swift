import ArgumentParser
import FoDEntitlements
import FoDStore
import Foundation

/// `fod apikey`.
struct APIKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikey",
        abstract: "Create, list and revoke API keys of a service's database.",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print it once (only its hash is stored).")
        @OptionGroup var storeOptions: StoreOptions
        @Option(help: "admin, issuer, dealer, auditor or network.") var role: String
        @Option(help: "The site a dealer key acts as (a site id: its sales are credited to the site's partner).") var dealer: String?
        @Option(help: "The salesperson a dealer key names (at that site): recorded on its sales.") var salesperson: String?
        @Option(help: "A label to recognise the key by.") var label: String = ""

        func run() async throws {
            try await CLIError.run {
                guard let role = Role(rawValue: role) else { throw StoreError(.invalid, "--role must be admin, issuer, dealer, auditor or network") }
                let dealer = try dealer.map { try DealerID($0) }
                let salesperson = try salesperson.map { try SalespersonID($0) }
                let created = try await storeOptions.with { opened in
                    try await opened.store.createAPIKey(role: role, dealer: dealer, salesperson: salesperson, label: label, actor: "cli",
                                                        at: SystemClock().unixSeconds())
                }
                FileHandle.standardError.write(Data("created \(role) key \(created.record.id); it is shown once:\n".utf8))
                print(created.secret)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (ids, roles, dealers; never secrets).")
        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            try await CLIError.run {
                for key in try await storeOptions.with({ try await $0.store.listAPIKeys() }) {
                    print([key.id, key.role.rawValue, key.dealer?.value ?? "-", key.salesperson?.value ?? "-", key.revokedAt == nil ? "active" : "revoked", key.label].joined(separator: "\t"))
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by id.")
        @OptionGroup var storeOptions: StoreOptions
        @Argument(help: "The key id (from list).") var id: String

        func run() async throws {
            try await CLIError.run {
                try await storeOptions.with { try await $0.store.revokeAPIKey(id: id, actor: "cli", at: SystemClock().unixSeconds()) }
            }
        }
    }
}

/// `fod audit`.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Check the audit log.", subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify the hash chain of the audit log: exit 0 when intact, 1 naming the first changed or missing entry.")
        @OptionGroup var storeOptions: StoreOptions

        func run() async throws {
            do {
                let count = try await storeOptions.with { try await $0.store.verifyAudit() }
                print("audit log intact: \(count) entries")
            } catch let error as StoreError where error.code == .auditBroken {
                CLIError.printError("\(error.code): \(error.reason)")
                throw ExitCode(1)
            } catch let error as StoreError {
                CLIError.printError("\(error.code): \(error.reason)")
                throw ExitCode(CLIError.badInput)
            }
        }
    }
}

/// `fod import`.
struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Load dealers, vehicles and the catalog from a fixtures folder into a service's database.",
        discussion: """
        `fod serve` loads the fixtures only into a new database; after that a start never changes
        data. This command loads them on purpose: dealers and vehicles are inserted or updated
        (a vehicle changed through the API gets the fixture's values back), the catalog replaced.
        The import is one transaction and is written to the audit log.
        """
    )

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "Folder with catalog.json, vehicles.json and dealers.json.") var fixtures: String = "fixtures"

    func run() async throws {
        try await CLIError.run {
            let folder = fixtures as NSString
            let dealers = try CLIInput.readFile(folder.appendingPathComponent("dealers.json"))
            let vehicles = try CLIInput.readFile(folder.appendingPathComponent("vehicles.json"))
            let catalog = try CLIInput.readFile(folder.appendingPathComponent("catalog.json"))
            let location = try await storeOptions.with { opened in
                try await opened.store.importFixtures(dealers: dealers, vehicles: vehicles, catalog: catalog, actor: "cli", at: SystemClock().unixSeconds())
                return opened.store.location
            }
            FileHandle.standardError.write(Data("imported \(fixtures) into \(location) (restart fod serve to use a new catalog)\n".utf8))
        }
    }
}
