import FoDStore
import Foundation

/// Where a PostgreSQL database is: `postgres://user[:password]@host[:port]/database`, with libpq's
/// query options `sslmode` (`disable`, `prefer` — the default —, `require`, `verify-full`),
/// `sslrootcert` (a CA file for `verify-full`), `host` (a Unix-socket folder, as libpq reads it)
/// and `search_path` (a schema). A password may also come from `PGPASSWORD`.
public struct DatabaseURL: Sendable, Hashable {
    /// How the connection is secured.
    public enum TLSMode: String, Sendable, Hashable {
        case disable, prefer, require
        case verifyFull = "verify-full"
    }

    public let user: String
    public let password: String?
    /// A host name or address, or `nil` with ``socketFolder``.
    public let host: String?
    public let port: Int
    /// The folder of the server's Unix socket (`.s.PGSQL.<port>`).
    public let socketFolder: String?
    public let database: String
    public let tls: TLSMode
    public let rootCertificate: String?
    /// A schema to work in, created if missing (tests give each run its own).
    public let searchPath: String?

    /// Whether `text` names PostgreSQL (`postgres://` or `postgresql://`).
    public static func isPostgres(_ text: String) -> Bool { text.hasPrefix("postgres://") || text.hasPrefix("postgresql://") }

    /// Parses a URL.
    /// - Throws: ``StoreError`` `invalid` naming what is wrong (never echoing the password).
    public init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        guard DatabaseURL.isPostgres(text), let components = URLComponents(string: text) else {
            throw StoreError(.invalid, "a database URL is postgres://user@host:port/database")
        }
        guard let user = components.percentEncodedUser.flatMap({ $0.removingPercentEncoding }), !user.isEmpty else {
            throw StoreError(.invalid, "the database URL names no user (postgres://USER@host/database)")
        }
        self.user = user
        password = components.percentEncodedPassword.flatMap { $0.removingPercentEncoding } ?? environment["PGPASSWORD"]
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else {
            throw StoreError(.invalid, "the database URL names no database (postgres://user@host/DATABASE)")
        }
        self.database = database.removingPercentEncoding ?? database
        port = components.port ?? 5432
        guard (1...65535).contains(port) else { throw StoreError(.invalid, "the database port must be 1 to 65535") }
        var options: [String: String] = [:]
        for item in components.queryItems ?? [] {
            guard ["sslmode", "sslrootcert", "host", "search_path"].contains(item.name) else {
                throw StoreError(.invalid, "the database URL option \(item.name) is not known (sslmode, sslrootcert, host, search_path)")
            }
            options[item.name] = item.value ?? ""
        }
        if let folder = options["host"], folder.hasPrefix("/") {
            socketFolder = folder
            host = nil
        } else {
            socketFolder = nil
            let name = options["host"] ?? components.host ?? ""
            guard !name.isEmpty else { throw StoreError(.invalid, "the database URL names no host") }
            host = name
        }
        guard let tls = TLSMode(rawValue: options["sslmode"] ?? "prefer") else {
            throw StoreError(.invalid, "sslmode must be disable, prefer, require or verify-full")
        }
        self.tls = tls
        rootCertificate = options["sslrootcert"]
        if rootCertificate != nil, tls != .verifyFull { throw StoreError(.invalid, "sslrootcert goes with sslmode=verify-full") }
        searchPath = options["search_path"]
        if let searchPath, !searchPath.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) || searchPath.isEmpty {
            throw StoreError(.invalid, "search_path must be one schema name (letters, digits, _)")
        }
    }

    /// The URL without the password, for logs and banners.
    public var redacted: String {
        let place = socketFolder.map { "?host=\($0)" } ?? ""
        return "postgres://\(user)@\(host ?? "")\(host == nil ? "" : ":\(port)")/\(database)\(place)"
    }
}
