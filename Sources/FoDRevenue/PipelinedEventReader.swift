import Foundation

/// Reads an events CSV on a second thread while the builder consumes it on the calling thread.
///
/// The reading thread does everything that needs no shared state: `read(2)` (and the source's
/// own work, such as hashing), CSV tokenizing, and the row checks of
/// ``ReportBuilder/prepare(_:period:)``. It hands rows over in batches through a bounded queue,
/// so memory stays flat; the builder sees the rows and malformed lines in file order, exactly as
/// with ``CSVEventReader`` alone, and produces the same report byte for byte.
public enum PipelinedEventReader {
    static let batchRows = 8192
    static let queueDepth = 4
    /// How many rows ahead the id table's slot is prefetched.
    static let prefetchDistance = 8

    /// Reads the whole source into `builder`.
    /// - Throws: ``RevenueError`` `events_invalid` for a bad header, or what the source throws.
    public static func read<Source: ByteSource & SendableMetatype>(_ source: Source, into builder: ReportBuilder,
                                               progress: (@Sendable (Int64) -> Void)? = nil) throws -> Source {
        let queue = BatchQueue(depth: queueDepth)
        let box = UncheckedBox(source)
        let read: @Sendable (UncheckedBox<Source>, BatchingSink) throws -> Void = { box, sink in
            try CSVEventReader.read(&box.value, into: sink, progress: progress)
        }
        let period = builder.period, hash = builder.idHash
        let thread = Thread {
            let batcher = BatchingSink(queue: queue, period: period, hash: hash)
            do {
                try read(box, batcher)
                batcher.flush()
                queue.finish(error: nil)
            } catch {
                batcher.flush()
                queue.finish(error: error)
            }
        }
        thread.stackSize = 1 << 20
        thread.start()
        var fields = [UnsafeRawBufferPointer](repeating: UnsafeRawBufferPointer(start: nil, count: 0), count: EventColumn.allCases.count)
        while let batch = queue.pop() {
            if let ids = batch.ids { builder.attach(ids) }
            for entry in batch.entries {
                if entry < 0 {
                    let malformed = batch.malformed[Int(-entry - 1)]
                    builder.malformed(line: malformed.line, eventID: malformed.eventID, reason: malformed.reason)
                    continue
                }
                let row = Int(entry)
                // Load the id table's slot for a row some rows ahead: its cache miss then overlaps
                // with this row's work (measured in docs/benchmarks.md).
                if row + PipelinedEventReader.prefetchDistance < batch.rowCount {
                    builder.prefetch(batch.prepared[row + PipelinedEventReader.prefetchDistance].fingerprint)
                }
                let base = row * EventBatch.columns
                for column in 0..<EventBatch.columns {
                    fields[column] = UnsafeRawBufferPointer(start: batch.bytes + Int(batch.fieldStarts[base + column]),
                                                            count: Int(batch.fieldLengths[base + column]))
                }
                builder.consume(RawEvent(line: batch.lines[row], fields: fields, offset: batch.offsets[row]), prepared: batch.prepared[row])
            }
            queue.recycle(batch)
        }
        if let error = queue.error { throw error }
        return box.value
    }
}

/// Rows copied out of the reader's buffer, with what `prepare` found.
///
/// Fixed-capacity storage written through pointers: the reading thread fills it, the queue hands
/// it over whole, and one thread at a time touches it.
final class EventBatch: @unchecked Sendable {
    static let columns = EventColumn.allCases.count
    let byteCapacity: Int
    let bytes: UnsafeMutableRawPointer
    let fieldStarts: UnsafeMutablePointer<Int32>
    let fieldLengths: UnsafeMutablePointer<Int32>
    let lines: UnsafeMutablePointer<Int64>
    let offsets: UnsafeMutablePointer<Int64>
    let prepared: UnsafeMutablePointer<PreparedEvent>
    @exclusivity(unchecked) var byteCount = 0
    @exclusivity(unchecked) var rowCount = 0
    /// Rows (index ≥ 0) and malformed lines (−index − 1) in file order.
    @exclusivity(unchecked) var entries: [Int32] = []
    @exclusivity(unchecked) var malformed: [(line: Int64, eventID: String, reason: String)] = []
    /// Where the ids can be read again, on the batch read right after the header.
    @exclusivity(unchecked) var ids: (any EventIDSource)?

    init(byteCapacity: Int) {
        let rows = PipelinedEventReader.batchRows
        self.byteCapacity = byteCapacity
        bytes = UnsafeMutableRawPointer.allocate(byteCount: byteCapacity, alignment: 8)
        fieldStarts = .allocate(capacity: rows * EventBatch.columns)
        fieldLengths = .allocate(capacity: rows * EventBatch.columns)
        lines = .allocate(capacity: rows)
        offsets = .allocate(capacity: rows)
        prepared = .allocate(capacity: rows)
        entries.reserveCapacity(rows)
    }

