import ArgumentParser
import FoDCrypto
import FoDEntitlements

/// `fod issue`.
struct IssueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "issue",
        abstract: "Issue an entitlement token and print it.",
        discussion: """
        Terms: trial (30 days), P1M, P6M, P1Y, P3Y, subscription (one
        month per token, reissued on renewal), permanent (no end).
        The end is the start plus the term in calendar arithmetic (UTC)
        unless --expires is given.
        """
    )

    @Option(help: "The private signing key: a PEM file (mode 0600) or a PKCS#11 URI (pkcs11:token=…;object=…).")
    var key: String
    @Option(help: "The issuer (iss), e.g. https://fod.oem.example.")
    var issuer: String
    @Option(help: "The vehicle's VIN (17 characters).")
    var vin: String
    @Option(help: "The feature code, e.g. MATRIX_LED.")
    var feature: String
    @Option(help: "The term: trial, P1M, P6M, P1Y, P3Y, subscription or permanent.")
    var term: String
    @Option(help: "The dealer credited with the sale (omit for direct sales).")
    var dealer: String?
    @Option(help: "Bind the entitlement to this ECU serial / hardware id.")
    var ecu: String?
    @Option(name: .customLong("not-before"), help: "Start (RFC 3339); default now.")
    var notBefore: String?
    @Option(help: "End (RFC 3339); default the term's end.")
    var expires: String?

    func run() throws {
        try CLIError.run {
            let signer = Issuer(key: try KeyLocation(key).load(), issuer: try IssuerID(issuer))
            let request = EntitlementRequest(
                vin: try VIN(vin), feature: try FeatureCode(feature), term: try Term(validating: term),
                dealer: try dealer.map { try DealerID($0) }, ecu: try ecu.map { try ECUIdentifier($0) },
                notBefore: try notBefore.map { try CLIInput.unixSeconds(rfc3339: $0, option: "--not-before") },
                expiresAt: try expires.map { try CLIInput.unixSeconds(rfc3339: $0, option: "--expires") })
            print(try signer.issue(request).token)
        }
    }
}
