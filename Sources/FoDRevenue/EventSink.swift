/// What an events reader delivers rows to.
public protocol EventSink: AnyObject {
    /// A syntactically complete row.
    func consume(_ event: RawEvent)
    /// A row that could not be read at all (bad quoting, wrong number of fields).
    func malformed(line: Int64, eventID: String, reason: String)
}
