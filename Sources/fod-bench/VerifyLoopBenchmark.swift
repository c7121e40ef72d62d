import ArgumentParser
import FoDCore
import FoDEntitlements
import Foundation

/// `fod-bench verify-loop`: the Swift `Verifier` on one token for a time, one thread — the
/// reference scripts/bench-vehicle alternates with libfodvehicle's C interface on the same token.
struct VerifyLoopBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-loop",
        abstract: "Verifications per second of one entitlement token with the Swift Verifier (one thread).")

    @Option(help: "A JWK Set file.") var keys: String
    @Option(help: "The issuer.") var issuer: String
    @Option(help: "A file holding the token.") var token: String
    @Option(help: "Verify as of this Unix time.") var at: Int64
    @Option(help: "The token's VIN.") var vin: String?
    @Option(help: "Seconds to run.") var seconds: Double = 2

    func run() throws {
        let verifier = Verifier(keys: try KeySet(jwksJSON: try String(contentsOfFile: keys, encoding: .utf8)), issuer: try IssuerID(issuer),
                                clock: FixedClock(unixSeconds: at))
        let text = try String(contentsOfFile: token, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let vehicle = try vin.map { try VIN(strict: $0) }
        _ = try verifier.verifyEntitlement(text, vin: vehicle)
        let rate = try Throughput.measure(seconds: seconds, batchSize: 16) {
            for _ in 0..<16 { _ = try verifier.verifyEntitlement(text, vin: vehicle) }
        }
        print(String(format: "%.0f", rate))
    }
}
