import FoDCore
import FoDEntitlements

extension OnboardVehicle {
    /// The state for people and logs, as JSON: who, what it trusts, its time, its newest manifest,
    /// and each entitlement held with whether it enables its feature at `now` and why not.
    public func descriptionJSON(at now: UInt64) -> [UInt8] {
        let state = snapshot
        let root = state.trust.root
        var writer = JSONWriter(capacity: 1024)
        writer.raw("{\"vin\":"); writer.string(state.vin.value)
        writer.raw(",\"market\":")
        if let market = state.market { writer.string(market.code) } else { writer.raw("null") }
        writer.raw(",\"pinned_root_version\":"); writer.int(state.pinnedVersion)
        writer.raw(",\"root_version\":"); writer.int(root.version)
        writer.raw(",\"root_expires_at\":"); writer.int(root.expiresAt)
        writer.raw(",\"issuing_keys\":[")
        for (index, key) in root.keySet(market: state.market).keys.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.string(key.keyID)
        }
        writer.raw("],\"manifest_version\":")
        if let manifest = state.manifest { writer.int(manifest.version) } else { writer.raw("null") }
        writer.raw(",\"attested_time\":"); writer.int(state.clock.attested)
        writer.raw(",\"seconds_since_attestation\":"); writer.int(state.clock.secondsSinceAttestation(at: now))
        writer.raw(",\"time_fresh\":"); writer.raw(state.clock.isFresh(at: now, grace: state.offlineGrace) ? "true" : "false")
        writer.raw(",\"time\":"); writer.int(state.clock.estimate(at: now))
        writer.raw(",\"entitlements\":[")
        for (index, held) in state.held.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.raw("{\"jti\":"); writer.string(held.entry.id.value)
            writer.raw(",\"feature\":"); writer.string(held.entry.feature.value)
            writer.raw(",\"term\":"); writer.string(held.entry.term.rawValue)
            writer.raw(",\"nbf\":"); writer.int(held.entry.notBefore)
            writer.raw(",\"exp\":")
            if let end = held.entry.expiresAt { writer.int(end) } else { writer.raw("null") }
            writer.raw(",\"source\":"); writer.string(held.source.rawValue)
            let refusal = OnboardVehicle.refusal(held, state, at: now)
            writer.raw(",\"enabled\":"); writer.raw(refusal == nil ? "true" : "false")
            writer.raw(",\"reason\":"); writer.string(refusal?.code ?? "ok")
            writer.raw("}")
        }
        writer.raw("]}")
        return writer.bytes
    }
}
