import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A SoftHSM token made once per test process (scripts/softhsm-token) holding the development
/// ES256 key, and a second token holding an Ed25519 key.
///
/// SoftHSM reads `SOFTHSM2_CONF` when its module is initialized, so it is
/// set here before any key is opened, and every test that opens a key uses this one token.
public enum SoftHSMToken {
    /// The token's files.
    public struct Setup: Sendable {
        /// The SoftHSM module (`libsofthsm2.so`).
        public let module: String
        /// The folder of the token files.
        public let directory: URL
        /// The `SOFTHSM2_CONF` value for a child process.
        public let configuration: String
    }

    /// The user PIN of both tokens.
    public static let pin = "246810"

    /// SoftHSM, when installed.
    public static var installed: Bool {
        ProcessRunner.available("softhsm2-util")
            && ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so"]
            .contains { FileManager.default.fileExists(atPath: $0) }
    }

    /// Made on first use; sets `SOFTHSM2_CONF` for this process.
    public static let setup: Result<Setup, ProcessFailure> = {
        do {
            let directory = try TestPaths.temporaryDirectory().appendingPathComponent("softhsm")
            let made = try ProcessRunner.run(TestPaths.file("scripts/softhsm-token").path, [
                directory.path, "fod", pin, TestPaths.file("keys/dev-es256.private.pem").path, "dev-es256", "01",
            ])
            guard made.status == 0 else { return .failure(ProcessFailure(text: made.diagnosis)) }
            let lines = made.stdout.split(separator: "\n").map(String.init)
            setenv("SOFTHSM2_CONF", lines[0], 1)
            let ed = directory.deletingLastPathComponent().appendingPathComponent("ed25519.pem")
            let generated = try ProcessRunner.run("openssl", ["genpkey", "-algorithm", "ED25519", "-out", ed.path])
            let environment = ["SOFTHSM2_CONF": lines[0], "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
            let second = try ProcessRunner.run("softhsm2-util", ["--init-token", "--free", "--label", "fod-ed25519", "--so-pin", "13579", "--pin", pin],
                                               environment: environment)
            let imported = try ProcessRunner.run("softhsm2-util", ["--import", ed.path, "--token", "fod-ed25519", "--label", "ed", "--id", "02", "--pin", pin],
                                                 environment: environment)
            for step in [generated, second, imported] where step.status != 0 { return .failure(ProcessFailure(text: step.diagnosis)) }
            return .success(Setup(module: lines[1], directory: directory, configuration: lines[0]))
        } catch {
            return .failure(ProcessFailure(text: "\(error)"))
        }
    }()

    /// Why the token could not be made.
    public struct ProcessFailure: Error, CustomStringConvertible, Sendable {
        let text: String
        public var description: String { text }
    }
}

