import ArgumentParser
import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDServer
import FoDStore
import Foundation

/// The keys a command signs with, taken the same way by every command that signs (`fod serve`,
/// `fod renew`, `fod close`): `--key` (repeatable with `--trust`), `--trust`, `--issuer`, and the
/// development rule.
///
/// **Development or production.** A command is in development mode when `--dev` (or `FOD_DEV=1`)
/// says so, or when it is given none of its own key, trust folder, data folder or database — the
/// README's bare `fod serve` on `./data` with the repository's development keys. A command that
/// names any of them (`--key`, `--trust`, `--data`, `--database` or their `FOD_*` variables) is in
/// production unless `--dev` is given; `--no-dev` (`FOD_DEV=0`) is production in any case. In
/// production the development keys (`keys/dev-*`) are refused and `fod serve` loads no demo data.
struct SigningOptions: ParsableArguments {
    static let developmentKey = "keys/dev-es256.private.pem"

    @Option(help: "Signing key: a PEM file (mode 0600) or a key in a PKCS#11 token (an RFC 7512 URI, pkcs11:token=…;object=…, docs/trust.md); repeat with --trust for several (each signs what the root lets it). Env FOD_KEY. Default in development mode: keys/dev-es256.private.pem.")
    var key: [String] = ProcessInfo.processInfo.environment["FOD_KEY"].flatMap { $0.isEmpty ? nil : [$0] } ?? []
    @Option(help: "Folder of root metadata (root-*.json, docs/trust.md): publish its issuing keys and sign with the newest active one; a new version put there is taken within 5 s. Env FOD_TRUST.")
    var trust: String? = ProcessInfo.processInfo.environment["FOD_TRUST"].flatMap { $0.isEmpty ? nil : $0 }
    @Option(help: "Issuer name in tokens. Env FOD_ISSUER.")
    var issuer: String = ProcessInfo.processInfo.environment["FOD_ISSUER"] ?? "https://fod.oem.example"
    @Flag(inversion: .prefixedNo, help: "Development mode: allows the dev-* keys (and fod serve's demo data). Default: on only when no key, trust folder, data folder or database is named. Env FOD_DEV=0|1.")
    var dev: Bool?

    /// Whether the command runs in development mode (see the type's documentation).
    func isDevelopment(_ store: StoreOptions) -> Bool {
        if let dev { return dev }
        if let text = ProcessInfo.processInfo.environment["FOD_DEV"], !text.isEmpty { return text != "0" }
        return key.isEmpty && trust == nil && !store.isNamed
    }

    /// The key locations: the ones given, or the development key in development mode.
    /// - Throws: ``StoreError`` `invalid` for a development key in production, or no key given in production.
    func locations(development: Bool) throws -> [KeyLocation] {
        let given = key.isEmpty ? (development ? [SigningOptions.developmentKey] : []) : key
        guard !given.isEmpty else {
            throw StoreError(.invalid, "no signing key: give the service's key with --key (or FOD_KEY), or start with --dev to use the development key")
        }
        if given.count > 1 && trust == nil { throw ValidationError("several --key need --trust: root metadata says what each key signs and when") }
        let locations = try given.map { try KeyLocation($0) }
        for case .file(let path) in locations {
            let isDevKey = (path as NSString).lastPathComponent.hasPrefix("dev-")
            if isDevKey && !development {
                throw StoreError(.invalid, "\(path) is a development key; run with --dev, or give the service's key with --key")
            }
            if isDevKey, let mode = try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int, mode & 0o077 != 0 {
                // git does not keep file modes; the development keys are public anyway, so in --dev
                // mode fod tightens them instead of refusing to start. Real keys are never touched.
                try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
                FileHandle.standardError.write(Data("note: set \(path) to mode 0600 (development key)\n".utf8))
            }
        }
        return locations
    }

    /// The signing keys, exactly as `fod serve` takes them: one key, or root metadata's issuing keys with `--trust`.
    /// - Throws: as ``locations(development:)``, and the keys' and root metadata's own errors.
    func signingKeys(development: Bool, clock: any WallClock) throws -> SigningKeys {
        let privateKeys = try locations(development: development).map { try $0.load() }
        let issuerID = try IssuerID(issuer)
        if let trust { return try SigningKeys(roots: try CLIInput.roots(in: trust), keys: privateKeys, issuer: issuerID, clock: clock) }
        return SigningKeys(key: privateKeys[0], issuer: issuerID, clock: clock)
    }
}
