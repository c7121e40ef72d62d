/// One short summary per problem type (RFC 9457 §3.1.3: the `title` of a type does not change
/// from one occurrence to the next; the `detail` says what happened this time).
enum ProblemTitles {
    /// The title of a problem code: the table's, else the code's words (`vin_check_digit` →
    /// "Vin check digit"), so every type has one fixed title.
    static func title(_ code: String) -> String {
        if let title = table[code] { return title }
        let words = code.split(separator: "_").joined(separator: " ")
        return words.prefix(1).uppercased() + words.dropFirst()
    }

    private static let table: [String: String] = [
        // Requests
        "body_malformed": "The request body is not a JSON object",
        "body_too_large": "The request body is too large",
        "request_malformed": "The request is not valid HTTP",
        "headers_too_large": "The request headers are too large",
        "unsupported_media_type": "The request body is not JSON",
        "form_expected": "The request is not a form",
        "field_unknown": "A field is not part of this request",
        "field_missing": "A required field is missing",
        "field_type": "A field has the wrong type",
        "field_invalid": "A field's value is not valid",
        "query_invalid": "A query parameter is not valid",
        "period_required": "The period is missing",
        "idempotency_key_required": "An Idempotency-Key header is required",
        "idempotency_key_reused": "The Idempotency-Key was used for another request",
        "method_not_allowed": "The method is not allowed on this resource",
        "not_found": "No such resource",
        "rate_limited": "Too many requests; retry in a second",
        // Hardening II
        "consent_invalid": "The consent's acknowledgement does not belong to this sale",
        "transfer_pending": "The vehicle changes owner before this term would start",
        "effective_at_before_registration": "The change of owner is dated before the vehicle was registered",
        "effective_at_out_of_range": "The change of owner is dated too far ahead",
        "subscription_ended": "The subscription has ended",
        "after_beyond_newest": "No event that late exists",
        "amount_implausible": "The adjustment is larger than the limit",
        "adjustment_total_exceeded": "Too much is waiting to be adjusted",
        "dealer_not_found": "No such dealer",
        "renewal_keys_mismatch": "The renewal does not verify with the published keys",
        // Access
        "unauthorized": "A valid API key is required",
        "forbidden": "The key's role does not allow this",
        "four_eyes_required": "This takes two people in the back office",
        "csrf_invalid": "The form's CSRF token is not valid",
        "not_signed_in": "Not signed in",
        // Domain values
        "vin_malformed": "The VIN is malformed",
        "vin_check_digit": "The VIN's check digit is wrong",
        "vin_mismatch": "The token is for another vehicle",
        "id_invalid": "The id is not valid",
        "feature_invalid": "The feature code is not valid",
        "term_invalid": "The term is not valid",
        "dealer_invalid": "The dealer id is not valid",
        "market_invalid": "The market is not valid",
        "currency_unknown": "The currency is not known",
        // Catalog and activations
        "vehicle_not_found": "The vehicle is not registered",
        "feature_unknown": "The feature is not in the catalog",
        "entitlement_not_found": "No such entitlement",
        "dealer_unknown": "The dealer is not known",
        "not_eligible": "The vehicle is not eligible for the feature",
        "term_not_offered": "The term is not offered in the vehicle's market",
        "already_active": "The feature is already active",
        "trial_used": "The free trial was used already",
        "conflict": "The request conflicts with the stored state",
        // Purchases and withdrawals
        "price_mismatch": "The price is not the catalog's",
        "no_servicing_dealer": "The vehicle has no servicing dealer",
        "order_id_reused": "The order id was used for another purchase",
        "not_a_sale": "The entitlement was not sold",
        "already_refunded": "The sale was already refunded or withdrawn",
        "withdrawal_period_over": "The withdrawal period is over",
        "withdrawal_right_lapsed": "The withdrawal right lapsed with the early start",
        "withdrawal_not_applicable": "A renewal cannot be withdrawn",
        "not_a_subscription": "The entitlement is not a subscription",
        "already_cancelled": "The subscription is cancelled already",
        "not_revoked": "The entitlement is not revoked",
        "extension_invalid": "Only fixed terms and permanent extend",
        "transfer_recorded": "A transfer at that moment is recorded already",
        "nothing_to_extend": "The feature is not active with a fixed term",
        "already_extended": "The entitlement was extended meanwhile",
        "refund_not_reinstatable": "A refund or withdrawal is not undone",
        // Tokens
        "token_malformed": "The token is not a compact JWS",
        "token_too_large": "The token is too large",
        "signature_invalid": "The token's signature does not verify",
        "expired": "The token has expired",
        "not_yet_valid": "The token is not valid yet",
        "revoked": "The entitlement was revoked",
        "key_unknown": "The token's signing key is not known",
        // The service
        "store_database": "The database is unavailable",
        "store_busy": "The database is busy",
        "not_ready": "The service is not ready",
        "shutting_down": "The service is shutting down",
        "internal": "An unexpected error occurred",
    ]
}
