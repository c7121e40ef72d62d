import Foundation
import FoDTestSupport
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `fod dealer` against a real `fod serve` on 127.0.0.1 (a temporary data folder, the demo fixtures).
@Suite("fod dealer against a running server", .serialized)
struct DealerCLITests {
    /// A running development server; stopped by ``stop()``.
    final class Server {
        let process: Process
        let data: URL
        let url: String

        /// What the server wrote to stderr (its banner and logs).
        let log: URL

        /// Starts `fod serve` on `data` (a new temporary folder by default), with `arguments`
        /// added and `environment` merged into this process's; in development mode (`--dev`:
        /// the development keys and the demo data) unless `development` is false.
        init(data folder: URL? = nil, arguments: [String] = [], environment: [String: String]? = nil, development: Bool = true) throws {
            data = try folder ?? TestPaths.temporaryDirectory()
            // Ports below Linux's ephemeral range (32768–60999), so no client socket of a test
            // running beside holds it; a port another server took anyway is tried again.
            var lastLog = ""
            for _ in 0..<3 {
                let port = Int.random(in: 20_000...32_000)
                let url = "http://127.0.0.1:\(port)"
                let log = data.appendingPathComponent("serve-\(port).log")
                FileManager.default.createFile(atPath: log.path, contents: nil)
                let process = Process()
                process.executableURL = TestPaths.fodBinary
                process.arguments = ["serve"] + (development ? ["--dev"] : []) + ["--data", data.path, "--port", String(port), "--shutdown-delay", "0.2"] + arguments
                if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
                process.currentDirectoryURL = TestPaths.repository
                process.standardOutput = FileHandle.nullDevice
                process.standardError = try FileHandle(forWritingTo: log)
                try process.run()
                let deadline = Date().addingTimeInterval(20)
                while Date() < deadline, process.isRunning {
                    if let data = try? Data(contentsOf: URL(string: "\(url)/healthz")!), !data.isEmpty {
                        (self.process, self.url, self.log) = (process, url, log)
                        return
                    }
                    Thread.sleep(forTimeInterval: 0.2)
                }
                process.terminate()
                process.waitUntilExit()
                lastLog = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                guard lastLog.contains("Address already in use") else {
                    throw CLITestFailure("the server did not start on \(url): \(lastLog)")
                }
            }
            throw CLITestFailure("the server did not start on three ports: \(lastLog)")
        }

        func key(role: String, dealer: String? = nil) throws -> String {
            let result = try FodCLI.run(["apikey", "create", "--data", data.path, "--role", role, "--label", "test"] + (dealer.map { ["--dealer", $0] } ?? []))
            try #require(result.status == 0, "\(result.stderr)")
            return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        func stop() {
            process.terminate()
            process.waitUntilExit()
        }
    }

    struct CLITestFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    @Test("login checks the key and saves it 0600; activate with the same idempotency key books once; activations lists it; errors exit 1/2/3")
    func dealerFlow() throws {
        let server = try Server()
        defer { server.stop() }
        let config = try TestPaths.temporaryDirectory()
        let dealer = try server.key(role: "dealer", dealer: "DE-10001")
        let env = ["XDG_CONFIG_HOME": config.path, "FOD_DEALER_KEY": dealer, "FOD_SERVER": server.url]

        let login = try FodCLI.run(["dealer", "login"], environment: env)
        #expect(login.status == 0, "\(login.stderr)")
        #expect(login.stdout.contains("Signed in as Autohaus Beispiel München (DE-10001)"))
        let saved = config.appendingPathComponent("fod/dealer.json").path
        let mode = try FileManager.default.attributesOfItem(atPath: saved)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        // From here on the saved login is used: no key in the environment.
        let signedIn = ["XDG_CONFIG_HOME": config.path, "FOD_DEALER_KEY": ""]
        let offers = try FodCLI.run(["dealer", "offers", "WVWZZZ1KZAW394821"], environment: signedIn)
        #expect(offers.status == 0, "\(offers.stderr)")
        #expect(offers.stdout.contains("NAV_PLUS       not bookable: Navigation Plus needs the MMI Plus hardware (equipment code 7UG)."))

        let first = try FodCLI.run(["dealer", "activate", "WAUZZZF45RA000001", "NAV_PLUS", "P1Y", "--idempotency-key", "retry-1", "--json"], environment: signedIn)
        let again = try FodCLI.run(["dealer", "activate", "WAUZZZF45RA000001", "NAV_PLUS", "P1Y", "--idempotency-key", "retry-1", "--json"], environment: signedIn)
        #expect(first.status == 0 && again.status == 0, "\(first.stderr) \(again.stderr)")
        let firstAnswer = try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any]
        let againAnswer = try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any]
        let id = try #require(firstAnswer?["id"] as? String)
        #expect(againAnswer?["id"] as? String == id)
        #expect(firstAnswer?["dealer"] as? String == "DE-10001")

