import ArgumentParser
import FoDCrypto
import FoDEntitlements
import FoDStore
import Foundation

/// Turns library errors into a one-line message on stderr and the documented exit code.
enum CLIError {
    /// Exit code for a token or manifest that did not verify.
    static let verificationFailed: Int32 = 1
    /// Exit code for bad input: unreadable files, malformed keys, invalid values.
    static let badInput: Int32 = 2

    /// Runs `body`; on a library error prints `error: CODE: reason` and exits with the code's class.
    static func run(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as EntitlementError {
            printError("\(error.code): \(error.reason)")
            throw ExitCode(badInput)
        } catch let error as CryptoError {
            printError("\(error.code): \(error.reason)")
            throw ExitCode(badInput)
        }
    }

    /// Runs `body`, mapping store and domain errors to a message and exit code 2.
    static func runStore(_ body: () throws -> Void) throws {
        do { try run(body) } catch let error as StoreError {
            printError("\(error.code): \(error.reason)")
            throw ExitCode(badInput)
        }
    }

    /// Prints a line on stderr.
    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    }
}
