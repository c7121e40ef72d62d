import ArgumentParser
import FoDAPI
import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDRevenue
import Foundation

/// `fod dealer`: the point-of-sale flow of the dealer web page, on the command line, against a
/// running `fod serve`.
struct DealerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dealer",
        abstract: "Look vehicles up and activate features as a dealer, against a running fod server.",
        discussion: """
        The key comes from FOD_DEALER_KEY, else from `fod dealer login` (saved in
        $XDG_CONFIG_HOME/fod/dealer.json, mode 0600), else a prompt that does not echo.
        It is never a command-line flag, so it does not land in shell history.
        The server comes from --server, FOD_SERVER, the saved login, or http://127.0.0.1:8080.

        Every activation sends an Idempotency-Key (a new random one, or --idempotency-key):
        a retry after a network error cannot book twice.

        Exit codes: 0 success, 1 the server refused (its code on stderr),
        2 bad input, 3 the server could not be reached, 64 wrong usage.
        """,
        subcommands: [Login.self, Logout.self, Lookup.self, Offers.self, Activate.self, Withdraw.self, Expiring.self, Activations.self]
    )

    /// Options every dealer subcommand shares.
    struct Connection: ParsableArguments {
        @Option(help: "The fod server, e.g. http://127.0.0.1:8080. Env FOD_SERVER.")
        var server: String?
        @Flag(help: "Print the server's JSON instead of text.")
        var json = false

        func client() throws -> DealerClient {
            let credentials = try DealerCredentials.resolve(server: server)
            return DealerClient(server: credentials.server, key: credentials.key)
        }
    }

    struct Login: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check a dealer key with the server and remember it for the next commands.")
        @OptionGroup var connection: Connection

        func run() async throws {
            try await DealerCommand.run {
                let server = try DealerCredentials.server(connection.server)
                let key: String
                if let fromEnvironment = ProcessInfo.processInfo.environment["FOD_DEALER_KEY"], !fromEnvironment.isEmpty {
                    key = fromEnvironment
                } else if let asked = DealerCredentials.askForKey() {
                    key = asked
                } else {
                    throw CommandError(.notSignedIn, "no key: set FOD_DEALER_KEY or run this on a terminal")
                }
                let answer = try await DealerClient(server: server, key: key).get("/v1/me", as: MeResponse.self)
                let me = answer.body
                guard me.role == "dealer", let dealer = me.dealer else {
                    throw CommandError(.notDealerKey, "this key is a \(me.role) key; fod dealer needs a dealer key")
                }
                try DealerCredentials(server: server, key: key).save()
                print(connection.json ? String(decoding: answer.bytes, as: UTF8.self)
                                      : "Signed in as \(dealer.name ?? "") (\(dealer.id))\(me.partner.map { ", partner \($0.name ?? $0.id) (\($0.id))" } ?? "")\(me.salesperson.map { ", salesperson \($0)" } ?? "") at \(server.absoluteString).")
            }
        }
    }

    struct Logout: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Forget the saved dealer key.")
        func run() async throws {
            try? FileManager.default.removeItem(at: DealerCredentials.file)
            print("Signed out.")
        }
    }

    struct Lookup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a vehicle and its entitlements.")

        /// `--json`: the vehicle and its entitlements.
        struct Output: Encodable {
            let vehicle: VehicleBody
            let entitlements: [EntitlementBody]
        }

        @Argument(help: "The VIN.") var vin: String
        @OptionGroup var connection: Connection

        func run() async throws {
            try await DealerCommand.run {
                let vin = try VIN(vin.uppercased())
                let client = try connection.client()
                let vehicle = try await client.get("/v1/vehicles/\(vin)", as: VehicleBody.self).body
                let entitlements = try await client.get("/v1/vehicles/\(vin)/entitlements", as: EntitlementList.self).body
                if connection.json {
                    print(try DealerCommand.json(Lookup.Output(vehicle: vehicle, entitlements: entitlements.entitlements)))
                    return
                }
                print("\(vin)  \(vehicle.model) \(vehicle.modelYear)  market \(vehicle.market)")
                let active = entitlements.entitlements.filter(\.active)
                print(active.isEmpty ? "Nothing is active." : "Active:")
                for item in active {
                    print("  \(item.feature)  \(item.term)  until \(DealerCommand.date(item.expiresAt))  id \(item.id)")
                }
            }
        }
    }

    struct Offers: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "What can be booked for a vehicle, with gross prices, and why not for the rest.")
        @Argument(help: "The VIN.") var vin: String
        @OptionGroup var connection: Connection

        func run() async throws {
            try await DealerCommand.run {
                let vin = try VIN(vin.uppercased())
                let answer = try await connection.client().get("/v1/vehicles/\(vin)/offers", as: OfferList.self)
                if connection.json { print(String(decoding: answer.bytes, as: UTF8.self)); return }
                for offer in answer.body.offers {
                    let feature = offer.feature.value.padding(toLength: 14, withPad: " ", startingAt: 0)
                    if offer.bookable {
                        let prices = offer.prices.map { "\($0.term) \($0.gross)" }
                        print("\(feature) \(offer.name)\n    \(prices.joined(separator: " · "))")
                    } else if let refusal = offer.refusal {
                        print("\(feature) not bookable: \(refusal.message)")
                    }
                }
            }
        }
    }

    struct Activate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Activate a feature for a vehicle, credited to your dealership.")
        @Argument(help: "The VIN.") var vin: String
        @Argument(help: "The feature code, e.g. NAV_PLUS.") var feature: String
        @Argument(help: "The term: trial, P1M, P6M, P1Y, P3Y, subscription or permanent.") var term: String
        @Option(help: "Repeat an earlier activation's key to retry it safely (default: a new random key).")
        var idempotencyKey: String?
        @Flag(help: "The customer asks for the feature to start now and acknowledges losing the right of withdrawal (recorded as given now).")
        var immediateStart = false
        @Flag(help: "Extend what the vehicle has of the feature: a fixed term from its current end, or permanent from now.")
        var extend = false
        @OptionGroup var connection: Connection

        func run() async throws {
            try await DealerCommand.run {
                let vin = try VIN(vin.uppercased())
                let feature = try FeatureCode(feature)
                let term = try Term(validating: term)
                let key = idempotencyKey ?? "cli-\(UUID().uuidString.lowercased())"
                let consent = immediateStart ? try Consent(termsVersion: nil, immediateStart: true, acknowledgedAt: SystemClock().unixSeconds()) : nil
                let order = ActivationRequest(vin: vin, feature: feature, term: term, consent: consent, extend: extend)
                let answer = try await connection.client().send("POST", "/v1/activations", json: order, as: ActivationResponse.self,
                                                                headers: ["Idempotency-Key": key])
                if connection.json { print(String(decoding: answer.bytes, as: UTF8.self)); return }
                let replayed = answer.headers["idempotent-replayed"] == "true"
                let activation = answer.body
                print("\(replayed ? "Already booked with this key" : "Activated"): \(feature) \(term) on \(vin) for \(activation.price.gross)")
                print("  entitlement \(activation.id)")
                print("  valid from \(DealerCommand.date(activation.notBefore)) until \(DealerCommand.date(activation.expiresAt))")
                print("  idempotency key \(key)")
                print("  token \(activation.token)")
            }
        }
    }

    struct Withdraw: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The customer withdraws from one of your sales within the withdrawal period: refunded, the feature switched off.")
        @Argument(help: "The entitlement id (from fod dealer activate or lookup).") var id: String
        @Option(help: "A note for the audit log (at most 500 characters).") var note: String?
        @OptionGroup var connection: Connection

        func run() async throws {
            try await DealerCommand.run {
                let id = try EntitlementID(id)
                let answer = try await connection.client().send("POST", "/v1/entitlements/\(id.value)/withdraw", json: WithdrawRequest(note: note),
                                                                as: WithdrawResponse.self)
                if connection.json { print(String(decoding: answer.bytes, as: UTF8.self)); return }
                print("Withdrawn: entitlement \(id) is refunded and switched off (its withdrawal period ends \(answer.body.periodEnds)).")
            }
        }
    }

    struct Expiring: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Your sales that end soon and do not go on by themselves (to extend them).")
        @Option(help: "Days ahead, 1 to 366.") var days: Int = 42
        @OptionGroup var connection: Connection

        func run() async throws {
            try await DealerCommand.run {
                let answer = try await connection.client().get("/v1/entitlements?expiring_within=P\(days)D", as: ExpiringList.self)
                if connection.json { print(String(decoding: answer.bytes, as: UTF8.self)); return }
                if answer.body.entitlements.isEmpty { print("Nothing of yours ends within \(days) days.") }
                for entitlement in answer.body.entitlements {
                    print("\(entitlement.vin)  \(entitlement.feature) \(entitlement.term)  ends \(DealerCommand.date(entitlement.expiresAt))  \(entitlement.id)")
                }
            }
        }
    }

    struct Activations: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Your activations of a month and the commission so far.")
        @Option(help: "The month, YYYY-MM (default: this month, UTC).") var period: String?
        @OptionGroup var connection: Connection

        func run() async throws {
            try await DealerCommand.run {
                let month = period ?? ReportPeriod.text(containing: SystemClock().unixSeconds())
                let answer = try await connection.client().get("/v1/activations?period=\(month)", as: ActivationsResponse.self)
                if connection.json { print(String(decoding: answer.bytes, as: UTF8.self)); return }
                if answer.body.lines.isEmpty { print("No activations in \(month).") }
                for line in answer.body.lines {
                    let kind = line.isClawback ? "refund " : ""
                    print("\(line.occurredAt.prefix(10))  \(line.vin)  \(kind)\(line.feature) \(line.term)  \(line.gross) \(line.currency)  commission \(line.share)")
                }
                for statement in answer.body.statements {
                    print("Commission so far in \(month): \(statement.payable) \(statement.currency) (\(statement.activations) activations, \(statement.clawbacks) refunds)")
                }
            }
        }
    }

    /// Runs a dealer command: library errors exit 2, a refusal by the server 1, no server 3.
    static func run(_ body: () async throws -> Void) async throws {
        do { try await body() } catch let error as CommandError {
            CLIError.printError(error.description)
            throw ExitCode(error.code == .serverUnreachable ? 3 : (error.code == .serverRefused ? 1 : 2))
        } catch {
            guard let message = CLIError.describe(error) else { throw error }
            CLIError.printError(message)
            throw ExitCode(CLIError.badInput)
        }
    }

    static func date(_ unixSeconds: Int64) -> String { Instant(unixSeconds: unixSeconds).date }

    static func date(_ unixSeconds: Int64?) -> String {
        guard let unixSeconds else { return "no end date" }
        return Instant(unixSeconds: unixSeconds).date
    }

    /// A model as JSON text (`--json` of a combined answer).
    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try JSONValueEncoder().bytes(value), as: UTF8.self)
    }
}
