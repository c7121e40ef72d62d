import Foundation
import FoDTestSupport
import Testing

/// A clone tests on its own: nothing the tests or scripts run reads the folder beside the repository.
@Suite("The repository is self-contained")
struct SelfContainedTests {
    @Test("no test, script or CI step reads ../shared")
    func nothingReadsShared() throws {
        var offenders: [String] = []
        for folder in ["Tests", "scripts", ".ci"] {
            let root = TestPaths.file(folder)
            let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
            for file in files where ["swift", "py", "sh", ""].contains(file.pathExtension) && !file.path.contains("/Vectors/") {
                guard let text = try? String(contentsOf: file, encoding: .utf8) else { continue }
                if text.contains("../shared") || text.contains("shared/vectors") || text.contains("shared/validators") {
                    offenders.append(file.path)
                }
            }
        }
        // This file names the strings it looks for.
        offenders.removeAll { $0.hasSuffix("SelfContainedTests.swift") }
        #expect(offenders.isEmpty, "\(offenders)")
        #expect(FileManager.default.fileExists(atPath: TestPaths.vectors.appendingPathComponent("wycheproof/LICENSE").path))
    }
}
