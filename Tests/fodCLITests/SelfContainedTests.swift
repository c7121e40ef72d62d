import Foundation
import FoDTestSupport
import Testing

/// A clone tests on its own: nothing the tests or scripts run reads the folder beside the repository.
@Suite("The repository is self-contained")
struct SelfContainedTests {
    @Test("no test, script or CI step reads the folder beside the repository")
    func nothingReadsShared() throws {
        // Spelled in parts, so that this file does not name what it looks for.
        let beside = [".." + "/shared", "shared" + "/vectors", "shared" + "/validators"]
        var offenders: [String] = []
        for folder in ["Tests", "scripts", ".ci"] {
            let root = TestPaths.file(folder)
            let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
            for file in files where ["swift", "py", "sh", ""].contains(file.pathExtension) && !file.path.contains("/Vectors/") {
                guard let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
                if beside.contains(where: { text.contains($0) }) {
                    offenders.append(file.path)
                }
            }
        }
        #expect(offenders.isEmpty, "\(offenders)")
        #expect(FileManager.default.fileExists(atPath: TestPaths.vectors.appendingPathComponent("wycheproof/LICENSE").path))
    }
}
