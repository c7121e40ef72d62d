import Foundation

/// Where the repository, its test vectors and the built binaries are.
public enum TestPaths {
    /// The repository root (the folder holding Package.swift).
    public static let repository: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    /// The third-party test vectors kept in the repository (`Tests/Vectors`, with their licences).
    public static let vectors: URL = repository.appendingPathComponent("Tests/Vectors")

    /// A file in the repository.
    public static func file(_ relative: String) -> URL { repository.appendingPathComponent(relative) }

    /// The built `fod` executable: `FOD_BIN`, or beside the test bundle.
    public static let fodBinary: URL = {
        if let override = ProcessInfo.processInfo.environment["FOD_BIN"] { return URL(fileURLWithPath: override) }
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for candidate in [beside, beside.deletingLastPathComponent(), repository.appendingPathComponent(".build/debug")] {
            let url = candidate.appendingPathComponent("fod")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return repository.appendingPathComponent(".build/debug/fod")
    }()

    /// Reads a JSON file into Foundation objects.
    public static func json(_ url: URL) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: url))
    }

    /// A new empty temporary directory.
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fod-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
