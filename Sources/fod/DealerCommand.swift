import ArgumentParser
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
        subcommands: [Login.self, Logout.self, Lookup.self, Offers.self, Activate.self, Activations.self]
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
                let me = try await DealerClient(server: server, key: key).send("GET", "/v1/me").body
                guard me["role"]?.string == "dealer", case .object(let dealer)? = me["dealer"] else {
                    throw CommandError(.notDealerKey, "this key is a \(me["role"]?.string ?? "unknown") key; fod dealer needs a dealer key")
                }
                try DealerCredentials(server: server, key: key).save()
                let name = dealer["name"]?.string ?? ""
                print(connection.json ? JSONWriter.text(.object(me)) : "Signed in as \(name) (\(dealer["id"]?.string ?? "")) at \(server.absoluteString).")
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
        @Argument(help: "The VIN.") var vin: String
        @OptionGroup var connection: Connection

        func run() async throws {
            try await DealerCommand.run {
                let vin = try VIN(vin.uppercased())
                let client = try connection.client()
                let vehicle = try await client.send("GET", "/v1/vehicles/\(vin)").body
                let entitlements = try await client.send("GET", "/v1/vehicles/\(vin)/entitlements").body
                if connection.json {
                    print(JSONWriter.text(.object(JSONObject(members: [.init(name: "vehicle", value: .object(vehicle)),
                                                                       .init(name: "entitlements", value: entitlements["entitlements"] ?? .array([]))]))))
                    return
                }
                print("\(vin)  \(vehicle["model"]?.string ?? "") \(vehicle["model_year"]?.int64.map(String.init) ?? "")  market \(vehicle["market"]?.string ?? "")")
                let list = entitlements["entitlements"]?.elements ?? []
                let active = list.compactMap(\.object).filter { $0["active"] == .bool(true) }
                print(active.isEmpty ? "Nothing is active." : "Active:")
                for item in active {
                    print("  \(item["feature"]?.string ?? "")  \(item["term"]?.string ?? "")  until \(DealerCommand.date(item["expires_at"]?.int64))  id \(item["id"]?.string ?? "")")
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
                let answer = try await connection.client().send("GET", "/v1/vehicles/\(vin)/offers")
                if connection.json { print(String(decoding: answer.bytes, as: UTF8.self)); return }
                for offer in (answer.body["offers"]?.elements ?? []).compactMap(\.object) {
                    let feature = offer["feature"]?.string ?? ""
                    if offer["bookable"] == .bool(true) {
                        let prices = (offer["prices"]?.elements ?? []).compactMap(\.object).map { price in
                            "\(price["term"]?.string ?? "") \(DealerCommand.money(price))"
                        }
                        print("\(feature.padding(toLength: 14, withPad: " ", startingAt: 0)) \(offer["name"]?.string ?? "")\n    \(prices.joined(separator: " · "))")
                    } else if case .object(let refusal)? = offer["refusal"] {
                        print("\(feature.padding(toLength: 14, withPad: " ", startingAt: 0)) not bookable: \(refusal["message"]?.string ?? "")")
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
        @OptionGroup var connection: Connection

        func run() async throws {
            try await DealerCommand.run {
                let vin = try VIN(vin.uppercased())
                let feature = try FeatureCode(feature)
                let term = try Term(validating: term)
                let key = idempotencyKey ?? "cli-\(UUID().uuidString.lowercased())"
                let body = JSONValue.object(JSONObject(members: [.init(name: "vin", value: .string(vin.value)),
                                                                 .init(name: "feature", value: .string(feature.value)),
                                                                 .init(name: "term", value: .string(term.rawValue))]))
                let answer = try await connection.client().send("POST", "/v1/activations", json: body, headers: ["Idempotency-Key": key])
                if connection.json { print(String(decoding: answer.bytes, as: UTF8.self)); return }
                let replayed = answer.headers["idempotent-replayed"] == "true"
                let price = answer.body["price"]?.object.map(DealerCommand.money) ?? ""
                print("\(replayed ? "Already booked with this key" : "Activated"): \(feature) \(term) on \(vin) for \(price)")
                print("  entitlement \(answer.body["id"]?.string ?? "")")
                print("  valid until \(DealerCommand.date(answer.body["expires_at"]?.int64))")
                print("  idempotency key \(key)")
                print("  token \(answer.body["token"]?.string ?? "")")
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
                let answer = try await connection.client().send("GET", "/v1/activations?period=\(month)")
                if connection.json { print(String(decoding: answer.bytes, as: UTF8.self)); return }
                let lines = (answer.body["lines"]?.elements ?? []).compactMap(\.object)
                if lines.isEmpty { print("No activations in \(month).") }
                for line in lines {
                    let kind = line["kind"]?.string == "clawback" ? "refund " : ""
                    print("\((line["occurred_at"]?.string ?? "").prefix(10))  \(line["vin"]?.string ?? "")  \(kind)\(line["feature"]?.string ?? "") \(line["term"]?.string ?? "")  \(line["gross"]?.string ?? "") \(line["currency"]?.string ?? "")  commission \(line["share"]?.string ?? "")")
                }
                for statement in (answer.body["statements"]?.elements ?? []).compactMap(\.object) {
                    print("Commission so far in \(month): \(statement["payable"]?.string ?? "") \(statement["currency"]?.string ?? "") (\(statement["activations"]?.int64 ?? 0) activations, \(statement["clawbacks"]?.int64 ?? 0) refunds)")
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

    static func date(_ unixSeconds: Int64?) -> String {
        guard let unixSeconds else { return "no end date" }
        return String(Timestamp.format(unixSeconds * 1_000_000_000).prefix(10))
    }

    static func money(_ price: JSONObject) -> String {
        guard let minor = price["gross_minor"]?.int64, let currency = try? Currency(price["currency"]?.string ?? "") else { return "" }
        return "\(currency.format(minor: minor)) \(currency.code)"
    }
}
