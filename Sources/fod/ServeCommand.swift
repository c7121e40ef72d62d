import ArgumentParser
import FoDCrypto
import FoDEntitlements
import FoDRevenue
import FoDServer
import FoDStore
import Foundation
import Hummingbird
import Logging

/// `fod serve`.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the entitlement service (HTTP API) on an embedded SQLite database.",
        discussion: """
        With no options it runs the demo: data in ./data, the development keys
        from keys/, on 127.0.0.1:8080. A new database gets the catalog, vehicles
        and dealers from fixtures/ and an admin key and a dealer key (printed
        once); later starts change no data (fod import reloads the fixtures).
        An existing database file that is empty or not SQLite stops the start.
        Options also come from the environment: FOD_DATA, FOD_HOST, FOD_PORT,
        FOD_KEY, FOD_ISSUER, FOD_DEV=0|1, FOD_SECURE_COOKIES=1, FOD_LOG_LEVEL, FOD_LOG_FORMAT.
        Development keys (keys/dev-*) are refused unless --dev.
        """
    )

    @Option(help: "Data folder (database). Env FOD_DATA.")
    var data: String = ProcessInfo.processInfo.environment["FOD_DATA"] ?? "data"
    @Option(help: "Listen address. Env FOD_HOST.")
    var host: String = ProcessInfo.processInfo.environment["FOD_HOST"] ?? "127.0.0.1"
    @Option(help: "Listen port. Env FOD_PORT.")
    var port: Int = Int(ProcessInfo.processInfo.environment["FOD_PORT"] ?? "") ?? 8080
    @Option(help: "Signing key (PEM, mode 0600). Env FOD_KEY.")
    var key: String = ProcessInfo.processInfo.environment["FOD_KEY"] ?? "keys/dev-es256.private.pem"
    @Option(help: "Issuer name in tokens. Env FOD_ISSUER.")
    var issuer: String = ProcessInfo.processInfo.environment["FOD_ISSUER"] ?? "https://fod.oem.example"
    @Option(help: "Folder with catalog.json, vehicles.json, dealers.json loaded into a new database (fod import loads them later).")
    var fixtures: String = "fixtures"
    @Option(help: "Revenue-share rules for the statements endpoint. Env FOD_RULES.")
    var rules: String = ProcessInfo.processInfo.environment["FOD_RULES"] ?? "fixtures/revenue/rules.json"
    @Flag(inversion: .prefixedNo, help: "Development mode: allows the dev-* keys. Env FOD_DEV.")
    var dev: Bool = ProcessInfo.processInfo.environment["FOD_DEV"].map { $0 != "0" } ?? true

    @Flag(help: "Mark the dealer page's cookies Secure on every request (behind a TLS proxy that does not send X-Forwarded-Proto). Env FOD_SECURE_COOKIES=1.")
    var secureCookies: Bool = ProcessInfo.processInfo.environment["FOD_SECURE_COOKIES"] == "1"

    @Option(help: "Log level: trace, debug, info (one line per request), notice, warning, error, critical. Env FOD_LOG_LEVEL.")
    var logLevel: String = ProcessInfo.processInfo.environment["FOD_LOG_LEVEL"] ?? "info"

    @Option(help: "Log format: json (one object per line) or text. Env FOD_LOG_FORMAT.")
    var logFormat: String = ProcessInfo.processInfo.environment["FOD_LOG_FORMAT"] ?? "json"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel.lowercased()) else {
            throw ValidationError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        switch logFormat {
        case "json": LoggingSystem.bootstrap { label in JSONLinesLogHandler(label: label) }
        case "text": LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
        default: throw ValidationError("--log-format must be json or text")
        }
        var logger = Logger(label: "fod")
        logger.logLevel = level
        try await CLIError.run {
            let isDevKey = (key as NSString).lastPathComponent.hasPrefix("dev-")
            if isDevKey && !dev {
                throw StoreError(.invalid, "\(key) is a development key; start with --dev, or give a real key with --key")
            }
            if isDevKey, let mode = try? FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? Int, mode & 0o077 != 0 {
                // git does not keep file modes; the development keys are public anyway, so in --dev
                // mode fod tightens them instead of refusing to start. Real keys are never touched.
                try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key)
                FileHandle.standardError.write(Data("note: set \(key) to mode 0600 (development key)\n".utf8))
            }
            try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let database = try FoDDatabase(path: (data as NSString).appendingPathComponent("fod.sqlite"))
            let clock = SystemClock()
            let signing = try KeyFile.readPrivateKey(at: key)
            let folder = fixtures as NSString
            // Only a new database is seeded: a start never changes data (fod import does, on purpose).
            if database.isNew, FileManager.default.fileExists(atPath: folder.appendingPathComponent("catalog.json")) {
                try database.importFixtures(dealers: try CLIInput.readFile(folder.appendingPathComponent("dealers.json")),
                                            vehicles: try CLIInput.readFile(folder.appendingPathComponent("vehicles.json")),
                                            catalog: try CLIInput.readFile(folder.appendingPathComponent("catalog.json")),
                                            actor: "system", at: clock.unixSeconds())
            }
            let metrics = ServiceMetrics()
            let services = try FoDServices(database: database, issuer: Issuer(key: signing, issuer: try IssuerID(issuer), clock: clock),
                                       publishedKeys: KeySet(publicKeys: [signing.publicKey]), catalog: try database.catalog(),
                                       rules: try RuleSet(json: try CLIInput.readFile(rules)), clock: clock, metrics: metrics)
            var banner = dev ? "fod serve — DEVELOPMENT MODE (development keys allowed; never use them in production)\n" : "fod serve\n"
            if database.isNew {
                let admin = try database.createAPIKey(role: .admin, dealer: nil, label: "bootstrap admin", actor: "system", at: clock.unixSeconds())
                banner += "bootstrap admin key (shown once, stored only as a hash):\n  \(admin.secret)\n"
                if dev {
                    let dealer = try database.createAPIKey(role: .dealer, dealer: try DealerID("DE-10001"), label: "demo dealer DE-10001",
                                                           actor: "system", at: clock.unixSeconds())
                    banner += "demo dealer key for DE-10001 (shown once):\n  \(dealer.secret)\n"
                }
            }
            if !database.isNew, try !database.listAPIKeys().contains(where: { $0.role == .admin && $0.revokedAt == nil }) {
                banner += "no active admin key: create one with fod apikey create --role admin --data \(data)\n"
            }
            banner += "dealer page: http://\(host):\(port)/dealer (sign in with a dealer key)\n"
            banner += "listening on http://\(host):\(port) — try: curl -H 'Authorization: Bearer <key>' http://\(host):\(port)/v1/vehicles/WAUZZZF45RA000001/offers\n"
            FileHandle.standardError.write(Data(banner.utf8))
            try await buildApplication(services: services, host: host, port: port, secureCookies: secureCookies, logger: logger).runService()
        }
    }
}