    deinit {
        bytes.deallocate()
        fieldStarts.deallocate()
        fieldLengths.deallocate()
        lines.deallocate()
        offsets.deallocate()
        prepared.deinitialize(count: rowCount)
        prepared.deallocate()
    }

    /// Empties the batch for reuse.
    func reset() {
        prepared.deinitialize(count: rowCount)
        rowCount = 0
        byteCount = 0
        entries.removeAll(keepingCapacity: true)
        malformed.removeAll()
        ids = nil
    }

    /// Whether a row of `size` bytes still fits.
    func fits(_ size: Int) -> Bool { rowCount < PipelinedEventReader.batchRows && byteCount + size <= byteCapacity }

    /// Copies a row: its span in one copy when it has one, else field by field.
    func append(_ event: RawEvent, prepared value: PreparedEvent) {
        let row = rowCount
        let base = row * EventBatch.columns
        if let span = event.span, let spanBase = span.baseAddress {
            bytes.advanced(by: byteCount).copyMemory(from: spanBase, byteCount: span.count)
            for column in 0..<EventBatch.columns {
                let field = event.fields[column]
                fieldStarts[base + column] = Int32(byteCount + (field.baseAddress.map { $0 - spanBase } ?? 0))
                fieldLengths[base + column] = Int32(field.count)
            }
            byteCount += span.count
        } else {
            for column in 0..<EventBatch.columns {
                let field = event.fields[column]
                if let address = field.baseAddress { bytes.advanced(by: byteCount).copyMemory(from: address, byteCount: field.count) }
                fieldStarts[base + column] = Int32(byteCount)
                fieldLengths[base + column] = Int32(field.count)
                byteCount += field.count
            }
        }
        lines[row] = event.line
        offsets[row] = event.offset
        (prepared + row).initialize(to: value)
        entries.append(Int32(row))
        rowCount += 1
    }
}

/// Collects rows on the reading thread.
final class BatchingSink: EventSink {
    private let queue: BatchQueue
    private let period: ReportPeriod
    private let hash: EventIDHash
    @exclusivity(unchecked) private var batch: EventBatch
    static let byteCapacity = 4 << 20

    init(queue: BatchQueue, period: ReportPeriod, hash: EventIDHash) {
        self.queue = queue
        self.period = period
        self.hash = hash
        batch = EventBatch(byteCapacity: BatchingSink.byteCapacity)
    }

    func consume(_ event: RawEvent) {
        let size = event.span?.count ?? event.fields.reduce(0) { $0 + $1.count }
        if !batch.fits(size) {
            flush()
            if size > BatchingSink.byteCapacity { batch = EventBatch(byteCapacity: size) }
        }
        batch.append(event, prepared: ReportBuilder.prepare(event, period: period, hash: hash))
    }

    func attach(_ ids: any EventIDSource) {
        batch.ids = ids
    }

    func malformed(line: Int64, eventID: String, reason: String) {
        batch.malformed.append((line, eventID, reason))
        batch.entries.append(Int32(-batch.malformed.count))
    }

    func flush() {
        guard !batch.entries.isEmpty else { return }
        queue.push(batch)
        batch = queue.reusable() ?? EventBatch(byteCapacity: BatchingSink.byteCapacity)
    }
}

/// A bounded blocking queue of batches between the two threads.
final class BatchQueue: @unchecked Sendable {
    // All state is guarded by `condition`.
    private let condition = NSCondition()
    private var batches: [EventBatch] = []
    private var finished = false
    private let depth: Int
    private(set) var error: (any Error)?

    init(depth: Int) { self.depth = depth }

    /// Batches the consumer is done with, for the reader to fill again (fresh memory costs page faults).
    private var spare: [EventBatch] = []

    func recycle(_ batch: EventBatch) {
        guard batch.byteCapacity == BatchingSink.byteCapacity else { return }
        batch.reset()
        condition.lock()
        if spare.count < depth + 2 { spare.append(batch) }
        condition.unlock()
    }

    func reusable() -> EventBatch? {
        condition.lock()
        defer { condition.unlock() }
        return spare.popLast()
    }

    func push(_ batch: EventBatch) {
        condition.lock()
        while batches.count >= depth { condition.wait() }
        batches.append(batch)
        condition.broadcast()
        condition.unlock()
    }

    func finish(error: (any Error)?) {
        condition.lock()
        finished = true
        self.error = error
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch, or `nil` once the reader has finished and every batch was taken.
    func pop() -> EventBatch? {
        condition.lock()
        defer { condition.unlock() }
        while batches.isEmpty && !finished { condition.wait() }
        guard !batches.isEmpty else { return nil }
        let batch = batches.removeFirst()
        condition.broadcast()
        return batch
    }
}

/// Moves a value to another thread that is its only user until the value comes back.
final class UncheckedBox<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
