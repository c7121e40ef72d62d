import FoDCore
import ArgumentParser
import FoDCrypto
import FoDEntitlements
import FoDInvoicing
import FoDRevenue
import FoDServer
import FoDStore
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle

/// `fod serve`.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the entitlement service (HTTP API) on an embedded SQLite database, or on PostgreSQL.",
        discussion: """
        With no options it runs the demo (development mode): data in ./data, the
        development keys from keys/, on 127.0.0.1:8080. A new database gets the
        catalog, vehicles and dealers from fixtures/ and an admin key and a dealer
        key (printed once); later starts change no data (fod import reloads the
        fixtures). A start that names its own --key, --trust, --data or --database
        is production unless --dev: development keys are refused and no demo
        data is loaded; the new database's admin key is written to a 0600 file.
        An existing database file that is empty or not SQLite stops the start.
        With --database postgres://… several instances share one database
        (docs/operations.md: behind a load balancer).
        Options also come from the environment: FOD_DATA, FOD_DATABASE_URL, FOD_HOST, FOD_PORT,
        FOD_KEY, FOD_TRUST, FOD_ISSUER, FOD_DEV=0|1, FOD_SECURE_COOKIES=1, FOD_LOG_LEVEL, FOD_LOG_FORMAT.
        """
    )

    @OptionGroup var storeOptions: StoreOptions
    @Option(help: "PostgreSQL connections per instance. Env FOD_DATABASE_CONNECTIONS.")
    var databaseConnections: Int = Int(ProcessInfo.processInfo.environment["FOD_DATABASE_CONNECTIONS"] ?? "") ?? 16
    @Option(help: "Listen address. Env FOD_HOST.")
    var host: String = ProcessInfo.processInfo.environment["FOD_HOST"] ?? "127.0.0.1"
    @Option(help: "Listen port. Env FOD_PORT.")
    var port: Int = Int(ProcessInfo.processInfo.environment["FOD_PORT"] ?? "") ?? 8080
    @OptionGroup var signingOptions: SigningOptions
    @Option(help: "Folder with catalog.json, vehicles.json, dealers.json loaded into a new database (fod import loads them later).")
    var fixtures: String = "fixtures"
    @Option(help: "Revenue-share rules for the statements endpoint. Env FOD_RULES.")
    var rules: String = ProcessInfo.processInfo.environment["FOD_RULES"] ?? "fixtures/revenue/rules.json"
    @Flag(name: .customLong("webhooks-allow-private"),
          help: "Allow webhook URLs with http:// and loopback, private or link-local addresses (tests, a receiver on this host). Env FOD_WEBHOOKS_ALLOW_PRIVATE=1.")
    var webhooksAllowPrivate = ProcessInfo.processInfo.environment["FOD_WEBHOOKS_ALLOW_PRIVATE"] == "1"
    @Option(name: .customLong("webhook-timeout"), help: "Seconds each webhook delivery may take before it is cut off (1 to 60).")
    var webhookTimeout: Int = 10
    @Option(name: .customLong("webhook-retry-base-ms"),
            help: "The first retry's delay in milliseconds; each next one doubles (±20 % jitter) up to 6 hours, retried for 72 hours.")
    var webhookRetryBaseMs: Int = 2000
    @Option(name: .customLong("issuer-profile"),
            help: "The OEM's data on its credit notes (JSON; needed to close periods). Env FOD_ISSUER_PROFILE. Missing at the default path: periods cannot be closed.")
    var issuerProfile: String = ProcessInfo.processInfo.environment["FOD_ISSUER_PROFILE"] ?? "fixtures/revenue/issuer.json"
    @Option(name: .customLong("adjustment-limit"), help: "The largest objection adjustment finance may book, in whole units of its currency (1 to 1000000000). Env FOD_ADJUSTMENT_LIMIT.")
    var adjustmentLimit: Int64 = Int64(ProcessInfo.processInfo.environment["FOD_ADJUSTMENT_LIMIT"] ?? "") ?? 1_000_000

    @Flag(name: .customLong("four-eyes-only"), help: "Refuse through the API what takes four eyes in the back office: a commission plan version, an objection adjustment above --four-eyes-adjustment (403 four_eyes_required). Env FOD_FOUR_EYES_ONLY=1.")
    var fourEyesOnly = ProcessInfo.processInfo.environment["FOD_FOUR_EYES_ONLY"] == "1"

    @Option(name: .customLong("four-eyes-adjustment"), help: "An objection adjustment above this many whole units, booked in the back office, takes a second person's approval (0 to the adjustment limit; default 10000 or the limit). Env FOD_FOUR_EYES_ADJUSTMENT.")
    var fourEyesAdjustment: Int64? = Int64(ProcessInfo.processInfo.environment["FOD_FOUR_EYES_ADJUSTMENT"] ?? "")
    @Option(name: .customLong("first-period"), help: "The first month to close, YYYY-MM (default: the month of the first recorded sale). Env FOD_FIRST_PERIOD.")
    var firstPeriod: String? = ProcessInfo.processInfo.environment["FOD_FIRST_PERIOD"]

    @Flag(help: "Mark the dealer page's cookies Secure on every request (behind a TLS proxy that does not send X-Forwarded-Proto). Env FOD_SECURE_COOKIES=1.")
    var secureCookies: Bool = ProcessInfo.processInfo.environment["FOD_SECURE_COOKIES"] == "1"

    @Option(help: "Log level: trace, debug, info (one line per request), notice, warning, error, critical. Env FOD_LOG_LEVEL.")
    var logLevel: String = ProcessInfo.processInfo.environment["FOD_LOG_LEVEL"] ?? "info"

    @Option(help: "Seconds a connection may send nothing (idle keep-alive, an unfinished request head or body) before it is closed. Env FOD_IDLE_TIMEOUT.")
    var idleTimeout: Double = Double(ProcessInfo.processInfo.environment["FOD_IDLE_TIMEOUT"] ?? "") ?? 30

    @Option(help: "Connections served at once (at most the open-file limit less 64); more wait to be accepted. Env FOD_MAX_CONNECTIONS.")
    var maxConnections: Int = Int(ProcessInfo.processInfo.environment["FOD_MAX_CONNECTIONS"] ?? "") ?? 1000

    @Option(help: "Seconds between SIGTERM and closing the listener: /readyz fails, requests are still served. Env FOD_SHUTDOWN_DELAY.")
    var shutdownDelay: Double = Double(ProcessInfo.processInfo.environment["FOD_SHUTDOWN_DELAY"] ?? "") ?? 2

    @Option(help: "Days a signed manifest is valid (its exp), 1 to 90. Env FOD_MANIFEST_LIFETIME_DAYS.")
    var manifestLifetimeDays: Int = Int(ProcessInfo.processInfo.environment["FOD_MANIFEST_LIFETIME_DAYS"] ?? "") ?? 7

    @Option(name: .customLong("quote-validity-days"), help: "Days a quote's prices hold when it names no expires_at (1 to the longest). Env FOD_QUOTE_VALIDITY_DAYS.")
    var quoteValidityDays: Int = Int(ProcessInfo.processInfo.environment["FOD_QUOTE_VALIDITY_DAYS"] ?? "") ?? 14
    @Option(name: .customLong("quote-max-validity-days"), help: "The longest validity a quote may ask for, in days (1 to 365). Env FOD_QUOTE_MAX_VALIDITY_DAYS.")
    var quoteMaxValidityDays: Int = Int(ProcessInfo.processInfo.environment["FOD_QUOTE_MAX_VALIDITY_DAYS"] ?? "") ?? 90
    @Option(help: """
        Who is credited when a quote is accepted: reasons in order, the first that names an open site wins — counter (the accepting \
        site), preferred (the customer's choice), quoted (the site that made it), servicing (must be included). Env FOD_ATTRIBUTION.
        """)
    var attribution: String = ProcessInfo.processInfo.environment["FOD_ATTRIBUTION"] ?? AttributionRule.standard.description
    @Option(name: .customLong("public-url"), help: "The service's address as devices reach it, for the link in a quote's QR code (e.g. https://fod.example.com). Env FOD_PUBLIC_URL.")
    var publicURL: String? = ProcessInfo.processInfo.environment["FOD_PUBLIC_URL"]

    @Option(name: .customLong("oidc-issuer"), help: "The back office's identity provider (OpenID Connect issuer URL; https, or http on loopback). Without it, people sign in to /admin with an API key of a staff role. Env FOD_OIDC_ISSUER.")
    var oidcIssuer: String? = ProcessInfo.processInfo.environment["FOD_OIDC_ISSUER"]
    @Option(name: .customLong("oidc-client-id"), help: "fod's client id at the identity provider. Env FOD_OIDC_CLIENT_ID.")
    var oidcClientID: String? = ProcessInfo.processInfo.environment["FOD_OIDC_CLIENT_ID"]
    @Option(name: .customLong("oidc-client-secret-file"), help: "A file (mode 0600) whose first line is fod's client secret. Env FOD_OIDC_CLIENT_SECRET_FILE.")
    var oidcClientSecretFile: String? = ProcessInfo.processInfo.environment["FOD_OIDC_CLIENT_SECRET_FILE"]
    @Option(name: .customLong("oidc-roles-claim"), help: "The ID token claim whose values name fod roles (a value admin, issuer, auditor, network, product or finance grants it). Env FOD_OIDC_ROLES_CLAIM.")
    var oidcRolesClaim: String = ProcessInfo.processInfo.environment["FOD_OIDC_ROLES_CLAIM"] ?? "groups"

    @Option(help: "The withdrawal period of a market in days, MARKET=DAYS (0 to 365; *=DAYS for every market not named); repeatable. Default 14 days everywhere. Env FOD_WITHDRAWAL_DAYS (comma-separated).")
    var withdrawalDays: [String] = (ProcessInfo.processInfo.environment["FOD_WITHDRAWAL_DAYS"] ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }

    @Option(help: "Renew subscriptions ending within this many days (1 to 28), checked every 5 minutes; 0 turns renewals off (run fod renew instead; changes of owner recorded ahead still take effect). Env FOD_RENEWAL_LEAD_DAYS.")
    var renewalLeadDays: Int = Int(ProcessInfo.processInfo.environment["FOD_RENEWAL_LEAD_DAYS"] ?? "") ?? 3

    @Option(help: "Free trials a vehicle may have of one feature, ever (0 to 10; 0: no trials). Env FOD_TRIALS_PER_FEATURE.")
    var trialsPerFeature: Int = Int(ProcessInfo.processInfo.environment["FOD_TRIALS_PER_FEATURE"] ?? "") ?? 1

    @Option(help: "Log format: json (one object per line) or text. Env FOD_LOG_FORMAT.")
    var logFormat: String = ProcessInfo.processInfo.environment["FOD_LOG_FORMAT"] ?? "json"

    /// Raises the soft open-file limit to the hard one (each connection is a descriptor); returns it.
    static func raiseOpenFileLimit() -> Int {
        #if os(Linux)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        var limit = rlimit()
        guard getrlimit(resource, &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = Swift.min(limit.rlim_max, rlim_t(1 << 20))
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        let current: rlim_t = limit.rlim_cur
        return current > rlim_t(Int32.max) ? Int(Int32.max) : Int(current)
    }

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel.lowercased()) else {
            throw ValidationError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        switch logFormat {
        case "json": LoggingSystem.bootstrap { label in JSONLinesLogHandler(label: label) }
        case "text": LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
        default: throw ValidationError("--log-format must be json or text")
        }
        guard (0...10).contains(trialsPerFeature) else { throw ValidationError("--trials-per-feature must be 0 to 10") }
        guard (0...28).contains(renewalLeadDays) else { throw ValidationError("--renewal-lead-days must be 0 (off) to 28") }
        guard (1...60).contains(webhookTimeout) else { throw ValidationError("--webhook-timeout must be 1 to 60 seconds") }
        guard (10...600_000).contains(webhookRetryBaseMs) else { throw ValidationError("--webhook-retry-base-ms must be 10 to 600000") }
        guard (1...90).contains(manifestLifetimeDays) else {
            throw ValidationError("--manifest-lifetime-days must be 1 to 90 (a vehicle must fetch a new manifest before it ends)")
        }
        let withdrawal: WithdrawalPolicy
        do { withdrawal = try WithdrawalPolicy.parse(withdrawalDays) } catch let error as WithdrawalPolicyError {
            throw ValidationError(error.description)
        } catch {
            throw ValidationError("--withdrawal-days: \((error as? any CodedError)?.reason ?? "\(error)")")
        }
        var logger = Logger(label: "fod")
        logger.logLevel = level
        let adjustments: AdjustmentPolicy
        do { adjustments = try AdjustmentPolicy(limit: adjustmentLimit, fourEyesAbove: fourEyesAdjustment ?? min(10_000, adjustmentLimit)) } catch let error as APIError { throw ValidationError("--adjustment-limit / --four-eyes-adjustment: \(error.detail)") }
        if let firstPeriod, (try? ReportPeriod(firstPeriod)) == nil { throw ValidationError("--first-period is a month, YYYY-MM") }
        let dev = signingOptions.isDevelopment(storeOptions)
        let trust = signingOptions.trust
        try await CLIError.run {
            let clock = SystemClock()
            let signing = try signingOptions.signingKeys(development: dev, clock: clock)
            guard (1...500).contains(databaseConnections) else { throw ValidationError("--database-connections must be 1 to 500") }
            let opened = try await storeOptions.open(connections: databaseConnections, quiet: false)
            defer { opened.close() }
            let database = opened.store
            let folder = fixtures as NSString
            // Only a new database is seeded, and only in development mode: a start never changes
            // data (fod import does, on purpose), and production never gets the demo data.
            if opened.isNew, dev, FileManager.default.fileExists(atPath: folder.appendingPathComponent("catalog.json")) {
                try await database.importFixtures(dealers: try CLIInput.readFile(folder.appendingPathComponent("dealers.json")),
                                            vehicles: try CLIInput.readFile(folder.appendingPathComponent("vehicles.json")),
                                            catalog: try CLIInput.readFile(folder.appendingPathComponent("catalog.json")),
                                            actor: "system", at: clock.unixSeconds())
            }
            let metrics = ServiceMetrics()
            // A new production database has no catalog until the OEM's is loaded (fod import, then a
            // restart): the service runs meanwhile and offers nothing.
            let catalog = try await opened.catalog()
            let noCatalog = catalog.features.isEmpty
            let services = try await FoDServices(store: database, signing: signing, catalog: catalog,
                                       rules: try RuleSet(json: try CLIInput.readFile(rules)), clock: clock, metrics: metrics,
                                       manifestLifetime: Int64(manifestLifetimeDays) * 86_400, withdrawal: withdrawal,
                                       trialsPerFeature: trialsPerFeature, issuerProfile: try loadIssuerProfile(),
                                       webhooks: WebhookPolicy(timeout: .seconds(webhookTimeout), retryBase: .milliseconds(webhookRetryBaseMs),
                                                               allowPrivate: webhooksAllowPrivate),
                                       adjustments: adjustments, firstPeriod: firstPeriod,
                                       quotes: try QuotePolicy(validityDays: quoteValidityDays, maxValidityDays: quoteMaxValidityDays,
                                                               attribution: try AttributionRule(parsing: attribution),
                                                               publicURL: publicURL ?? "http://\(host):\(port)"),
                                       oidc: try oidcSettings(), fourEyesOnly: fourEyesOnly)
            // The statement signing key is kept, so what it signed verifies after a key change.
            try await PeriodCloseService.keepSigningKey(services)
            var banner = dev ? "fod serve — DEVELOPMENT MODE (development keys allowed; never use them in production)\n" : "fod serve\n"
            banner += "database: \(database.location)\n"
            if noCatalog { banner += "no catalog is loaded: load the OEM's master data with fod import --fixtures DIR, then restart\n" }
            let longest = ([withdrawal.defaultDays] + withdrawal.days.values).max() ?? 14
            if services.rules.clawbackDays < Int64(longest) + 1 {
                banner += "warning: the rules' clawback_days (\(services.rules.clawbackDays)) is shorter than the longest withdrawal period plus one (\(longest + 1)): a withdrawal on the period's last day would not claw the commission back\n"
            }
            if let version = signing.rootVersion { banner += "trust: root version \(version) from \(trust ?? "")\n" }
            if opened.isNew {
                let admin = try await database.createAPIKey(role: .admin, dealer: nil, label: "bootstrap admin", actor: "system", at: clock.unixSeconds())
                banner += try ServeCommand.handOver(admin.secret, development: dev, folder: storeOptions.data)
                if dev {
                    let dealer = try await database.createAPIKey(role: .dealer, dealer: try DealerID("DE-10001"), label: "demo dealer DE-10001",
                                                           actor: "system", at: clock.unixSeconds())
                    banner += "demo dealer key for DE-10001 (shown once):\n  \(dealer.secret)\n"
                }
            }
            if !opened.isNew, try await !database.listAPIKeys().contains(where: { $0.role == .admin && $0.revokedAt == nil }) {
                banner += "no active admin key: create one with fod apikey create --role admin \(storeOptions.databaseURL == nil ? "--data \(storeOptions.data)" : "--database URL")\n"
            }
            banner += "dealer page: http://\(host):\(port)/dealer (sign in with a dealer key)\n"
            banner += "listening on http://\(host):\(port) — try: curl -H 'Authorization: Bearer <key>' http://\(host):\(port)/v1/vehicles/WAUZZZF45RA000001/offers\n"
            FileHandle.standardError.write(Data(banner.utf8))
            guard idleTimeout > 0, idleTimeout <= 3600 else { throw ValidationError("--idle-timeout must be 0 to 3600 seconds") }
            guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1") }
            let connections = min(maxConnections, ServeCommand.raiseOpenFileLimit() - 64)
            if connections < maxConnections {
                FileHandle.standardError.write(Data("note: serving at most \(connections) connections at once (open-file limit)\n".utf8))
            }
            guard (0...600).contains(shutdownDelay) else { throw ValidationError("--shutdown-delay must be 0 to 600 seconds") }
            let watchLogger = logger
            let watcher = trust.map { folder in
                Task { [watchLogger] in
                    // New root versions put in the folder are taken without a restart; a version that
                    // does not verify is reported once and the keys stay as they were.
                    // What a retired key signed is re-issued at the start and after each new version.
                    var reported = "", reissueDue = true
                    while !Task.isCancelled {
                        do {
                            if try signing.update(with: try CLIInput.roots(in: folder)) {
                                watchLogger.notice("root metadata taken", metadata: ["version": "\(signing.rootVersion ?? 0)"])
                                reissueDue = true
                            }
                            if reissueDue {
                                // Each version taken is recorded once (a keys.rotated event), by whichever instance is first.
                                if let record = signing.rootRecord, try await services.store.recordRootVersion(record, at: clock.unixSeconds()) {
                                    watchLogger.notice("root version recorded", metadata: ["version": "\(record.version)"])
                                }
                                let count = try await ReissueService(services: services).reissueRetired()
                                if count > 0 { watchLogger.notice("entitlements re-issued with the active key", metadata: ["count": "\(count)"]) }
                                reissueDue = false
                            }
                            reported = ""
                        } catch {
                            let message = CLIError.describe(error) ?? "\(error)"
                            if message != reported { watchLogger.error("root metadata not taken", metadata: ["reason": .string(message)]) }
                            reported = message
                        }
                        try? await Task.sleep(for: .seconds(5))
                    }
                }
            }
            defer { watcher?.cancel() }
            // Subscriptions are renewed before they end, every 5 minutes; each period is booked
            // once however many instances run this (RenewalService).
            // With --renewal-lead-days 0 the job only makes changes of owner recorded ahead take effect.
            var renewals: [any Service] = [RenewalJob(services: services, lead: Int64(renewalLeadDays) * 86_400, logger: logger)]
            // The outbox's events go to the subscribed endpoints (WebhookDeliveryJob).
            renewals.append(WebhookDeliveryJob(services: services, policy: services.webhooks, logger: logger))
            // Quotes whose validity ran out are marked expired (a quote.expired event each) every minute.
            renewals.append(QuoteSweepJob(services: services, logger: logger))
            let app = try buildApplication(services: services, host: host, port: port, secureCookies: secureCookies,
                                           idleTimeout: .milliseconds(Int64(idleTimeout * 1000)), maxConnections: max(1, connections),
                                           logger: logger)
            try await runServer(app, services: services, drainDelay: .milliseconds(Int64(shutdownDelay * 1000)), logger: logger,
                                store: opened.postgres, background: renewals)
        }
    }
}

