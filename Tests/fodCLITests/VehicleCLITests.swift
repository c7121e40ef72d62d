import Foundation
import FoDTestSupport
import Testing

/// `fod vehicle` offline, on the fixtures: init on root 1, roots, a manifest and a token applied
/// from files, features checked with their exit codes, a torn state detected.
@Suite("fod vehicle")
struct VehicleCLITests {
    static let t0: Int64 = 1_798_761_600  // fixtures/trust: 2027-01-01

    @Test("init pins root 1; apply takes roots 2 and 3 and a manifest, refuses a rolled-back or retired-key one; check answers 0 or 1 with the code; a truncated state is state_truncated")
    func offline() throws {
        let dir = try TestPaths.temporaryDirectory()
        let state = dir.appendingPathComponent("car.state").path
        func fixture(_ name: String) -> String { TestPaths.file("fixtures/\(name)").path }
        let made = try FodCLI.run(["vehicle", "init", "--vin", "WVWZZZ1KZAW394821", "--root", fixture("trust/root-1.json"), "--state", state,
                                   "--market", "DE", "--production-time", String(Self.t0 + 40 * 86_400)])
        #expect(made.status == 0 && made.stdout.contains("pinned root version 1"), "\(made.diagnosis)")
        #expect(FileManager.default.fileExists(atPath: state + ".factory"))
        for root in ["trust/root-2.json", "trust/root-3.json"] {
            let taken = try FodCLI.run(["vehicle", "apply", "--root", fixture(root), "--state", state])
            #expect(taken.status == 0 && taken.stdout.contains("taken"), "\(root): \(taken.diagnosis)")
        }
        let skipped = try FodCLI.run(["vehicle", "apply", "--root", fixture("trust/root-2.json"), "--state", state])
        #expect(skipped.status == 1 && skipped.stdout.contains("root_rollback"))
        let manifest = try FodCLI.run(["vehicle", "apply", "--manifest", fixture("vehicle/manifest-2.jwt"), "--state", state])
        #expect(manifest.status == 0, "\(manifest.diagnosis)")
        for (file, code) in [("vehicle/manifest-1.jwt", "manifest_rollback"), ("vehicle/manifest-3-retired-key.jwt", "key_unknown"),
                             ("vehicle/manifest-2-tampered.jwt", "signature_invalid"), ("vehicle/manifest-3-other-vin.jwt", "vin_mismatch")] {
            let refused = try FodCLI.run(["vehicle", "apply", "--manifest", fixture(file), "--state", state])
            #expect(refused.status == 1 && refused.stdout.contains(code), "\(file): \(refused.diagnosis)")
        }
        let enabled = try FodCLI.run(["vehicle", "check", "MATRIX_LED", "--state", state])
        #expect(enabled.status == 0 && enabled.stdout.contains("enabled"), "\(enabled.diagnosis)")
        let absent = try FodCLI.run(["vehicle", "check", "ACC", "--state", state])
        #expect(absent.status == 1 && absent.stdout.contains("feature_not_entitled"))
        let badFeature = try FodCLI.run(["vehicle", "check", "acc", "--state", state])
        #expect(badFeature.status == 2 && badFeature.stderr.contains("feature_invalid"))
        let shown = try FodCLI.run(["vehicle", "show", "--state", state])
        let json = try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any]
        #expect(json?["root_version"] as? Int == 3 && json?["manifest_version"] as? Int == 2 && json?["pinned_root_version"] as? Int == 1)

        // A torn write: the state file cut in half.
        let bytes = try Data(contentsOf: URL(fileURLWithPath: state))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: state))
        let torn = try FodCLI.run(["vehicle", "check", "MATRIX_LED", "--state", state])
        #expect(torn.status == 1 && torn.stdout.contains("state_truncated"), "\(torn.diagnosis)")
        let missing = try FodCLI.run(["vehicle", "check", "MATRIX_LED", "--state", dir.appendingPathComponent("none.state").path])
        #expect(missing.status == 2 && missing.stderr.contains("vehicle_not_initialized"))
    }
}
