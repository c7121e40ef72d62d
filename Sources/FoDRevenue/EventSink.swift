/// What an events reader delivers rows to.
public protocol EventSink: AnyObject {
    /// A syntactically complete row.
    func consume(_ event: RawEvent)
    /// A row that could not be read at all (bad quoting, wrong number of fields).
    func malformed(line: Int64, eventID: String, reason: String)
    /// Where the ids of rows already delivered can be read again, by their ``RawEvent/offset``;
    /// a reader calls this once, before the first row.
    func attach(_ ids: any EventIDSource)
}

extension EventSink {
    public func attach(_ ids: any EventIDSource) {}
}

/// Reads the event id of a row already read again, from the row's byte offset in the input.
public protocol EventIDSource: Sendable {
    /// The id of the row that starts at `offset`, exactly as the reader delivered it.
    /// - Throws: ``RevenueError`` `events_invalid` when the row cannot be read again.
    func eventID(atOffset offset: Int64) throws -> [UInt8]
}
