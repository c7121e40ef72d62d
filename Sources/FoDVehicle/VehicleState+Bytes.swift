import FoDCore
import FoDCrypto
import FoDEntitlements

/// The stored form of a ``VehicleState`` — bytes the caller keeps where it likes (flash, a file):
///
///     "FODV" | format version (2 bytes, big-endian) | length n (4 bytes, big-endian) | content (n bytes, JSON) | SHA-256 of all before (32 bytes)
///
/// A prefix of a valid state (a torn write) is `state_truncated`; any changed byte is
/// `state_corrupt`; another format version is `state_version_unsupported`.
extension VehicleState {
    /// The format version written.
    public static let formatVersion: UInt16 = 1
    static let magic: [UInt8] = Array("FODV".utf8)
    static let headerLength = 10
    static let digestLength = 32
    /// The largest content read back (a root is at most 64 KiB; the rest is small).
    static let maxContentLength = 1 << 20

    /// The state as stored at the monotonic reading `now` (ns): the time since the last
    /// attestation is carried, and the reading itself, so that neither a restart nor a gap
    /// between save and load makes the attestation look newer.
    public func bytes(at now: UInt64) -> [UInt8] {
        var writer = JSONWriter(capacity: 4096)
        writer.raw("{\"vin\":"); writer.string(vin.value)
        if let market { writer.raw(",\"market\":"); writer.string(market.code) }
        writer.raw(",\"offline_grace\":"); writer.int(offlineGrace)
        writer.raw(",\"leeway\":"); writer.int(leeway)
        writer.raw(",\"pinned_version\":"); writer.int(pinnedVersion)
        writer.raw(",\"root\":"); writer.string(trust.chain[trust.chain.count - 1].json(indent: 0))
        writer.raw(",\"attested\":"); writer.int(clock.attested)
        writer.raw(",\"since_attested\":"); writer.int(clock.secondsSinceAttestation(at: now))
        writer.raw(",\"saved_at\":"); writer.int(Int64(clamping: now))
        if let manifest {
            writer.raw(",\"manifest\":{\"ver\":"); writer.int(manifest.version)
            writer.raw(",\"iat\":"); writer.int(manifest.issuedAt)
            writer.raw(",\"exp\":"); writer.int(manifest.expiresAt)
            writer.raw("}")
        }
        writer.raw(",\"held\":[")
        for (index, item) in held.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.raw("{\"jti\":"); writer.string(item.entry.id.value)
            writer.raw(",\"feature\":"); writer.string(item.entry.feature.value)
            writer.raw(",\"term\":"); writer.string(item.entry.term.rawValue)
            writer.raw(",\"nbf\":"); writer.int(item.entry.notBefore)
            if let end = item.entry.expiresAt { writer.raw(",\"exp\":"); writer.int(end) }
            writer.raw(",\"iat\":"); writer.int(item.issuedAt)
            writer.raw(",\"source\":"); writer.string(item.source.rawValue)
            writer.raw("}")
        }
        writer.raw("]}")
        let content = writer.bytes
        var out = VehicleState.magic
        out.reserveCapacity(VehicleState.headerLength + content.count + VehicleState.digestLength)
        out.append(UInt8(VehicleState.formatVersion >> 8)); out.append(UInt8(VehicleState.formatVersion & 0xff))
        let length = UInt32(content.count)
        for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8((length >> UInt32(shift)) & 0xff)) }
        out += content
        out += SHA256.hash(out)
        return out
    }

    /// Restores a state stored by ``bytes(at:)``, its time counted on from the monotonic reading
    /// `now` (ns) of this run. The root is verified again (its own threshold of its own keys).
    /// - Throws: ``VehicleError`` `state_truncated`, `state_corrupt`, `state_malformed`,
    ///   `state_version_unsupported`.
    public init(bytes: [UInt8], at now: UInt64) throws {
        let header = VehicleState.headerLength, digest = VehicleState.digestLength
        let magic = VehicleState.magic
        if bytes.count < magic.count {
            guard bytes.elementsEqual(magic.prefix(bytes.count)) else { throw VehicleError(.stateMalformed, "not a vehicle state (no FODV magic)") }
            throw VehicleError(.stateTruncated, "the state is \(bytes.count) bytes: it ends inside its header")
        }
        guard bytes.prefix(magic.count).elementsEqual(magic) else { throw VehicleError(.stateMalformed, "not a vehicle state (no FODV magic)") }
        guard bytes.count >= header else { throw VehicleError(.stateTruncated, "the state is \(bytes.count) bytes: it ends inside its header") }
        let version = UInt16(bytes[4]) << 8 | UInt16(bytes[5])
        guard version == VehicleState.formatVersion else {
            throw VehicleError(.stateVersionUnsupported, "the state is format version \(version); this library reads version \(VehicleState.formatVersion)")
        }
        let length = bytes[6..<10].reduce(0) { $0 << 8 | Int($1) }
        guard length <= VehicleState.maxContentLength else { throw VehicleError(.stateCorrupt, "the state's length field (\(length)) is out of range") }
        let total = header + length + digest
        guard bytes.count >= total else {
            throw VehicleError(.stateTruncated, "the state is \(bytes.count) bytes of the \(total) its header announces: a torn write")
        }
        guard bytes.count == total else { throw VehicleError(.stateMalformed, "\(bytes.count - total) bytes follow the state") }
        guard SHA256.hash(bytes[0..<(header + length)]).elementsEqual(bytes[(header + length)...]) else {
            throw VehicleError(.stateCorrupt, "the state's checksum does not match its content")
        }
        do {
            try self.init(content: Array(bytes[header..<(header + length)]), at: now)
        } catch let error as VehicleError {
            throw error
        } catch let error as any CodedError {
            throw VehicleError(.stateMalformed, "the state's content is not valid: \(error.codeName): \(error.reason)")
        }
    }

    private init(content: [UInt8], at now: UInt64) throws {
        func fail(_ what: String) -> VehicleError { VehicleError(.stateMalformed, "the state's content: \(what)") }
        guard case .object(let object) = try JSONParser.parse(content) else { throw fail("not a JSON object") }
        func integer(_ name: String, in object: JSONObject) throws -> Int64 {
            guard let value = object[name]?.int64 else { throw fail("\(name) is missing or not an integer") }
            return value
        }
        func text(_ name: String, in object: JSONObject) throws -> String {
            guard let value = object[name]?.string else { throw fail("\(name) is missing or not a string") }
            return value
        }
        let vin = try VIN(strict: try text("vin", in: object))
        let market = try object["market"].map { value -> Market in
            guard let code = value.string else { throw fail("market is not a string") }
            return try Market(code)
        }
        let root = try SignedRoot(json: try text("root", in: object))
        let pinned = try integer("pinned_version", in: object)
        guard pinned >= 1, pinned <= root.metadata.version else { throw fail("pinned_version is not a version up to the newest root's") }
        var manifest: ManifestMark?
        if let value = object["manifest"] {
            guard case .object(let mark) = value else { throw fail("manifest is not an object") }
            manifest = ManifestMark(version: try integer("ver", in: mark), issuedAt: try integer("iat", in: mark),
                                    expiresAt: try integer("exp", in: mark))
        }
        guard let list = object["held"]?.elements else { throw fail("held is missing or not an array") }
        var held: [HeldEntitlement] = []
        for element in list {
            guard case .object(let item) = element else { throw fail("an entitlement held is not an object") }
            guard let source = HeldEntitlement.Source(rawValue: try text("source", in: item)) else { throw fail("an entitlement's source is unknown") }
            let entry = ManifestClaims.Entry(
                id: try EntitlementID(try text("jti", in: item)), feature: try FeatureCode(try text("feature", in: item)),
                term: try Term(validating: try text("term", in: item)), notBefore: try integer("nbf", in: item),
                expiresAt: try item["exp"].map { value -> Int64 in
                    guard let end = value.int64 else { throw fail("exp is not an integer") }
                    return end
                })
            held.append(HeldEntitlement(entry: entry, issuedAt: try integer("iat", in: item), source: source))
        }
        // Time since the attestation: what had passed when saved, plus — when the monotonic clock
        // reads more now than then — the difference (the same run of the clock; after a restart it
        // may count time that did not pass, which only ends the offline grace sooner).
        let savedAt = UInt64(clamping: try integer("saved_at", in: object))
        let gap = now > savedAt ? Int64(clamping: (now - savedAt) / 1_000_000_000) : 0
        let since = try integer("since_attested", in: object)
        let clock = AttestedClock(attested: try integer("attested", in: object), base: now)
            .rebased(passed: since.addingReportingOverflow(gap).overflow ? Int64.max : since + gap, at: now)
        self.init(vin: vin, market: market, offlineGrace: try integer("offline_grace", in: object), leeway: try integer("leeway", in: object),
                  pinnedVersion: pinned, trust: try TrustStore(pinned: root), clock: clock, manifest: manifest, held: held)
    }
}
