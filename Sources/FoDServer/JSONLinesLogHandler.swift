import FoDCore
import FoDEntitlements
import FoDRevenue
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Structured logs for `fod serve`: one JSON object per line on standard error —
/// `{"ts":"2026-11-23T16:30:00.123Z","level":"info","label":"fod","msg":"…", …metadata}` — with a UTC
/// timestamp and the metadata (such as `request_id`) as members, ready for a log shipper.
/// Cheaper than swift-log's stream handler on the request path: no local-time conversion and one
/// `write` per line.
public struct JSONLinesLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let fileDescriptor: Int32

    /// A handler for `label` writing to `fileDescriptor` (standard error by default).
    public init(label: String, fileDescriptor: Int32 = 2) {
        self.label = label
        self.fileDescriptor = fileDescriptor
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var members: [JSONObject.Member] = [
            .init(name: "ts", value: .string(JSONLinesLogHandler.timestamp())),
            .init(name: "level", value: .string(event.level.rawValue)),
            .init(name: "label", value: .string(label)),
            .init(name: "msg", value: .string(event.message.description)),
        ]
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { $1 } }
        if let extra = event.metadata { all.merge(extra) { $1 } }
        for key in all.keys.sorted() where !["ts", "level", "label", "msg"].contains(key) {
            members.append(.init(name: key, value: .string(all[key]!.description)))
        }
        var writer = JSONWriter(capacity: 256)
        writer.value(.object(JSONObject(members: members)))
        var bytes = writer.bytes
        bytes.append(0x0A)
        bytes.withUnsafeBytes { buffer in _ = write(fileDescriptor, buffer.baseAddress, buffer.count) }
    }

    /// Now as RFC 3339 UTC, to the millisecond.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Timestamp.format(Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec) / 1_000_000 * 1_000_000)
    }
}
