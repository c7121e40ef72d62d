import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The outcome of running a program.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String

    /// The child's stderr, led by what to do when the failure is a missing tool: a Python module
    /// that is not installed, or an interpreter or program that is not on the PATH. Use it as the
    /// comment of the expectation on `status`, so a missing tool fails that test with its cause.
    public var diagnosis: String {
        var hints: [String] = []
        if let range = stderr.range(of: "No module named '") {
            let module = stderr[range.upperBound...].prefix { $0 != "'" }
            hints.append("the Python module '\(module)' is missing: run scripts/test, which installs scripts/requirements-test.txt into .venv-test")
        }
        if status == 127 {
            hints.append("a program is not on the PATH (exit 127); scripts/test checks the tools the tests need and names the package to install")
        }
        if stderr.contains("the input could not be written") {
            hints.append("the child exited before it read its input")
        }
        return (hints + ["exit \(status)", stderr]).joined(separator: "\n")
    }
}

/// Runs programs for tests (the real `fod` binary, `openssl`, `python3`).
public enum ProcessRunner {
    /// A child that exits before reading its input must fail its own test, not kill the test
    /// process with SIGPIPE: the signal is ignored once, so a write returns `EPIPE` instead.
    private static let ignoreBrokenPipes: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    /// Runs `executable` with `arguments`, feeding `input` on stdin, and waits for it.
    /// A program that is missing gives status 127 (through `/usr/bin/env`), never a thrown error
    /// from the child's side; see ``ProcessResult/diagnosis``.
    public static func run(_ executable: String, _ arguments: [String], input: String? = nil,
                           environment: [String: String]? = nil, directory: URL? = nil) throws -> ProcessResult {
        ignoreBrokenPipes
        let process = Process()
        if executable.hasPrefix("/") {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [executable] + arguments
        }
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        if let directory { process.currentDirectoryURL = directory }
        let out = Pipe(), err = Pipe(), inp = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = inp
        try process.run()
        // Read both pipes concurrently, while the input is written, so a chatty child cannot
        // block on a full pipe and a child that exits early cannot block the writer.
        nonisolated(unsafe) var errData = Data()
        nonisolated(unsafe) var outData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            outData = out.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        var writeFailure: String?
        if let input {
            do { try inp.fileHandleForWriting.write(contentsOf: Data(input.utf8)) } catch { writeFailure = "\(error)" }
        }
        try? inp.fileHandleForWriting.close()
        group.wait()
        process.waitUntilExit()
        var stderr = String(decoding: errData, as: UTF8.self)
        if let writeFailure { stderr += "\n(the input could not be written: \(writeFailure))" }
        return ProcessResult(status: process.terminationStatus,
                             stdout: String(decoding: outData, as: UTF8.self),
                             stderr: stderr)
    }

    /// Whether a program is on the PATH.
    public static func available(_ program: String) -> Bool {
        (try? run("sh", ["-c", "command -v \(program)"]))?.status == 0
    }
}
