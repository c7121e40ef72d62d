import ArgumentParser
import FoDCore
import FoDCrypto
import FoDEntitlements
import Foundation

/// `fod trust`: root metadata (docs/trust.md).
struct TrustCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trust",
        abstract: "Root metadata: the root keys and their threshold, and the issuing keys vehicles trust.",
        discussion: """
        A root is made unsigned (init, rotate); each root holder then signs it on
        their own machine (sign), and anyone checks a chain (verify).

          fod trust init --issuer https://fod.oem.example \\
              --root-key alice.public.pem --root-key bob.public.pem --threshold 2 \\
              --issuing-key "issuing-a.public.pem;scope=entitlement,manifest,time" \\
              --expires 2028-01-01T00:00:00Z --out root-1.json
          fod trust sign root-1.json --key alice.private.pem
          fod trust sign root-1.json --key bob.private.pem
          fod trust rotate root-1.json --add-issuing-key issuing-b.public.pem --out root-2.json
          fod trust verify root-1.json root-2.json

        An issuing key is PEM[;scope=entitlement,manifest,time][;nbf=T][;exp=T]
        [;markets=DE,AT][;kid=NAME]: by default every scope, valid from now for
        three years, every market, the RFC 7638 thumbprint as kid. A root key is
        PEM[;kid=NAME]. Times are RFC 3339.
        """,
        subcommands: [Init.self, Sign.self, Rotate.self, Verify.self]
    )

    /// `fod trust init`.
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write root version 1, unsigned.")
        @Option(help: "The issuer (iss) of everything the keys sign.") var issuer: String
        @Option(name: .customLong("root-key"), help: "A root key: PEM[;kid=NAME]. Repeat for each holder.") var rootKeys: [String]
        @Option(help: "How many root keys must sign each version.") var threshold: Int
        @Option(name: .customLong("issuing-key"), help: "An issuing key (see above). Repeat for several.") var issuingKeys: [String] = []
        @Option(help: "Until when this version may be the newest (RFC 3339).") var expires: String
        @Option(help: "The file to write.") var out: String

        func run() throws {
            try CLIError.run {
                let now = Int64(Date().timeIntervalSince1970)
                let metadata = RootMetadata(issuer: try IssuerID(issuer), version: 1, issuedAt: now,
                                            expiresAt: try CLIInput.unixSeconds(rfc3339: expires, option: "--expires"), threshold: threshold,
                                            rootKeys: try rootKeys.map(TrustSpec.rootKey), issuingKeys: try issuingKeys.map { try TrustSpec.issuingKey($0, now: now) })
                try TrustSpec.write(try SignedRoot(unsigned: metadata), to: out)
            }
        }
    }

    /// `fod trust sign`.
    struct Sign: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a root holder's signature to a root document (in place, or to --out).")
        @Argument(help: "The root document.") var file: String
        @Option(help: "The holder's private key: a PEM file (mode 0600) or a PKCS#11 URI (pkcs11:token=…;object=…).") var key: String
        @Option(help: "The kid to sign under (default: the key's id among this version's root keys, else its thumbprint).") var kid: String?
        @Option(help: "Write here instead of in place.") var out: String?

        func run() throws {
            try CLIError.run {
                let root = try SignedRoot(json: try CLIInput.readFile(file))
                let privateKey = try KeyLocation(key).load()
                let signed = try root.signed(by: privateKey, keyID: kid)
                let id = signed.signatures.last?.keyID ?? privateKey.keyID
                if root.signatures.contains(where: { $0.keyID == id }) {
                    throw EntitlementError(.requestInvalid, "\(file) is already signed by \(id)")
                }
                try TrustSpec.write(signed, to: out ?? file)
                FileHandle.standardError.write(Data("signed root version \(root.metadata.version) as \(id) (\(signed.signatures.count) signature(s))\n".utf8))
            }
        }
    }

    /// `fod trust rotate`.
    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the next root version from the current one, unsigned.")
        @Argument(help: "The current root document.") var current: String
        @Option(name: .customLong("add-root-key"), help: "A root key to add: PEM[;kid=NAME].") var addRootKeys: [String] = []
        @Option(name: .customLong("remove-root-key"), help: "The kid of a root key to remove.") var removeRootKeys: [String] = []
        @Option(help: "The new threshold (default: the current one).") var threshold: Int?
        @Option(name: .customLong("add-issuing-key"), help: "An issuing key to add (see fod trust --help).") var addIssuingKeys: [String] = []
        @Option(help: "The kid of an issuing key to retire (it leaves the root).") var retire: [String] = []
        @Option(help: "Until when the new version may be the newest (default: as long after now as the current one lasted).") var expires: String?
        @Option(help: "The file to write.") var out: String

        func run() throws {
            try CLIError.run {
                let now = Int64(Date().timeIntervalSince1970)
                var metadata = try SignedRoot(json: try CLIInput.readFile(current)).metadata
                for kid in removeRootKeys + retire {
                    guard metadata.rootKeys.contains(where: { $0.keyID == kid }) || metadata.issuingKeys.contains(where: { $0.keyID == kid }) else {
                        throw EntitlementError(.requestInvalid, "version \(metadata.version) has no key \(kid)")
                    }
                }
                metadata.rootKeys.removeAll { removeRootKeys.contains($0.keyID) }
                metadata.rootKeys += try addRootKeys.map(TrustSpec.rootKey)
                metadata.issuingKeys.removeAll { retire.contains($0.keyID) }
                metadata.issuingKeys += try addIssuingKeys.map { try TrustSpec.issuingKey($0, now: now) }
                let lasted = metadata.expiresAt - metadata.issuedAt
                metadata.expiresAt = try expires.map { try CLIInput.unixSeconds(rfc3339: $0, option: "--expires") } ?? now + lasted
                metadata.issuedAt = now
                metadata.threshold = threshold ?? metadata.threshold
                metadata.version += 1
                try TrustSpec.write(try SignedRoot(unsigned: metadata), to: out)
            }
        }
    }

    /// `fod trust verify`.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Walk a chain of roots from the first (pinned) and print the issuing keys trusted, or the code of the failure.",
            discussion: "Exit 0 with the keys as JSON; 1 with `error: CODE: reason` when the chain is not trusted; 2 for unreadable input.")
        @Argument(help: "Root documents: the pinned version first, then the versions after it.") var files: [String]
        @Option(help: "As of this time (RFC 3339) instead of now.") var at: String?
        @Option(help: "Only the keys vehicles of this market trust.") var market: String?

        func validate() throws {
            if files.isEmpty { throw ValidationError("name at least the pinned root") }
        }

        func run() throws {
            var documents: [SignedRoot] = []
            var now: Int64 = 0
            var market: Market?
            try CLIError.run {
                now = try at.map { try CLIInput.unixSeconds(rfc3339: $0, option: "--at") } ?? Int64(Date().timeIntervalSince1970)
                market = try self.market.map { try Market($0) }
                documents = try files.map { try SignedRoot(json: try CLIInput.readFile($0)) }
            }
            guard !documents.isEmpty else { return }
            do {
                let store = try TrustStore(walking: documents)
                let keys = try store.keySet(market: market, at: now)
                print(TrustSpec.describe(store.root, keys: keys))
            } catch let error as EntitlementError {
                CLIError.printError("\(error.code): \(error.reason)")
                throw ExitCode(CLIError.verificationFailed)
            }
        }
    }
}

