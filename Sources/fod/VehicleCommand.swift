import ArgumentParser
import AsyncHTTPClient
import FoDAPI
import FoDCore
import FoDEntitlements
import FoDVehicle
import Foundation

/// `fod vehicle`: a reference car on the command line, on the vehicle library (`FoDVehicle`, the
/// code behind libfodvehicle's C interface): it keeps its state in a file, syncs with a service,
/// answers whether a feature is enabled, and plays a fleet for load tests.
struct VehicleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vehicle",
        abstract: "A reference car: init, sync with a service, check a feature, apply a token, simulate a fleet.",
        discussion: """
        The car keeps its state in --state FILE (rewritten atomically) and, beside it,
        FILE.factory: its VIN, market, offline grace, production time and pinned root,
        from which it starts again when the state is damaged (docs/vehicle-sdk.md).
        The manifest is fetched with an issuer key from FOD_VEHICLE_KEY or --key-file.
        """,
        subcommands: [Init.self, Sync.self, Check.self, Apply.self, Show.self, VehicleSimulateCommand.self]
    )

    /// `fod vehicle init`.
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a car: pin its root and write its state.")
        @Option(help: "The VIN (17 characters).") var vin: String
        @Option(help: "The pinned root metadata (root-1.json from the factory).") var root: String
        @Option(help: "The state file.") var state: String
        @Option(help: "The car's market (ISO 3166-1 alpha-2): only keys covering it are trusted.") var market: String?
        @Option(name: .customLong("offline-grace"), help: "Seconds after the last attested time that time-limited entitlements stay enabled.")
        var offlineGrace: Int64 = 7 * 86_400
        @Option(name: .customLong("production-time"), help: "Unix seconds the car's time starts from until its first attestation (default: the pinned root's iat).")
        var productionTime: Int64?

        func run() async throws {
            try await CLIError.run {
                let document = try String(contentsOfFile: root, encoding: .utf8)
                let signed = try SignedRoot(json: document)
                let files = VehicleFiles(state: state)
                let car = try files.create(.init(vin: try VIN(strict: vin).value, market: try market.map { try Market($0).code },
                                                 offlineGrace: offlineGrace, productionTime: productionTime ?? signed.metadata.issuedAt,
                                                 root: document))
                print("car \(car.snapshot.vin) pinned root version \(signed.metadata.version); state in \(state)")
            }
        }
    }

    /// `fod vehicle sync`.
    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sync with a service: newer roots, attested time for a fresh nonce, the manifest; print what is enabled.",
            discussion: "Exit 0 when everything offered was taken, 1 when the car refused something (the codes are printed), 3 when the service could not be reached or refused.")
        @Option(help: "The service's URL.") var server: String
        @Option(help: "The state file.") var state: String
        @Option(name: .customLong("key-file"), help: "A file whose first line is an issuer key (else FOD_VEHICLE_KEY).") var keyFile: String?
        @Flag(help: "Print the car's state as JSON instead of lines.") var json = false
        @Flag(name: .customLong("no-report"), help: "Do not report what the car has to the service (POST /v1/vehicles/{vin}/state).")
        var noReport = false

        func run() async throws {
            let files = VehicleFiles(state: state)
            let (car, recovered) = try await CLIError.run { try files.loadOrRecover() }
            if let recovered {
                CLIError.printWarning("\(recovered.codeName): \(recovered.reason); starting again from the pinned root (version \(car.snapshot.pinnedVersion))")
                try await CLIError.run { try files.save(car) }
            }
            let client = VehicleClient(http: HTTPClient.shared, server: try await CLIError.run { try VehicleCommand.url(server) },
                                       key: try await CLIError.run { try VehicleClient.key(file: keyFile) })
            let report: VehicleSync.Report
            do {
                report = try await VehicleSync.run(car, client: client, report: !noReport, persist: files.save)
            } catch let error as CommandError {
                CLIError.printError(error.description)
                throw ExitCode(3)
            }
            for refusal in report.refusals {
                CLIError.printError("\(refusal.step) refused: \(refusal.code): \(refusal.reason)")
            }
            if json {
                print(String(decoding: car.descriptionJSON(at: VehicleFiles.monotonic()), as: UTF8.self))
            } else {
                let taken = (report.roots.isEmpty ? [] : ["roots \(report.roots.map(String.init).joined(separator: ", "))"])
                    + (report.time.map { ["time \($0)"] } ?? []) + (report.manifest.map { ["manifest \($0)"] } ?? [])
                print("took: \(taken.isEmpty ? "nothing new" : taken.joined(separator: "; "))")
                VehicleCommand.printSummary(car)
                if let comparison = report.comparison {
                    if comparison.inSync {
                        print("service: in sync")
                    } else {
                        let parts = (comparison.missing.isEmpty ? [] : ["missing \(comparison.missing.map(\.value).joined(separator: ", "))"])
                            + (comparison.unexpected.isEmpty ? [] : ["unexpected \(comparison.unexpected.map(\.value).joined(separator: ", "))"])
                            + (comparison.manifestBehind ? ["manifest \(comparison.manifestVersion.map(String.init) ?? "none") behind \(comparison.currentManifestVersion.map(String.init) ?? "none")"] : [])
                        print("service: not in sync: \(parts.joined(separator: "; "))")
                    }
                }
            }
            if !report.refusals.isEmpty { throw ExitCode(1) }
        }
    }

    /// `fod vehicle check`.
    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Is a feature enabled now? Exit 0 enabled, 1 not (with the reason code), 2 on bad input.")
        @Argument(help: "The feature code, such as MATRIX_LED.") var feature: String
        @Option(help: "The state file.") var state: String

        func run() async throws {
            let code = try await CLIError.run { try FeatureCode(feature) }
            let car: OnboardVehicle
            do {
                car = try VehicleFiles(state: state).load()
            } catch let error as VehicleError {
                // A damaged state enables nothing until the car has synced again.
                print("\(feature): not enabled: \(error.codeName)")
                CLIError.printError("\(error.description) (fod vehicle sync starts again from the pinned root)")
                throw ExitCode(1)
            } catch let error as CommandError {
                CLIError.printError(error.description)
                throw ExitCode(CLIError.badInput)
            }
            let decision = car.check(code, at: VehicleFiles.monotonic())
            if decision.enabled {
                print("\(feature): enabled (\(decision.entitlement.map { "\($0.entry.term), entitlement \($0.entry.id)" } ?? ""))")
            } else {
                print("\(feature): not enabled: \(decision.code)")
                throw ExitCode(1)
            }
        }
    }

    /// `fod vehicle apply`.
    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Apply a root, a manifest or an entitlement token from a file (received offline). Exit 0 taken, 1 refused (with the code).")
        @Option(help: "The state file.") var state: String
        @Option(help: "A root metadata document.") var root: String?
        @Option(help: "A manifest (compact JWS).") var manifest: String?
        @Option(help: "An entitlement token (compact JWS).") var entitlement: String?

        func run() async throws {
            let given = [root, manifest, entitlement].compactMap { $0 }
            guard given.count == 1, let path = given.first else {
                CLIError.printError("give exactly one of --root, --manifest, --entitlement")
                throw ExitCode(CLIError.badInput)
            }
            let files = VehicleFiles(state: state)
            let (car, text) = try await CLIError.run {
                (try files.load(), try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
            }
            do {
                let now = VehicleFiles.monotonic()
                if root != nil { try car.applyRoot(text) } else if manifest != nil { try car.applyManifest(text, at: now) } else {
                    try car.applyEntitlement(text, at: now)
                }
            } catch let error as EntitlementError {
                print("refused: \(error.codeName)")
                CLIError.printError(error.description)
                throw ExitCode(1)
            }
            try await CLIError.run { try files.save(car) }
            print("taken")
        }
    }

    /// `fod vehicle show`.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the car's state as JSON.")
        @Option(help: "The state file.") var state: String

        func run() async throws {
            let car = try await CLIError.run { try VehicleFiles(state: state).load() }
            print(String(decoding: car.descriptionJSON(at: VehicleFiles.monotonic()), as: UTF8.self))
        }
    }

    /// The server option as an http(s) URL.
    static func url(_ text: String) throws -> URL {
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw EntitlementError(.requestInvalid, "--server must be an http(s) URL, not \"\(text.prefix(200))\"")
        }
        return url
    }

    /// Lines for people: trust, time, and each feature with whether it is enabled.
    static func printSummary(_ car: OnboardVehicle) {
        let now = VehicleFiles.monotonic()
        let state = car.snapshot
        print("root \(state.trust.root.version) (pinned \(state.pinnedVersion)); manifest \(state.manifest.map { String($0.version) } ?? "none"); time \(state.clock.estimate(at: now)) (\(state.clock.secondsSinceAttestation(at: now)) s since attested)")
        let features = Set(state.held.map(\.entry.feature)).sorted { $0.value < $1.value }
        for feature in features {
            let decision = car.check(feature, at: now)
            print("  \(feature): \(decision.enabled ? "enabled" : "not enabled: \(decision.code)")")
        }
        if features.isEmpty { print("  no entitlements held") }
    }
}
