import ArgumentParser
import FoDCore
import FoDServer
import Foundation

/// Turns library errors into a one-line message on stderr and the documented exit code.
enum CLIError {
    /// Exit code for a token or manifest that did not verify.
    static let verificationFailed: Int32 = 1
    /// Exit code for bad input: unreadable files, malformed keys, invalid values.
    static let badInput: Int32 = 2

    /// `CODE: reason` for an error of one of fod's modules (a service's refusal included); `nil` for anything else.
    static func describe(_ error: any Error) -> String? {
        if let refused = error as? APIError { return "\(refused.code): \(refused.detail)" }
        return (error as? any CodedError)?.description
    }

    /// Runs `body`; on a library error prints `error: CODE: reason` and exits 2 (bad input).
    static func run(_ body: () throws -> Void) throws {
        do { try body() } catch {
            guard let message = describe(error) else { throw error }
            printError(message)
            throw ExitCode(badInput)
        }
    }

    /// The same for async commands, returning `body`'s result.
    static func run<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch {
            guard let message = describe(error) else { throw error }
            printError(message)
            throw ExitCode(badInput)
        }
    }

    /// Prints `warning: message` on stderr.
    static func printWarning(_ message: String) {
        FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
    }

    /// Prints a line on stderr.
    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    }
}
