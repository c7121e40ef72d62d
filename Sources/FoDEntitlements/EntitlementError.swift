import FoDCore

/// The one error type of `FoDEntitlements`: every validation and verification failure.
///
/// Equatable by ``code``; callers and tests match on the stable code, people read the ``reason``.
public struct EntitlementError: CodedError {
    /// This module's codes (listed in the extension of ``ErrorCode`` below).
    public typealias Code = ErrorCode<EntitlementError>

    /// The stable code.
    public let code: Code
    /// A human-readable explanation; never contains key material.
    public let reason: String

    /// Creates an error with a code and a reason.
    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }
}

extension ErrorCode where Domain == EntitlementError {
    /// Whether the code says a VIN is wrong (`vin_malformed`, `vin_check_digit`): the dealer page
    /// words those for the person who typed it.
    public var concernsVIN: Bool { self == .vinMalformed || self == .vinCheckDigit }

    // Verification procedure, step 1: size and shape.
    /// The compact token is longer than the configured limit (8 KiB by default).
    public static let tokenTooLarge = ErrorCode("token_too_large")
    /// Not exactly three `.`-separated segments.
    public static let tokenMalformed = ErrorCode("token_malformed")
    // Step 2.
    /// A segment is not canonical unpadded base64url.
    public static let tokenBase64 = ErrorCode("token_base64")
    // Step 3: header.
    /// The header is not a JSON object (or has duplicate members).
    public static let headerMalformed = ErrorCode("header_malformed")
    /// The header has a member other than `alg`, `kid`, `typ`.
    public static let headerMemberUnknown = ErrorCode("header_member_unknown")
    /// The header has `crit`.
    public static let headerCrit = ErrorCode("header_crit")
    /// `alg` is missing or is not `ES256` / `EdDSA` (`none` and HMAC are never accepted).
    public static let algNotAllowed = ErrorCode("alg_not_allowed")
    /// `typ` is missing or not the expected token type.
    public static let typMismatch = ErrorCode("typ_mismatch")
    /// The header has no `kid`.
    public static let kidMissing = ErrorCode("kid_missing")
    // Step 4: key.
    /// No trusted key has this `kid`.
    public static let keyUnknown = ErrorCode("key_unknown")
    /// The header's `alg` is not the algorithm of the key it names.
    public static let keyAlgMismatch = ErrorCode("key_alg_mismatch")
    /// The key's validity starts later.
    public static let keyNotYetValid = ErrorCode("key_not_yet_valid")
    /// The key's validity has ended.
    public static let keyExpired = ErrorCode("key_expired")
    /// The key has been revoked.
    public static let keyRevoked = ErrorCode("key_revoked")
    /// The key may not sign this type of token (its scope in the root metadata).
    public static let keyScope = ErrorCode("key_scope")
    // Step 5: signature.
    /// The signature is not exactly 64 bytes.
    public static let signatureLength = ErrorCode("signature_length")
    /// The signature does not verify.
    public static let signatureInvalid = ErrorCode("signature_invalid")
    // Step 6: claims.
    /// The payload is not a JSON object.
    public static let claimsMalformed = ErrorCode("claims_malformed")
    /// The payload has a member name twice.
    public static let claimsDuplicate = ErrorCode("claims_duplicate")
    /// A required claim is absent.
    public static let claimMissing = ErrorCode("claim_missing")
    /// A claim has the wrong JSON type.
    public static let claimType = ErrorCode("claim_type")
    /// A claim's value is not acceptable (a bad feature code, an unknown term, `exp` before `nbf`, …).
    public static let claimInvalid = ErrorCode("claim_invalid")
    /// The payload has a claim fod does not define.
    public static let claimUnknown = ErrorCode("claim_unknown")
    /// `iss` is not the expected issuer.
    public static let issuerMismatch = ErrorCode("issuer_mismatch")
    /// `sub` is not a well-formed, normalized VIN.
    public static let subjectInvalid = ErrorCode("subject_invalid")
    /// `sub` is not the vehicle the caller named.
    public static let vinMismatch = ErrorCode("vin_mismatch")
    /// `nbf` is in the future (beyond the leeway).
    public static let notYetValid = ErrorCode("not_yet_valid")
    /// `exp` has passed (beyond the leeway).
    public static let expired = ErrorCode("expired")
    /// `iat` is in the future (beyond the leeway).
    public static let issuedInFuture = ErrorCode("issued_in_future")
    // Step 7.
    /// The entitlement id is revoked.
    public static let revoked = ErrorCode("revoked")
    // Root metadata (docs/trust.md).
    /// Root metadata is not well-formed (serialization, claims, keys, threshold).
    public static let rootMalformed = ErrorCode("root_malformed")
    /// A root version not newer than the trusted one.
    public static let rootRollback = ErrorCode("root_rollback")
    /// A root version more than one newer than the trusted one.
    public static let rootVersionSkipped = ErrorCode("root_version_skipped")
    /// Fewer valid signatures than the threshold of the trusted version or of the new one.
    public static let rootThreshold = ErrorCode("root_threshold")
    /// The newest trusted root has expired.
    public static let rootExpired = ErrorCode("root_expired")
    /// A key set or a root names one key id twice.
    public static let keySetKidDuplicate = ErrorCode("keyset_kid_duplicate")
    // Attested time.
    /// A nonce is not 16 to 128 base64url characters.
    public static let nonceInvalid = ErrorCode("nonce_invalid")
    /// A time token answers another nonce.
    public static let timeNonceMismatch = ErrorCode("time_nonce_mismatch")
    /// An attested time before the one accepted already.
    public static let timeRollback = ErrorCode("time_rollback")
    /// A time-limited entitlement, with no attested time within the offline grace.
    public static let timeUnattested = ErrorCode("time_unattested")
    // Manifests.
    /// The manifest's `ver` is not greater than the version last accepted.
    public static let manifestRollback = ErrorCode("manifest_rollback")

