import ArgumentParser
import FoDPostgres
import FoDStore
import Foundation

/// `fod db`: backups and the move to PostgreSQL.
struct DatabaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Back up the embedded database, or move it to PostgreSQL.",
        subcommands: [Backup.self, MigrateTo.self]
    )

    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the SQLite database, while the service runs, into a new file (SQLite's online backup: a consistent snapshot).",
            discussion: "Restore: stop the service, put the copy in place as DATA/fod.sqlite (remove fod.sqlite-wal and fod.sqlite-shm), start it, run fod audit verify.")
        @Option(help: "Data folder of the service.") var data: String = ProcessInfo.processInfo.environment["FOD_DATA"] ?? "data"
        @Option(help: "The backup file to create (must not exist).") var out: String

        func run() async throws {
            try await CLIError.run {
                let path = (data as NSString).appendingPathComponent("fod.sqlite")
                guard FileManager.default.fileExists(atPath: path) else { throw StoreError(.notFound, "no database at \(path)") }
                let database = try FoDDatabase(path: path)
                try database.backup(to: out)
                try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: out)
                let copy = try FoDDatabase(path: out)
                let entries = try await SQLiteStore(copy).verifyAudit()
                FileHandle.standardError.write(Data("backed up \(path) to \(out): audit log intact, \(entries) entries\n".utf8))
            }
        }
    }

    struct MigrateTo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "migrate-to",
            abstract: "Move an embedded SQLite deployment to PostgreSQL: every table, the audit chain intact (verified after the move).",
            discussion: """
            Stop fod serve first (the copy is consistent either way, but writes after it would stay behind).
            The target database must hold no fod data; the move is one transaction: all or nothing.
            Then start the instances with --database URL.
            """)
        @Option(help: "Data folder of the SQLite deployment.") var data: String = ProcessInfo.processInfo.environment["FOD_DATA"] ?? "data"
        @Argument(help: "The PostgreSQL database: postgres://user@host:port/database") var url: String

        func run() async throws {
            try await CLIError.run {
                let path = (data as NSString).appendingPathComponent("fod.sqlite")
                guard FileManager.default.fileExists(atPath: path) else { throw StoreError(.notFound, "no database at \(path)") }
                let source = try FoDDatabase(path: path)
                let sourceEntries = try await SQLiteStore(source).verifyAudit()
                let tables = try source.dumpTables()
                let opened = try await StoreOptions.open(databaseURL: url, data: data)
                defer { opened.close() }
                guard let target = opened.postgres else { throw StoreError(.invalid, "migrate-to needs a postgres:// URL") }
                try await target.load(tables)
                // Check the move: the same rows per table, and the chain verifies with the same length.
                let counts = try await target.rowCounts()
                for table in tables where counts[table.table] != table.rows.count {
                    throw StoreError(.database, "\(table.table): \(table.rows.count) rows read, \(counts[table.table] ?? 0) in PostgreSQL")
                }
                let entries = try await target.verifyAudit()
                guard entries == sourceEntries else { throw StoreError(.auditBroken, "the audit log has \(entries) entries after the move, \(sourceEntries) before") }
                let rows = tables.reduce(0) { $0 + $1.rows.count }
                FileHandle.standardError.write(Data("moved \(rows) rows in \(tables.count) tables from \(path) to \(target.location); audit log intact: \(entries) entries\n".utf8))
            }
        }
    }
}
