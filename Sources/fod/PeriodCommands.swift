import ArgumentParser
import FoDAPI
import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDInvoicing
import FoDRevenue
import FoDServer
import FoDStore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What the back-office commands share: the store, the signing key, the rules, the issuer profile
/// and the moment they act at (`--at`, an injected clock).
struct BackOfficeOptions: ParsableArguments {
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var signingOptions: SigningOptions
    @Option(help: "The revenue-share rules. Env FOD_RULES.")
    var rules: String = ProcessInfo.processInfo.environment["FOD_RULES"] ?? "fixtures/revenue/rules.json"
    @Option(name: .customLong("issuer-profile"), help: "The OEM's data on its credit notes (JSON). Env FOD_ISSUER_PROFILE.")
    var issuerProfile: String = ProcessInfo.processInfo.environment["FOD_ISSUER_PROFILE"] ?? "fixtures/revenue/issuer.json"
    @Option(help: "The moment the command acts at (RFC 3339); default now.")
    var at: String?
    @Option(name: .customLong("first-period"), help: "The first month to close, YYYY-MM (default: the month of the first recorded sale). Env FOD_FIRST_PERIOD.")
    var firstPeriod: String? = ProcessInfo.processInfo.environment["FOD_FIRST_PERIOD"]

    /// The services over the opened store, on a clock fixed at `--at` (or the system's).
    func services(_ opened: OpenedStore) async throws -> (FoDServices, Int64) {
        let instant = try at.map { try CLIInput.unixSeconds(rfc3339: $0, option: "--at") }
        let clock: any WallClock = instant.map { FixedClock(unixSeconds: $0) } ?? SystemClock()
        let signing = try signingOptions.signingKeys(development: signingOptions.isDevelopment(storeOptions), clock: clock)
        let profile = try IssuerProfile(json: Array(try CLIInput.readFile(issuerProfile).utf8))
        let services = try await FoDServices(store: opened.store, signing: signing, catalog: try await opened.catalog(),
                                             rules: try RuleSet(json: try CLIInput.readFile(rules)), clock: clock, issuerProfile: profile,
                                             firstPeriod: firstPeriod)
        return (services, clock.unixSeconds())
    }
}

/// `fod close --period YYYY-MM`: freezes a month that has ended.
struct CloseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "close",
        abstract: "Close a month: freeze its statements and lines, number its credit notes, sign its statement.",
        discussion: """
        Refused before the month has ended (at --at) and while the month before it is open. A
        closed month is never recomputed: events dated in it that arrive later, and decided
        objections, are settled as adjustment lines of the next month closed. Closing a closed
        month again changes nothing and prints what the first close made. Safe to run at the same
        time as fod serve or another fod close on the same database. Exit 0 when closed.
        """
    )

    @OptionGroup var options: BackOfficeOptions
    @Option(help: "The month to close, YYYY-MM.")
    var period: String

    func run() async throws {
        try await CLIError.run {
            let opened = try await options.storeOptions.open()
            defer { opened.close() }
            let (services, now) = try await options.services(opened)
            let closed = try await PeriodCloseService(services: services).close(period, at: now, actor: "cli:close")
            print("\(closed.period) closed at \(Instant(unixSeconds: closed.closedAt).rfc3339) by \(closed.actor); events \(closed.eventsSHA256); audit head \(closed.mark.auditSeq)")
            for note in closed.creditNotes {
                print("  \(note.number) \(note.kind.rawValue) \(note.dealerID) \(note.currency.format(minor: note.total)) \(note.currency.code)")
            }
            if closed.creditNotes.isEmpty { print("  no credit notes (nothing payable)") }
        }
    }
}

