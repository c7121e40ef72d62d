/// The hash of event ids and interned values: SipHash-1-3 keyed with a random key per process
/// (the standard library's `Hasher`), so every input byte reaches every output bit and no file
/// can be crafted to collide.
///
/// A hash only ever picks a table slot or proposes a match here: every match it proposes is
/// confirmed against the bytes of both ids (``FingerprintTable``, ``ByteInterner``), so a
/// collision costs a comparison and never changes a verdict. Tests replace the function with
/// deliberately bad ones to prove that.
struct EventIDHash: Sendable {
    /// Replaces SipHash, for tests only.
    let replacement: (@Sendable (UnsafeRawBufferPointer) -> UInt64)?

    /// SipHash-1-3 with the process's random key.
    static let sipHash = EventIDHash(replacement: nil)

    @inline(__always)
    func callAsFunction(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        if let replacement { return replacement(bytes) }
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        return UInt64(UInt(bitPattern: hasher.finalize()))
    }
}
