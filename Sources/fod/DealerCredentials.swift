import Foundation
import FoDEntitlements
#if canImport(Glibc)
import Glibc
#endif

/// Where `fod dealer` gets its server and key: `FOD_DEALER_KEY`, else the file `fod dealer login`
/// saved (`$XDG_CONFIG_HOME/fod/dealer.json`, mode 0600), else a prompt on the terminal that does
/// not echo. Never a command-line flag, so a key does not land in shell history.
struct DealerCredentials {
    var server: URL
    var key: String

    static let defaultServer = "http://127.0.0.1:8080"

    /// The saved sign-in file.
    static var file: URL {
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_CONFIG_HOME"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: environment["HOME"] ?? NSHomeDirectory()).appendingPathComponent(".config")
        return base.appendingPathComponent("fod/dealer.json")
    }

    /// The server from `--server`, `FOD_SERVER`, the saved file, or the default.
    static func server(_ option: String?) throws -> URL {
        let text = option ?? ProcessInfo.processInfo.environment["FOD_SERVER"] ?? (try? saved())?.server.absoluteString ?? defaultServer
        guard let url = URL(string: text), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
            throw EntitlementError(.requestInvalid, "--server must be an http(s) URL such as \(defaultServer), not \"\(text)\"")
        }
        return url
    }

    /// The credentials to use for a command.
    /// - Parameter prompt: ask on the terminal when nothing else gives a key.
    /// - Throws: ``CommandError`` `not_signed_in`.
    static func resolve(server option: String?, prompt: Bool = true) throws -> DealerCredentials {
        let server = try server(option)
        if let key = ProcessInfo.processInfo.environment["FOD_DEALER_KEY"], !key.isEmpty { return DealerCredentials(server: server, key: key) }
        if let saved = try saved(), option == nil || saved.server == server { return DealerCredentials(server: server, key: saved.key) }
        if prompt, let key = askForKey() { return DealerCredentials(server: server, key: key) }
        throw CommandError(.notSignedIn, "no dealer key: run `fod dealer login`, or set FOD_DEALER_KEY")
    }

    /// Asks for the key on the terminal without echoing it; `nil` without a terminal.
    static func askForKey() -> String? {
        guard isatty(STDIN_FILENO) == 1, let raw = getpass("Dealer key: ") else { return nil }
        let key = String(cString: raw).trimmingCharacters(in: .whitespacesAndNewlines)
        return key.isEmpty ? nil : key
    }

    /// The saved sign-in, if any.
    /// - Throws: ``CommandError`` when the file is readable by others (it holds a secret).
    static func saved() throws -> DealerCredentials? {
        let path = file.path
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        if let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int, mode & 0o077 != 0 {
            throw CommandError(.notSignedIn, "\(path) is readable by others; remove it and run `fod dealer login` again")
        }
        guard let data = FileManager.default.contents(atPath: path), case .object(let object)? = try? JSONParser.parse(Array(data)),
              let server = object["server"]?.string.flatMap(URL.init(string:)), let key = object["key"]?.string else { return nil }
        return DealerCredentials(server: server, key: key)
    }

    /// Saves the sign-in (folder 0700, file 0600).
    func save() throws {
        let folder = DealerCredentials.file.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let text = JSONWriter.text(.object(JSONObject(members: [.init(name: "server", value: .string(server.absoluteString)),
                                                                  .init(name: "key", value: .string(key))])))
        let path = DealerCredentials.file.path
        try? FileManager.default.removeItem(atPath: path)
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw CommandError(.notSignedIn, "cannot write \(path)")
        }
    }
}
