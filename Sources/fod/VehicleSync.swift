import FoDAPI
import FoDCore
import FoDCrypto
import FoDEntitlements
import FoDVehicle

/// One contact of a car with a fod service, as a car makes it: walk to the newest root version,
/// take attested time for a fresh nonce, take the manifest when it is newer. What the car refuses
/// is reported with its code and changes nothing; the steps taken before are kept.
enum VehicleSync {
    /// What a sync did.
    struct Report: Sendable {
        /// Root versions taken.
        var roots: [Int64] = []
        /// The attested time taken.
        var time: Int64?
        /// The manifest version taken, when a newer one was.
        var manifest: Int64?
        /// What the car refused: the step and the code.
        var refusals: [(step: String, code: String, reason: String)] = []
        /// The service's answer to the car's report of what it has (`nil`: not reported).
        var comparison: VehicleStateResponse?
    }

    /// The most root versions walked in one sync.
    static let maxRootSteps = 64

    /// Syncs `car` with the service; `persist` is called after every change (the state is stored
    /// as it goes, so an interrupted sync keeps what it took).
    /// - Throws: ``CommandError`` when the service cannot be reached or refuses a request.
    static func run(_ car: OnboardVehicle, client: VehicleClient, report: Bool = true,
                    persist: (OnboardVehicle) throws -> Void = { _ in }) async throws -> Report {
        var outcome = Report()
        for _ in 0..<maxRootSteps {
            let next = car.snapshot.trust.root.version + 1
            guard let document = try await client.root(next) else { break }
            do {
                outcome.roots.append(try car.applyRoot(document))
                try persist(car)
            } catch let error as EntitlementError {
                outcome.refusals.append(("root \(next)", error.codeName, error.reason))
                break
            }
        }
        let nonce = Base64URL.encode(SecureRandom.bytes(32))
        let time = try await client.time(nonce: nonce)
        do {
            outcome.time = try car.applyTime(time.token, nonce: nonce, at: VehicleFiles.monotonic())
            try persist(car)
        } catch let error as EntitlementError {
            outcome.refusals.append(("time", error.codeName, error.reason))
        }
        let manifest = try await client.manifest(car.snapshot.vin)
        if manifest.version > car.snapshot.manifest?.version ?? 0 {
            do {
                outcome.manifest = try car.applyManifest(manifest.manifest, at: VehicleFiles.monotonic()).version
                try persist(car)
            } catch let error as EntitlementError {
                outcome.refusals.append(("manifest \(manifest.version)", error.codeName, error.reason))
            }
        }
        if report {
            // The car reports back what it has; the service compares it with what it issued.
            let now = VehicleFiles.monotonic()
            let state = car.snapshot
            let enabled = Set(state.held.map(\.entry.feature)).filter { car.check($0, at: now).enabled }.sorted { $0.value < $1.value }
            outcome.comparison = try await client.reportState(VehicleStateRequest(manifestVersion: state.manifest?.version,
                                                                                  rootVersion: state.trust.root.version, enabled: enabled),
                                                              vin: state.vin)
        }
        return outcome
    }
}
