import ArgumentParser
import FoDCrypto
import FoDCore
import FoDEntitlements

/// `fod verify`.
struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify an entitlement token (or a manifest) and print its claims as JSON.",
        discussion: """
        Runs the whole verification procedure (docs/token-format.md).
        On success prints the verified claims and exits 0; otherwise
        prints `error: CODE: reason` on stderr and exits 1.

        Examples:
          fod verify --keys jwks.json --issuer https://fod.oem.example \\
              --vin WVWZZZ1KZAW394821 token.txt
          fod verify --manifest --keys jwks.json \\
              --issuer https://fod.oem.example --vin WVWZZZ1KZAW394821 \\
              --last-version 7 manifest.txt
          fod verify --jws-only --keys key.public.pem TOKEN
        """
    )

    @Option(name: .customLong("keys"),
            help: "Trusted keys: a JWK Set / JWK file (JSON) or a PEM file. Repeat --keys, or separate files with commas.")
    var keyOptions: [String] = []

    @Option(help: "Trust what the root metadata in this folder says (root-*.json: the lowest version is the pinned one, then walked version by version) instead of --keys.")
    var trust: String?
    @Option(help: "With --trust: the vehicle's market (only keys covering it).")
    var market: String?

    /// Every key file named, in order.
    var keyFiles: [String] { keyOptions.flatMap { $0.split(separator: ",").map(String.init) } }
    @Option(help: "The expected issuer (iss). Required except with --jws-only.")
    var issuer: String?
    @Option(help: "The vehicle the token must be for (required with --manifest).")
    var vin: String?
    @Option(help: "Verify as of this time (RFC 3339) instead of now.")
    var at: String?
    @Option(help: "Allowed clock skew in seconds.")
    var leeway: Int64 = 60
    @Flag(name: .customLong("jws-only"), help: "Check only the JWS layer (segments, base64url, header, key, signature) and print the payload.")
    var jwsOnly = false
    @Flag(help: "The input is a vehicle manifest (typ fod-manifest+jwt).")
    var manifest = false
    @Option(name: .customLong("last-version"), help: "With --manifest: the version the vehicle holds; the manifest must be newer.")
    var lastVersion: Int64?
    @Argument(help: "The token, a file holding it, or - for standard input.")
    var token: String

    func validate() throws {
        if !jwsOnly && issuer == nil { throw ValidationError("--issuer is required (or use --jws-only)") }
        if manifest && vin == nil { throw ValidationError("--manifest needs --vin: a vehicle accepts only its own manifest") }
        if jwsOnly && manifest { throw ValidationError("--jws-only and --manifest exclude each other") }
        if keyFiles.isEmpty && trust == nil { throw ValidationError("name at least one key file with --keys, or a root folder with --trust") }
        if !keyFiles.isEmpty && trust != nil { throw ValidationError("--keys and --trust exclude each other") }
        if market != nil && trust == nil { throw ValidationError("--market needs --trust") }
    }

    func run() throws {
        var verifier: Verifier?
        var roots: [SignedRoot] = []
        var verifierClock: (any WallClock)?
        var text = ""
        try CLIError.run {
            text = try CLIInput.token(token)
            let clock: any WallClock = try at.map { FixedClock(unixSeconds: try CLIInput.unixSeconds(rfc3339: $0, option: "--at")) } ?? SystemClock()
            if trust == nil {
                verifier = Verifier(keys: try CLIInput.keySet(keyFiles), issuer: try IssuerID(issuer ?? "jws-only"), clock: clock, leeway: leeway)
            } else {
                roots = try CLIInput.roots(in: trust ?? "")
                verifierClock = clock
            }
        }
        do {
            if let verifierClock, !roots.isEmpty {
                let store = try TrustStore(walking: roots)
                let keys = try store.keySet(market: try market.map { try Market($0) }, at: verifierClock.unixSeconds())
                verifier = Verifier(keys: keys, issuer: try IssuerID(issuer ?? "jws-only"), clock: verifierClock, leeway: leeway)
            }
            guard let verifier else { return }
            if jwsOnly {
                let (_, payload) = try verifier.verifyJWS(text)
                print(String(decoding: payload, as: UTF8.self))
            } else if manifest {
                let claims = try verifier.verifyManifest(text, vin: try VIN(vin ?? ""), lastAcceptedVersion: lastVersion)
                print(JSONWriter.text(claims.jsonValue, indent: 2))
            } else {
                let claims = try verifier.verifyEntitlement(text, vin: try vin.map { try VIN($0) })
                print(JSONWriter.text(claims.jsonValue, indent: 2))
            }
        } catch let error as EntitlementError {
            CLIError.printError("\(error.code): \(error.reason)")
            throw ExitCode(CLIError.verificationFailed)
        }
    }
}
