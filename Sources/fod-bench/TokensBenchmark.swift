import ArgumentParser
import Foundation
import FoDCrypto
import FoDEntitlements

/// `fod-bench tokens`: issue and verify throughput against raw OpenSSL, and batch verification.
struct TokensBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "Issue/verify throughput for ES256 and EdDSA on one core vs the raw OpenSSL loop, and batch verify on all cores.",
        discussion: """
        Each figure is the median over many short alternating rounds (ours, raw, ours, raw …); each
        ratio is the median of the per-round ratios, so drift on a shared machine hits both sides alike. Ratios are ours / raw OpenSSL on the same
        key and message size. Targets: issue ≥ 0.90, verify ≥ 0.95, batch speedup ≥ 1.8 on 2 cores.
        """
    )

    @Option(help: "Seconds of measurement per figure (split across rounds).")
    var seconds: Double = 8
    @Option(help: "Alternating rounds per figure; each round times ours then raw for a short slice.")
    var rounds: Int = 40
    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    struct Figures {
        var issue = 0.0, sign = 0.0, issueRatio = 0.0, verify = 0.0, rawVerify = 0.0, verifyRatio = 0.0, trustVerifyRatio = 0.0
        var batchVerify = 0.0, batchSpeedup = 0.0, tokenBytes = 0
    }

    func run() throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var results: [(SigningAlgorithm, Figures)] = []
        for algorithm in SigningAlgorithm.allCases {
            results.append((algorithm, try measure(algorithm, cores: cores)))
        }
        if json {
            var members: [JSONObject.Member] = []
            for (algorithm, f) in results {
                func number(_ value: Double, _ places: Int = 1) -> JSONValue { .number(String(format: "%.\(places)f", value)) }
                members.append(.init(name: algorithm.jwsName, value: .object(JSONObject(members: [
                    .init(name: "issue_per_s", value: number(f.issue)), .init(name: "sign_per_s", value: number(f.sign)),
                    .init(name: "issue_ratio", value: number(f.issueRatio, 3)), .init(name: "verify_per_s", value: number(f.verify)),
                    .init(name: "raw_verify_per_s", value: number(f.rawVerify)), .init(name: "verify_ratio", value: number(f.verifyRatio, 3)),
                    .init(name: "trust_store_verify_ratio", value: number(f.trustVerifyRatio, 3)),
                    .init(name: "batch_verify_per_s", value: number(f.batchVerify)),
                    .init(name: "batch_verify_speedup", value: number(f.batchSpeedup, 3)),
                    .init(name: "token_bytes", value: .number(String(f.tokenBytes))),
                ]))))
            }
            members.append(.init(name: "cores", value: .number(String(cores))))
            members.append(.init(name: "openssl", value: .string(OpenSSLBaseline.version)))
            members.append(.init(name: "seconds_per_figure", value: .number(String(format: "%.1f", seconds))))
            print(JSONWriter.text(.object(JSONObject(members: members)), indent: 2))
        } else {
            print("fod-bench tokens — \(OpenSSLBaseline.version), \(cores) cores, \(seconds) s per figure in \(rounds) rounds (medians)")
            print("alg    issue/s   raw sign/s  ratio   verify/s  raw verify/s  ratio  trust-store ratio  batch verify/s  speedup  token bytes")
            for (algorithm, f) in results {
                print(String(format: "%-6@ %8.0f  %10.0f  %5.3f  %9.0f  %12.0f  %5.3f  %17.3f  %14.0f  %7.2f  %11d",
                             algorithm.jwsName as NSString, f.issue, f.sign, f.issueRatio, f.verify, f.rawVerify, f.verifyRatio,
                             f.trustVerifyRatio, f.batchVerify, f.batchSpeedup, f.tokenBytes))
            }
        }
    }

    private func measure(_ algorithm: SigningAlgorithm, cores: Int) throws -> Figures {
        let key = try PrivateKey.generate(algorithm)
        let issuerID = try IssuerID("https://fod.oem.example")
        let issuer = Issuer(key: key, issuer: issuerID)
        let request = EntitlementRequest(vin: try VIN("WVWZZZ1KZAW394821"), feature: try FeatureCode("MATRIX_LED"), term: .oneYear,
                                         dealer: try DealerID("DE-1001"))
        let token = try issuer.issue(request).token
        let parts = token.split(separator: ".")
        let signingInput = Array("\(parts[0]).\(parts[1])".utf8)
        let native = try OpenSSLBaseline.nativeSignature(key, message: signingInput)
        let verifier = Verifier(keys: KeySet(publicKeys: [key.publicKey]), issuer: issuerID)
        // The same key as an issuing key of root metadata: the vehicle's verifier through a TrustStore.
        let now = Int64(Date().timeIntervalSince1970)
        let rootKey = try PrivateKey.generate(.es256)
        let root = try SignedRoot(unsigned: RootMetadata(
            issuer: issuerID, version: 1, issuedAt: now, expiresAt: now + 86_400, threshold: 1, rootKeys: [TrustedKey(rootKey.publicKey)],
            issuingKeys: [IssuingKey(key.publicKey, scope: [.entitlement, .manifest], notBefore: now - 60, notAfter: now + 86_400)])).signed(by: rootKey)
        let trusted = Verifier(keys: try TrustStore(pinned: root).keySet(at: now), issuer: issuerID)
        let publicKey = key.publicKey
        let slice = seconds / Double(rounds)
        let batch = 32

        // Warm up both paths.
        _ = try OpenSSLBaseline.sign(key, message: signingInput, count: 200)
        for _ in 0..<200 { _ = try issuer.issue(request); _ = try verifier.verifyEntitlement(token) }

        var issueRates: [Double] = [], signRates: [Double] = [], issueRatios: [Double] = []
        var verifyRates: [Double] = [], rawVerifyRates: [Double] = [], verifyRatios: [Double] = []
        for _ in 0..<rounds {
            let ours = try Throughput.measure(seconds: slice / 2, batchSize: batch) { for _ in 0..<batch { _ = try issuer.issue(request) } }
            let raw = try Throughput.measure(seconds: slice / 2, batchSize: batch) { _ = try OpenSSLBaseline.sign(key, message: signingInput, count: batch) }
            issueRates.append(ours); signRates.append(raw); issueRatios.append(ours / raw)
        }
        for _ in 0..<rounds {
            let ours = try Throughput.measure(seconds: slice / 2, batchSize: batch) { for _ in 0..<batch { _ = try verifier.verifyEntitlement(token) } }
            let raw = try Throughput.measure(seconds: slice / 2, batchSize: batch) {
                _ = try OpenSSLBaseline.verify(publicKey, signature: native, message: signingInput, count: batch)
            }
            verifyRates.append(ours); rawVerifyRates.append(raw); verifyRatios.append(ours / raw)
        }
        var trustRatios: [Double] = []
        for _ in 0..<rounds {
            let ours = try Throughput.measure(seconds: slice / 2, batchSize: batch) { for _ in 0..<batch { _ = try trusted.verifyEntitlement(token) } }
            let raw = try Throughput.measure(seconds: slice / 2, batchSize: batch) {
                _ = try OpenSSLBaseline.verify(publicKey, signature: native, message: signingInput, count: batch)
            }
            trustRatios.append(ours / raw)
        }
        var batchRates: [Double] = [], singleRates: [Double] = [], speedups: [Double] = []
        for _ in 0..<max(2, rounds / 4) {
            let single = try Throughput.measure(seconds: slice * 2, batchSize: batch) { for _ in 0..<batch { _ = try verifier.verifyEntitlement(token) } }
            let all = Throughput.parallel(threads: cores, seconds: slice * 2, batchSize: batch) {
                for _ in 0..<batch { _ = try? verifier.verifyEntitlement(token) }
            }
            singleRates.append(single); batchRates.append(all); speedups.append(all / single)
        }
        var figures = Figures()
        figures.issue = Throughput.median(issueRates)
        figures.sign = Throughput.median(signRates)
        figures.issueRatio = Throughput.median(issueRatios)
        figures.verify = Throughput.median(verifyRates)
        figures.rawVerify = Throughput.median(rawVerifyRates)
        figures.verifyRatio = Throughput.median(verifyRatios)
        figures.trustVerifyRatio = Throughput.median(trustRatios)
        figures.batchVerify = Throughput.median(batchRates)
        figures.batchSpeedup = Throughput.median(speedups)
        figures.tokenBytes = token.utf8.count
        return figures
    }
}