        let booked = try FodCLI.run(["dealer", "activate", "WAUZZZF45RA000001", "NAV_PLUS", "P1Y"], environment: signedIn)
        #expect(booked.status == 1)
        #expect(booked.stderr.contains("already_active"))

        let lookup = try FodCLI.run(["dealer", "lookup", "wauzzzf45ra000001"], environment: signedIn)
        #expect(lookup.status == 0 && lookup.stdout.contains("NAV_PLUS  P1Y") && lookup.stdout.contains(id))

        let activations = try FodCLI.run(["dealer", "activations", "--json"], environment: signedIn)
        let listed = try JSONSerialization.jsonObject(with: Data(activations.stdout.utf8)) as? [String: Any]
        let lines = listed?["lines"] as? [[String: Any]] ?? []
        #expect(lines.count == 1 && lines.first?["event_id"] as? String == "act-\(id)")

        // Another dealer sees none of it, and cannot withdraw it.
        let other = try server.key(role: "dealer", dealer: "DE-10002")
        let notTheirs = try FodCLI.run(["dealer", "withdraw", id], environment: ["XDG_CONFIG_HOME": config.path, "FOD_DEALER_KEY": other])
        #expect(notTheirs.status == 1 && notTheirs.stderr.contains("entitlement_not_found"))
        // An early start with the acknowledgement: no withdrawal once switched on.
        let early = try FodCLI.run(["dealer", "activate", "WAUZZZF45RA000001", "ACC", "P1M", "--immediate-start", "--json"], environment: signedIn)
        #expect(early.status == 0, "\(early.stderr)")
        let earlyID = try #require((try JSONSerialization.jsonObject(with: Data(early.stdout.utf8)) as? [String: Any])?["id"] as? String)
        let lapsed = try FodCLI.run(["dealer", "withdraw", earlyID], environment: signedIn)
        #expect(lapsed.status == 1 && lapsed.stderr.contains("withdrawal_right_lapsed"), "\(lapsed.stderr)")
        let theirs = try FodCLI.run(["dealer", "activations", "--json"], environment: ["XDG_CONFIG_HOME": config.path, "FOD_DEALER_KEY": other])
        let theirLines = (try JSONSerialization.jsonObject(with: Data(theirs.stdout.utf8)) as? [String: Any])?["lines"] as? [Any]
        #expect(theirLines?.isEmpty == true)

        // A month of Matrix LED ends within six weeks; extended by a month it goes on.
        let month = try FodCLI.run(["dealer", "activate", "WAUZZZF45RA000001", "MATRIX_LED", "P1M"], environment: signedIn)
        #expect(month.status == 0, "\(month.stderr)")
        let ending = try FodCLI.run(["dealer", "expiring"], environment: signedIn)
        #expect(ending.status == 0 && ending.stdout.contains("WAUZZZF45RA000001  MATRIX_LED P1M  ends"), "\(ending.stdout) \(ending.stderr)")
        let extended = try FodCLI.run(["dealer", "activate", "WAUZZZF45RA000001", "MATRIX_LED", "P1M", "--extend"], environment: signedIn)
        #expect(extended.status == 0 && extended.stdout.contains("Activated"), "\(extended.stderr)")
        #expect(!(try FodCLI.run(["dealer", "expiring"], environment: signedIn)).stdout.contains("MATRIX_LED P1M  ends"))

        let withdrawn = try FodCLI.run(["dealer", "withdraw", id, "--note", "changed their mind"], environment: signedIn)
        #expect(withdrawn.status == 0 && withdrawn.stdout.contains("Withdrawn: entitlement \(id)"), "\(withdrawn.stderr)")
        let twice = try FodCLI.run(["dealer", "withdraw", id], environment: signedIn)
        #expect(twice.status == 1 && twice.stderr.contains("already_refunded"))

        let issuer = try server.key(role: "issuer")
        let wrongRole = try FodCLI.run(["dealer", "login"], environment: ["XDG_CONFIG_HOME": config.path, "FOD_DEALER_KEY": issuer, "FOD_SERVER": server.url])
        #expect(wrongRole.status == 2 && wrongRole.stderr.contains("not_a_dealer_key"))
        let badVIN = try FodCLI.run(["dealer", "lookup", "NOT-A-VIN"], environment: signedIn)
        #expect(badVIN.status == 2 && badVIN.stderr.contains("vin_"))
        let unreachable = try FodCLI.run(["dealer", "offers", "WAUZZZF45RA000001", "--server", "http://127.0.0.1:9"],
                                         environment: ["XDG_CONFIG_HOME": config.path, "FOD_DEALER_KEY": dealer])
        #expect(unreachable.status == 3 && unreachable.stderr.contains("server_unreachable"))
    }
}
