/// What the stateless checks of a row found, computed where the row was read (possibly on
/// another thread) so that the builder only does the work that needs its tables.
struct PreparedEvent: Sendable {
    /// Whether an id, timestamp, kind, refers_to or VIN check failed (the error itself is made
    /// again where it is reported: plain data here, so batches copy it without reference counting).
    var failed = false
    /// Whether gross_minor or vat_bps is invalid (reported after the interned fields' errors).
    var amountFailed = false
    var fingerprint: UInt64 = 0
    var refersToHash: UInt64 = 0
    var time: Int64 = 0
    var gross: Int64 = 0
    var vatBps: Int64 = 0
    var isRefund = false
    /// The upper-cased VIN.
    var vin: (UInt64, UInt64, UInt8) = (0, 0, 0)
}
