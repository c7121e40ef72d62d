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
