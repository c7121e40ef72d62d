import Foundation
import FoDPostgres
import FoDServer
import FoDCrypto
import FoDRevenue
import FoDStore

/// Where `fod report` reads events from: a byte source that can also name the input's hash.
protocol EventSource: ByteSource, SendableMetatype {
    /// The SHA-256 of everything read (or of the export), after reading.
    func finish() -> String
    /// The size in bytes, for progress and table sizing.
    var size: Int64 { get }
}

/// A file read in large blocks, hashing what it reads.
struct FileByteSource: EventSource {
    private let handle: Int32
    private let hasher = SHA256Hasher()
    /// The file's size, for progress and table sizing.
    let size: Int64

    init(path: String) throws {
        handle = open(path, O_RDONLY | O_CLOEXEC)
        guard handle >= 0 else { throw RevenueError(.eventsInvalid, "cannot read '\(path)': \(String(cString: strerror(errno)))") }
        var info = stat()
        guard fstat(handle, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(handle)
            // Matches are confirmed by reading earlier rows again, which a pipe cannot do.
            throw RevenueError(.eventsInvalid, "'\(path)' is not a regular file: fod report reads the events file twice where ids match, so give it a file, not a pipe")
        }
        size = Int64(info.st_size)
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = Foundation.read(handle, buffer.baseAddress, buffer.count)
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw RevenueError(.eventsInvalid, "read failed: \(String(cString: strerror(errno)))") }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            return count
        }
    }

    /// Reads at an offset (`pread`), without moving the stream or hashing: the report confirms an
    /// id match by reading the earlier row again.
    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let count = pread(handle, buffer.baseAddress, buffer.count, off_t(offset))
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else {
                throw RevenueError(.eventsInvalid, "the events file cannot be read again at byte \(offset) (it must be a regular file, not a pipe): \(String(cString: strerror(errno)))")
            }
            return count
        }
    }

    /// The SHA-256 of everything read; call once, at the end.
    func finish() -> String {
        close(handle)
        return hasher.finalizeHex()
    }
}

/// A file written in blocks.
final class FileSink {
    private let handle: FileHandle
    let path: String

    init(path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw RevenueError(.optionInvalid, "cannot create '\(path)'")
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { throw RevenueError(.optionInvalid, "cannot write '\(path)'") }
        self.handle = handle
        self.path = path
    }

    func write(_ bytes: [UInt8]) throws {
        try handle.write(contentsOf: bytes)
    }

    func close() throws {
        try handle.synchronize()
        try handle.close()
    }

    /// Writes a whole file.
    static func write(_ bytes: [UInt8], to path: String) throws {
        let sink = try FileSink(path: path)
        try sink.write(bytes)
        try sink.close()
    }
}

/// The events of a service's database, exported as the CSV `fod report` reads (all of them, so
/// that late refunds of older activations are recognized) into a temporary file, hashed as it is
/// written (``EventsSpool``: a year of events on disk, not in memory).
struct DatabaseEventSource: EventSource {
    private let spool: EventsSpool
    private let hash: String
    var size: Int64 { spool.size }

    /// Reads the events of the database at `location`: a data folder, an SQLite file, or a
    /// `postgres://` URL.
    static func read(_ location: String) async throws -> DatabaseEventSource {
        let opened = try await open(location)
        defer { opened.close() }
        let (spool, sha256) = try await EventsSpool.export(opened.store, EventQuery(), hashed: true)
        return DatabaseEventSource(spool: spool, hash: sha256 ?? "")
    }

    /// Opens the database at `location`: a data folder, an SQLite file, or a `postgres://` URL.
    static func open(_ location: String) async throws -> OpenedStore {
        let opened: OpenedStore
        if DatabaseURL.isPostgres(location) {
            opened = try await StoreOptions.open(databaseURL: location, data: "")
        } else {
            var isDirectory: ObjCBool = false
            let file = FileManager.default.fileExists(atPath: location, isDirectory: &isDirectory) && isDirectory.boolValue
                ? (location as NSString).appendingPathComponent("fod.sqlite") : location
            guard FileManager.default.fileExists(atPath: file) else { throw RevenueError(.eventsInvalid, "no database at '\(file)'") }
            opened = OpenedStore(store: try SQLiteStore(path: file), isNew: false, postgres: nil)
        }
        return opened
    }

    private init(spool: EventsSpool, hash: String) {
        self.spool = spool
        self.hash = hash
    }

    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try spool.read(into: buffer) }
    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try spool.read(at: offset, into: buffer) }
    func finish() -> String { hash }
}