    // Domain values, validated at the border.
    /// Not a VIN: wrong length or a character outside the VIN alphabet.
    public static let vinMalformed = ErrorCode("vin_malformed")
    /// A North-American VIN whose check digit (position 9) is wrong.
    public static let vinCheckDigit = ErrorCode("vin_check_digit")
    /// Not a feature code `[A-Z][A-Z0-9_]{1,31}`.
    public static let featureInvalid = ErrorCode("feature_invalid")
    /// Not one of the terms.
    public static let termInvalid = ErrorCode("term_invalid")
    /// Not a dealer id.
    public static let dealerInvalid = ErrorCode("dealer_invalid")
    /// Not an issuer name.
    public static let issuerInvalid = ErrorCode("issuer_invalid")
    /// Not an entitlement id.
    public static let idInvalid = ErrorCode("id_invalid")
    /// Not an ECU identifier.
    public static let ecuInvalid = ErrorCode("ecu_invalid")
    /// An issue request is inconsistent (for example an end before the start).
    public static let requestInvalid = ErrorCode("request_invalid")
    /// A JWK Set is malformed or carries something it must not (a private key, a wrong kid).
    public static let keySetInvalid = ErrorCode("keyset_invalid")
    /// Text is not valid JSON.
    public static let jsonMalformed = ErrorCode("json_malformed")
    /// A JSON object names a member twice.
    public static let jsonDuplicateMember = ErrorCode("json_duplicate_member")
    /// A JSON document has a member its type does not define.
    public static let fieldUnknown = ErrorCode("field_unknown")
    /// A JSON document lacks a required member.
    public static let fieldMissing = ErrorCode("field_missing")
    /// A member of a JSON document has the wrong JSON type.
    public static let fieldType = ErrorCode("field_type")
    /// Signing failed inside OpenSSL.
    public static let signingFailed = ErrorCode("signing_failed")
}
