import ArgumentParser
import Foundation
import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `fod` command line: entitlement keys, tokens and manifests.
@main
struct FodCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fod",
        abstract: "fod — functions-on-demand entitlements: issue and verify signed feature tokens for vehicles.",
        discussion: """
        A token switches one feature on for one vehicle (VIN) for a term.
        It is a JWS signed with ES256 (P-256) or EdDSA (Ed25519) that a
        vehicle verifies offline against trusted public keys.

        A first session:
          fod keys generate --alg ES256 --out mykeys --name demo
          fod issue --key mykeys/demo.private.pem \\
              --issuer https://fod.oem.example --vin WVWZZZ1KZAW394821 \\
              --feature MATRIX_LED --term P1Y > token.txt
          fod verify --keys mykeys/demo.public.pem \\
              --issuer https://fod.oem.example token.txt
          fod inspect token.txt

        The service: `fod serve` runs the HTTP API (see docs/api.md);
        `fod apikey` manages its keys, `fod audit verify` checks its audit log.

        Revenue share: `fod report` computes a month's dealer statements from
        an events file; `fod gen events` writes a synthetic one.

        Exit codes:
          0   success
          1   the token or manifest did not verify (code on stderr)
          2   bad input (unreadable file, bad key, invalid VIN, ...)
          64  wrong usage
        """,
        subcommands: [KeysCommand.self, TrustCommand.self, IssueCommand.self, VerifyCommand.self, InspectCommand.self, ReportCommand.self, GenCommand.self, ServeCommand.self, RenewCommand.self, APIKeyCommand.self, AuditCommand.self, ImportCommand.self, DatabaseCommand.self, DealerCommand.self, CloseCommand.self, CreditNotesCommand.self, StatementCommand.self, VehicleCommand.self]
    )

    /// Runs the command. For `fod serve`, Swift concurrency's global executor becomes NIO's event
    /// loops first, so request handlers run on the threads that do the I/O instead of hopping
    /// between two thread pools on every request.
    ///
    /// SIGPIPE is ignored: a reader that goes away (`fod gen events --out - | head`, a client that
    /// disconnects) makes a write fail with `EPIPE`, which is reported, instead of killing the process.
    static func main() async {
        _ = signal(SIGPIPE, SIG_IGN)
        if CommandLine.arguments.dropFirst().first == "serve" {
            NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        }
        await main(nil)
        // Buffered output goes out now, so a closed pipe is reported instead of lost at exit.
        if fflush(nil) != 0 {
            let reason = String(cString: strerror(errno))
            CLIError.printError("the output could not be written: \(reason)")
            Foundation.exit(2)
        }
    }
}