/// `fod credit-notes --period YYYY-MM --out DIR`: a closed month's documents as files.
struct CreditNotesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credit-notes",
        abstract: "Write a closed month's credit notes (NUMBER.xml, EN 16931 CII; NUMBER.html) and its signed statement.",
        discussion: """
        Writes, for every credit note of the closed --period, NUMBER.xml (UN/CEFACT CII, document
        type 389, or 261 for a correction) and NUMBER.html (printable), and the period's
        statement-YYYY-MM.json with its detached signature statement-YYYY-MM.json.jws (check it
        with fod statement verify). Exit 0 when written; 2 when the month is not closed.
        """
    )

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "The closed month, YYYY-MM.")
    var period: String
    @Option(help: "The folder to write into (created if missing).")
    var out: String

    func run() async throws {
        try await CLIError.run {
            let opened = try await storeOptions.open()
            defer { opened.close() }
            guard let closed = try await opened.store.closedPeriod(period) else {
                throw StoreError(.notFound, "\(period) is not closed: run fod close --period \(period) first")
            }
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let folder = out as NSString
            for note in closed.creditNotes {
                try note.check()
                try FileSink.write(Array(note.ciiXML().utf8), to: folder.appendingPathComponent(note.number + ".xml"))
                try FileSink.write(Array(note.html().utf8), to: folder.appendingPathComponent(note.number + ".html"))
            }
            let name = "statement-\(closed.period).json"
            try FileSink.write(Array(closed.statement.utf8), to: folder.appendingPathComponent(name))
            try FileSink.write(Array((closed.signature + "\n").utf8), to: folder.appendingPathComponent(name + ".jws"))
            print("\(closed.creditNotes.count) credit note(s) and \(name) (with \(name).jws) written to \(out)")
        }
    }
}

/// `fod statement verify FILE --jwks URL|FILE`.
struct StatementCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "statement", abstract: "Check a closed period's signed statement.",
                                                    subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a statement file's detached signature against the issuer's JWKS.",
            discussion: """
            Reads FILE and its signature (FILE.jws, or --signature), fetches or reads the key set
            and checks the signature: exit 0 and the period, audit-log head and statements when
            it holds; 1 when the file or the signature was changed.
            """
        )

        @Argument(help: "The statement file (statement-YYYY-MM.json).")
        var file: String
        @Option(help: "The detached signature (default: FILE.jws).")
        var signature: String?
        @Option(help: "The issuer's key set: a file, or an https:// (or http:// on loopback) URL such as https://fod.oem.example/.well-known/jwks.json.")
        var jwks: String

        func run() async throws {
            let keys = try await CLIError.run { try KeySet(jwksJSON: try await Verify.fetch(jwks)) }
            let payload = try await CLIError.run { () throws -> [UInt8] in
                guard let data = FileManager.default.contents(atPath: file) else { throw EntitlementError(.requestInvalid, "cannot read '\(file)'") }
                return Array(data)
            }
            let jws = try await CLIError.run { try CLIInput.readFile(signature ?? file + ".jws") }
            do {
                let kid = try DetachedJWS.verify(jws, payload: payload, keys: keys)
                let statement = try JSONDecoder().decode(StatementFile.self, from: Data(payload))
                print("valid: \(statement.period) signed by \(statement.issuer) (key \(kid)); audit head \(statement.auditHead.seq) \(statement.auditHead.sha256); events \(statement.eventsSHA256)")
                for s in statement.statements {
                    let currency = try? Currency(s.currency)
                    print("  \(s.dealerID.isEmpty ? "(no dealer)" : s.dealerID) \(s.currency) payable \(currency?.format(minor: s.payable) ?? String(s.payable))")
                }
            } catch let error as EntitlementError {
                CLIError.printError("invalid: \(error)")
                throw ExitCode(1)
            } catch {
                CLIError.printError("invalid: the file is not a fod statement")
                throw ExitCode(1)
            }
        }

        static func fetch(_ location: String) async throws -> String {
            guard location.hasPrefix("https://") || location.hasPrefix("http://") else { return try CLIInput.readFile(location) }
            guard let url = URL(string: location) else { throw EntitlementError(.requestInvalid, "--jwks \(location) is not a URL") }
            var request = URLRequest(url: url, timeoutInterval: 10)
            request.httpMethod = "GET"
            let (data, response) = try await URLSession.shared.data(for: request)
            guard (response as? HTTPURLResponse)?.statusCode == 200 else { throw EntitlementError(.requestInvalid, "GET \(location) did not answer 200") }
            return String(decoding: data, as: UTF8.self)
        }
    }
}