extension ServeCommand {
    /// Hands the new database's bootstrap admin key over once, without putting it in a log: in
    /// development mode, or when standard error is a terminal, it is printed; otherwise (a
    /// container, a service manager: standard error is the log stream) it is written to
    /// `bootstrap-admin.key` (mode 0600) in the data folder and the banner says where.
    static func handOver(_ secret: String, development: Bool, folder: String) throws -> String {
        if development || isatty(STDERR_FILENO) == 1 {
            return "bootstrap admin key (shown once, stored only as a hash):\n  \(secret)\n"
        }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = (folder as NSString).appendingPathComponent("bootstrap-admin.key")
        guard FileManager.default.createFile(atPath: path, contents: Data((secret + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw StoreError(.invalid, "cannot write the bootstrap admin key to \(path)")
        }
        return "bootstrap admin key written to \(path) (mode 0600; read it once, then delete the file)\n"
    }

    /// The issuer profile: required when given explicitly, optional at its default path.
    func loadIssuerProfile() throws -> IssuerProfile? {
        let explicit = ProcessInfo.processInfo.environment["FOD_ISSUER_PROFILE"] != nil || CommandLine.arguments.contains("--issuer-profile")
        guard explicit || FileManager.default.fileExists(atPath: issuerProfile) else { return nil }
        return try IssuerProfile(json: Array(try CLIInput.readFile(issuerProfile).utf8))
    }

    /// The back office's identity provider from `--oidc-*`: all of issuer, client id and secret
    /// file, or none; the secret file must not be readable by others.
    func oidcSettings() throws -> OIDCSettings? {
        let given = [oidcIssuer, oidcClientID, oidcClientSecretFile].compactMap { $0 }.filter { !$0.isEmpty }
        guard !given.isEmpty else { return nil }
        guard let issuer = oidcIssuer, let client = oidcClientID, let file = oidcClientSecretFile, given.count == 3 else {
            throw ValidationError("--oidc-issuer, --oidc-client-id and --oidc-client-secret-file go together")
        }
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        if let mode = attributes[.posixPermissions] as? Int, mode & 0o077 != 0 {
            throw ValidationError("\(file) is readable by others (mode \(String(mode, radix: 8))): chmod 600 it")
        }
        let secret = try String(contentsOfFile: file, encoding: .utf8).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return try OIDCSettings(issuer: issuer, clientID: client, clientSecret: secret, rolesClaim: oidcRolesClaim,
                                publicURL: publicURL ?? "http://\(host):\(port)")
    }
}