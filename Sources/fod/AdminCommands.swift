import ArgumentParser
import FoDEntitlements
import FoDStore
import Foundation

/// `fod apikey`.
struct APIKeyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikey",
        abstract: "Create, list and revoke API keys of a service's database.",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    static func open(_ data: String) throws -> FoDDatabase {
        try FoDDatabase(path: (data as NSString).appendingPathComponent("fod.sqlite"))
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key and print it once (only its hash is stored).")
        @Option(help: "Data folder of the service.") var data: String = "data"
        @Option(help: "admin, issuer, dealer or auditor.") var role: String
        @Option(help: "The dealer a dealer key acts as.") var dealer: String?
        @Option(help: "A label to recognise the key by.") var label: String = ""

        func run() throws {
            try CLIError.run {
                guard let role = Role(rawValue: role) else { throw StoreError(.invalid, "--role must be admin, issuer, dealer or auditor") }
                let created = try APIKeyCommand.open(data).createAPIKey(role: role, dealer: try dealer.map { try DealerID($0) }, label: label,
                                                                         actor: "cli", at: SystemClock().unixSeconds())
                FileHandle.standardError.write(Data("created \(role) key \(created.record.id); it is shown once:\n".utf8))
                print(created.secret)
            }
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys (ids, roles, dealers; never secrets).")
        @Option(help: "Data folder of the service.") var data: String = "data"

        func run() throws {
            try CLIError.run {
                for key in try APIKeyCommand.open(data).listAPIKeys() {
                    print([key.id, key.role.rawValue, key.dealer?.value ?? "-", key.revokedAt == nil ? "active" : "revoked", key.label].joined(separator: "\t"))
                }
            }
        }
    }

    struct Revoke: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key by id.")
        @Option(help: "Data folder of the service.") var data: String = "data"
        @Argument(help: "The key id (from list).") var id: String

        func run() throws {
            try CLIError.run { try APIKeyCommand.open(data).revokeAPIKey(id: id, actor: "cli", at: SystemClock().unixSeconds()) }
        }
    }
}

/// `fod audit`.
struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Check the audit log.", subcommands: [Verify.self])

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify the hash chain of the audit log: exit 0 when intact, 1 naming the first changed or missing entry.")
        @Option(help: "Data folder of the service.") var data: String = "data"

        func run() throws {
            do {
                let count = try APIKeyCommand.open(data).verifyAudit()
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
struct ImportCommand: ParsableCommand {
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

    @Option(help: "Data folder of the service.") var data: String = "data"
    @Option(help: "Folder with catalog.json, vehicles.json and dealers.json.") var fixtures: String = "fixtures"

    func run() throws {
        try CLIError.run {
            let folder = fixtures as NSString
            try APIKeyCommand.open(data).importFixtures(
                dealers: try CLIInput.readFile(folder.appendingPathComponent("dealers.json")),
                vehicles: try CLIInput.readFile(folder.appendingPathComponent("vehicles.json")),
                catalog: try CLIInput.readFile(folder.appendingPathComponent("catalog.json")),
                actor: "cli", at: SystemClock().unixSeconds())
            FileHandle.standardError.write(Data("imported \(fixtures) into \(data) (restart fod serve to use a new catalog)\n".utf8))
        }
    }
}
