import ArgumentParser
import Foundation
import FoDCrypto
import FoDEntitlements

/// `fod keys`: signing keys.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create signing keys and publish their public halves.",
        subcommands: [Generate.self, JWKS.self]
    )

    /// `fod keys generate`.
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate a key pair: NAME.private.pem (mode 0600) and NAME.public.pem. Prints the key id.",
            discussion: "The key id (kid) is the RFC 7638 thumbprint of the public key; tokens name their key by it."
        )

        @Option(help: "ES256 (P-256, the default for vehicles) or EdDSA (Ed25519).")
        var alg: String = "ES256"

        @Option(help: "Directory to write the key files into (created if missing).")
        var out: String

        @Option(help: "File name stem (default: the algorithm and the start of the key id).")
        var name: String?

        func run() throws {
            try CLIError.run {
                guard let algorithm = SigningAlgorithm(jwsName: alg) else {
                    throw EntitlementError(.requestInvalid, "--alg must be ES256 or EdDSA, not \(alg)")
                }
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
                let key = try PrivateKey.generate(algorithm)
                let stem = name ?? "\(algorithm.jwsName.lowercased())-\(key.keyID.prefix(8))"
                let privatePath = (out as NSString).appendingPathComponent("\(stem).private.pem")
                let publicPath = (out as NSString).appendingPathComponent("\(stem).public.pem")
                try KeyFile.writePrivateKey(key, to: privatePath)
                try KeyFile.writePublicKey(key.publicKey, to: publicPath)
                FileHandle.standardError.write(Data("wrote \(privatePath) (0600) and \(publicPath); kid:\n".utf8))
                print(key.keyID)
            }
        }
    }

    /// `fod keys jwks`.
    struct JWKS: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "jwks",
            abstract: "Print the JWK Set of the given keys (public halves only), as /.well-known/jwks.json serves it."
        )

        @Argument(help: "PEM key files (public or private).")
        var files: [String]

        func run() throws {
            try CLIError.run {
                guard !files.isEmpty else { throw EntitlementError(.requestInvalid, "name at least one key file") }
                let keys = try files.map { TrustedKey(try KeyFile.readPublicKey(at: $0)) }
                print(try KeySet(keys).jwksJSON())
            }
        }
    }
}
