import FoDCore
import Foundation
import FoDCrypto
import FoDEntitlements
import FoDRevenue

/// Reading what the user hands the command line: token text, key files, dates.
enum CLIInput {
    /// The token from an argument: `-` reads standard input, an existing file is read,
    /// anything else is the token itself. Surrounding whitespace is removed.
    static func token(_ argument: String) throws -> String {
        let text: String
        if argument == "-" {
            let data = FileHandle.standardInput.readDataToEndOfFile()
            text = String(decoding: data, as: UTF8.self)
        } else if FileManager.default.fileExists(atPath: argument) {
            text = try readFile(argument)
        } else {
            text = argument
        }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Reads a text file, with a clear error.
    static func readFile(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw EntitlementError(.requestInvalid, "cannot read '\(path)'")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Trusted keys from files: a JWK Set or JWK (JSON), or PEM (public, or private whose public
    /// half is used).
    static func keySet(_ paths: [String]) throws -> KeySet {
        var keys: [TrustedKey] = []
        for path in paths {
            let text = try readFile(path)
            if text.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("{") {
                keys.append(contentsOf: try KeySet(jwksJSON: text).keys)
            } else {
                keys.append(TrustedKey(try KeyFile.readPublicKey(at: path)))
            }
        }
        return KeySet(keys)
    }

    /// The root documents of a folder (`*.json`), in version order.
    static func roots(in folder: String) throws -> [SignedRoot] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else {
            throw EntitlementError(.requestInvalid, "cannot read the folder '\(folder)'")
        }
        let roots = try names.filter { $0.hasSuffix(".json") }.map { try SignedRoot(json: try readFile((folder as NSString).appendingPathComponent($0))) }
        guard !roots.isEmpty else { throw EntitlementError(.requestInvalid, "'\(folder)' holds no root metadata (*.json)") }
        return roots.sorted { $0.metadata.version < $1.metadata.version }
    }

    /// Parses an RFC 3339 timestamp (offset required, fractional seconds allowed) into Unix seconds.
    static func unixSeconds(rfc3339 text: String, option: String) throws -> Int64 {
        guard let nanoseconds = Timestamp.parse(text) else {
            throw EntitlementError(.requestInvalid, "\(option) \"\(text)\" is not an RFC 3339 timestamp such as 2026-12-01T00:00:00Z")
        }
        return Timestamp.seconds(nanoseconds)
    }
}
