import FoDEntitlements

/// The answer to "is this feature enabled now?": yes, or no with the stable code of the reason.
public struct FeatureDecision: Sendable, Hashable {
    /// Whether the feature is enabled.
    public let enabled: Bool
    /// `ok` when enabled; otherwise `feature_not_entitled`, `not_yet_valid`, `expired` or
    /// `time_unattested`.
    public let code: String
    /// The entitlement that enables it, or the one the reason is about.
    public let entitlement: HeldEntitlement?
    /// The vehicle's time estimate the answer was given at (Unix seconds).
    public let at: Int64

    /// A decision.
    public init(enabled: Bool, code: String, entitlement: HeldEntitlement?, at: Int64) {
        self.enabled = enabled
        self.code = code
        self.entitlement = entitlement
        self.at = at
    }
}
