import ArgumentParser
import Foundation
import FoDCrypto
import FoDEntitlements
import Synchronization

/// `fod-bench hsm`: issuing with a key in a PKCS#11 token against the same key in a file.
struct HSMSigningBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hsm",
        abstract: "Entitlements issued per second with the key in a PKCS#11 token vs the same key in a PEM file.",
        discussion: """
        --pkcs11 and --file must hold the same key (checked; ES256 or Ed25519). Each figure is the
        median over short alternating rounds (token, file, token, file …) on one thread, then on
        all cores; the ratio is token / file. Then verification of a token signed by a key in
        memory, alone and while another thread signs in the token: a token key must not disturb
        software keys. scripts/bench-hsm makes a SoftHSM token with both keys and runs this for each.
        """
    )

    @Option(help: "The key in the token: a PKCS#11 URI (pin from the URI or FOD_PKCS11_PIN).")
    var pkcs11: String
    @Option(help: "The same key as a PEM file (mode 0600).")
    var file: String
    @Option(help: "Seconds of measurement per figure (split across rounds).")
    var seconds: Double = 6
    @Option(help: "Alternating rounds per figure.")
    var rounds: Int = 20

    func run() throws {
        let token = try KeyLocation(pkcs11).load()
        let fileKey = try KeyLocation(file).load()
        guard token.publicKey == fileKey.publicKey else {
            throw ValidationError("--pkcs11 and --file are different keys (\(token.keyID) vs \(fileKey.keyID))")
        }
        let issuerID = try IssuerID("https://fod.oem.example")
        let request = EntitlementRequest(vin: try VIN("WVWZZZ1KZAW394821"), feature: try FeatureCode("MATRIX_LED"), term: .oneYear,
                                         dealer: try DealerID("DE-1001"))
        let inToken = Issuer(key: token, issuer: issuerID)
        let inFile = Issuer(key: fileKey, issuer: issuerID)
        let verifier = Verifier(keys: KeySet(publicKeys: [fileKey.publicKey]), issuer: issuerID)
        _ = try verifier.verifyEntitlement(try inToken.issue(request).token)
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let batch = 16
        let slice = seconds / Double(rounds)
        for _ in 0..<50 { _ = try inToken.issue(request); _ = try inFile.issue(request) }

        var single: [(Double, Double)] = [], parallel: [(Double, Double)] = []
        for _ in 0..<rounds {
            let hsm = try Throughput.measure(seconds: slice / 2, batchSize: batch) { for _ in 0..<batch { _ = try inToken.issue(request) } }
            let pem = try Throughput.measure(seconds: slice / 2, batchSize: batch) { for _ in 0..<batch { _ = try inFile.issue(request) } }
            single.append((hsm, pem))
        }
        for _ in 0..<max(2, rounds / 2) {
            let hsm = Throughput.parallel(threads: cores, seconds: slice / 2, batchSize: batch) { for _ in 0..<batch { _ = try? inToken.issue(request) } }
            let pem = Throughput.parallel(threads: cores, seconds: slice / 2, batchSize: batch) { for _ in 0..<batch { _ = try? inFile.issue(request) } }
            parallel.append((hsm, pem))
        }
        // Verification of a software key's token, alone and while a thread signs in the token.
        let software = try PrivateKey.generate(.es256)
        let softwareToken = try Issuer(key: software, issuer: issuerID).issue(request).token
        let softwareVerifier = Verifier(keys: KeySet(publicKeys: [software.publicKey]), issuer: issuerID)
        var verification: [(Double, Double)] = []
        let signing = Mutex(false)
        for _ in 0..<max(2, rounds / 2) {
            let alone = try Throughput.measure(seconds: slice / 2, batchSize: batch) { for _ in 0..<batch { _ = try softwareVerifier.verifyEntitlement(softwareToken) } }
            signing.withLock { $0 = true }
            let signer = Thread { while signing.withLock({ $0 }) { _ = try? inToken.issue(request) } }
            signer.start()
            let beside = try Throughput.measure(seconds: slice / 2, batchSize: batch) { for _ in 0..<batch { _ = try softwareVerifier.verifyEntitlement(softwareToken) } }
            signing.withLock { $0 = false }
            verification.append((beside, alone))
        }
        print("fod-bench hsm — \(OpenSSLBaseline.version), \(cores) cores, \(token.algorithm) key \(token.keyID) in \(token.token?.keyIdentifier ?? "?")")
        print("threads  token issue/s  file issue/s  ratio")
        for (threads, figures) in [(1, single), (cores, parallel)] {
            print(String(format: "%7d  %13.0f  %12.0f  %5.3f", threads, Throughput.median(figures.map(\.0)), Throughput.median(figures.map(\.1)),
                         Throughput.median(figures.map { $0.0 / $0.1 })))
        }
        print(String(format: "software ES256 verify/s: %.0f alone, %.0f while a thread signs in the token (ratio %.3f)",
                     Throughput.median(verification.map(\.1)), Throughput.median(verification.map(\.0)), Throughput.median(verification.map { $0.0 / $0.1 })))
    }
}