/// The command line's forms of keys and roots.
enum TrustSpec {
    /// `PEM[;kid=NAME]`.
    static func rootKey(_ spec: String) throws -> TrustedKey {
        let (path, options) = try parts(spec, allowed: ["kid"])
        return TrustedKey(try KeyFile.readPublicKey(at: path), keyID: try options["kid"].map(keyID))
    }

    /// `PEM[;scope=…][;nbf=T][;exp=T][;markets=…][;kid=NAME]`.
    static func issuingKey(_ spec: String, now: Int64) throws -> IssuingKey {
        let (path, options) = try parts(spec, allowed: ["kid", "scope", "nbf", "exp", "markets"])
        var scope = Set(TokenType.allCases)
        if let names = options["scope"] {
            scope = []
            for name in names.split(separator: ",") {
                guard let type = TokenType(scopeName: String(name)) else {
                    throw EntitlementError(.requestInvalid, "scope \(name) is not entitlement, manifest or time")
                }
                scope.insert(type)
            }
        }
        let notBefore = try options["nbf"].map { try CLIInput.unixSeconds(rfc3339: $0, option: "nbf") } ?? now
        let notAfter = try options["exp"].map { try CLIInput.unixSeconds(rfc3339: $0, option: "exp") } ?? notBefore + 3 * 365 * 86_400
        let markets = try options["markets"].map { try $0.split(separator: ",").map { try Market(String($0)) } }
        return IssuingKey(try KeyFile.readPublicKey(at: path), keyID: try options["kid"].map(keyID), scope: scope,
                          notBefore: notBefore, notAfter: notAfter, markets: markets)
    }

    private static func keyID(_ text: String) throws -> String {
        guard TrustedKey.isValidKeyID(text) else { throw EntitlementError(.requestInvalid, "kid must be 1 to 256 printable ASCII characters") }
        return text
    }

    private static func parts(_ spec: String, allowed: Set<String>) throws -> (path: String, options: [String: String]) {
        let fields = spec.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        var options: [String: String] = [:]
        for field in fields.dropFirst() {
            guard let equals = field.firstIndex(of: "="), allowed.contains(String(field[..<equals])) else {
                throw EntitlementError(.requestInvalid, "\"\(field.prefix(40))\" in \"\(spec.prefix(80))\": expected one of \(allowed.sorted().joined(separator: ", ")) as NAME=VALUE")
            }
            options[String(field[..<equals])] = String(field[field.index(after: equals)...])
        }
        return (fields[0], options)
    }

    /// Writes a root document (mode 0644: it is public).
    static func write(_ root: SignedRoot, to path: String) throws {
        do { try Data((root.json() + "\n").utf8).write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw EntitlementError(.requestInvalid, "cannot write \(path): \(error.localizedDescription)")
        }
    }

    /// The trusted version and its issuing keys, as JSON.
    static func describe(_ root: RootMetadata, keys: KeySet) -> String {
        let entries: [JSONValue] = root.issuingKeys.filter { keys.key(id: $0.keyID) != nil }.map { key in
            var members: [JSONObject.Member] = [
                .init(name: "kid", value: .string(key.keyID)), .init(name: "alg", value: .string(key.publicKey.algorithm.jwsName)),
                .init(name: "scope", value: .array(TokenType.allCases.filter { key.scope.contains($0) }.map { .string($0.scopeName) })),
                .init(name: "nbf", value: .number(String(key.notBefore))), .init(name: "exp", value: .number(String(key.notAfter))),
            ]
            if let markets = key.markets { members.append(.init(name: "markets", value: .array(markets.map { .string($0.code) }))) }
            return .object(JSONObject(members: members))
        }
        return JSONWriter.text(.object(JSONObject(members: [
            .init(name: "version", value: .number(String(root.version))), .init(name: "expires", value: .number(String(root.expiresAt))),
            .init(name: "issuing_keys", value: .array(entries)),
        ])), indent: 2)
    }
}
