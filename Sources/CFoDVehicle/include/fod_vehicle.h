/*
 * fod_vehicle.h — fod's vehicle side for C and C++ (libfodvehicle).
 *
 * The rules a car applies to what fod signs, exactly as the service and `fod verify` apply them:
 * root metadata walked from the pinned version (threshold, rollback, skipped versions, expiry),
 * attested time answering the car's nonce, manifests with anti-rollback versions, single
 * entitlement tokens, and "is this feature enabled now?" against the car's attested time and its
 * offline grace. Every refusal carries the stable code `fod verify` gives for the same input
 * (docs/token-format.md, docs/trust.md); docs/vehicle-sdk.md is the guide.
 *
 * Build: `swift build -c release --product fodvehicle` makes .build/release/libfodvehicle.so;
 * `--product fodvehicle_static` makes libfodvehicle_static.a. scripts/vehicle-sdk-test shows the
 * link line for each.
 *
 * Memory: the library allocates only the handles it returns (freed with fod_vehicle_free and
 * fod_keys_free). Every other answer is written into memory the caller provides: a fod_status,
 * or a buffer and its capacity (too small: FOD_ERROR, code "buffer_too_small", *length = the
 * size needed).
 *
 * Threads: every function may be called from any thread. Calls on one fod_vehicle are serialized
 * by the library (a lock per vehicle); different vehicles and fod_keys never share state. A handle
 * must not be freed while another thread uses it.
 *
 * Time: the library never reads a wall clock. Calls that need time take `mono_ms`, a reading in
 * milliseconds of the car's monotonic clock (CLOCK_MONOTONIC or a tick counter: it never goes
 * back while the software runs; it may start again at 0 after a restart). The car's time is the
 * newest attested time plus the monotonic time since. Across fod_vehicle_save and
 * fod_vehicle_load the time passed since the attestation is carried, and when the clock reads more
 * at the load than at the save, the difference is counted too (after a restart that may count time
 * that did not pass: it only ends the offline grace sooner). Time the car was switched off is not
 * counted: it has no clock it can trust for that.
 *
 * Stored state: fod_vehicle_save writes bytes the car keeps where it likes (flash, a file). They
 * carry a format version and a SHA-256 checksum: a torn write is "state_truncated", a changed byte
 * "state_corrupt". On either, the car starts again from its pinned root (fod_vehicle_new) and
 * syncs; keep two slots (write the new state to the other one, then switch) so that a torn write
 * loses at most the last change.
 */
#ifndef FOD_VEHICLE_H
#define FOD_VEHICLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The version of this interface. */
#define FOD_VEHICLE_API_VERSION 1

/** Accepted; or, for fod_vehicle_feature_enabled, enabled. status->code is "ok". */
#define FOD_OK 0
/** Refused by a rule (or the feature is not enabled): status->code is the stable code. Nothing changed. */
#define FOD_REFUSED 1
/** The call itself is wrong — a NULL pointer, a malformed argument, a buffer too small. Nothing changed. */
#define FOD_ERROR 2

/** What a call says beside its result: the stable code and a reason for people. 256 bytes. */
typedef struct fod_status {
    /** "ok" or the stable code, such as "manifest_rollback"; NUL-terminated. */
    char code[40];
    /** A human-readable reason, NUL-terminated, cut to fit; never key material. */
    char detail[216];
} fod_status;

/** A vehicle: its pinned and newest root, time, newest manifest version and entitlements held. */
typedef struct fod_vehicle fod_vehicle;

/** A fixed key set with an issuer, for checking tokens against a given time (tools, conformance). */
typedef struct fod_keys fod_keys;

/** The kinds of token fod_verify checks. */
typedef enum fod_token_kind {
    FOD_TOKEN_ENTITLEMENT = 1,
    FOD_TOKEN_MANIFEST = 2,
    FOD_TOKEN_TIME = 3
} fod_token_kind;

/** "fodvehicle <API version> (state format <n>)"; a static string. */
const char *fod_vehicle_library_version(void);

/**
 * A new vehicle on its pinned root (root 1 from the factory, or the version it was given by a
 * trusted channel), which must carry its own threshold of signatures.
 * vin: 17 characters, normalized. market: ISO 3166-1 alpha-2, or NULL (keys of every market).
 * production_time: Unix seconds the car's time starts from until its first attestation.
 * offline_grace: seconds after the last attestation that time-limited entitlements stay enabled.
 * Returns NULL on failure (status: "vin_malformed", "market_invalid", "root_malformed", "root_threshold", …).
 */
fod_vehicle *fod_vehicle_new(const char *vin, const char *market, const char *root_json, size_t root_length,
                             int64_t production_time, int64_t offline_grace, uint64_t mono_ms, fod_status *status);

/** A vehicle from bytes fod_vehicle_save wrote. NULL on failure: "state_truncated", "state_corrupt",
 *  "state_malformed", "state_version_unsupported". */
fod_vehicle *fod_vehicle_load(const uint8_t *bytes, size_t length, uint64_t mono_ms, fod_status *status);

/** Writes the state to store into buffer (capacity bytes); *length = its size. */
int fod_vehicle_save(fod_vehicle *vehicle, uint64_t mono_ms, uint8_t *buffer, size_t capacity, size_t *length,
                     fod_status *status);

/** Frees a vehicle (NULL is allowed). */
void fod_vehicle_free(fod_vehicle *vehicle);

/** Takes root version N+1 on top of the newest trusted N: "root_malformed", "issuer_mismatch",
 *  "root_rollback", "root_version_skipped", "root_threshold", "keyset_kid_duplicate". An expired
 *  version is taken as a step (fod_vehicle_check_trust says whether the newest has expired). */
int fod_vehicle_apply_root(fod_vehicle *vehicle, const char *root_json, size_t length, fod_status *status);

/** FOD_OK while the newest trusted root is current at the car's time; else "root_expired" (fetch a newer one). */
int fod_vehicle_check_trust(fod_vehicle *vehicle, uint64_t mono_ms, fod_status *status);

/** Writes a fresh nonce (43 base64url characters and a NUL: capacity at least 44) from the
 *  system's random source, for the car to send with its request for attested time. */
int fod_make_nonce(char *buffer, size_t capacity, fod_status *status);

/** Takes an attested time (a fod-time+jwt answering `nonce`, signed by a key with scope time):
 *  "time_nonce_mismatch", "time_rollback", "key_scope", "signature_invalid", "root_expired", … */
int fod_vehicle_apply_time(fod_vehicle *vehicle, const char *token, size_t length, const char *nonce,
                           uint64_t mono_ms, fod_status *status);

/** Takes a manifest for this vehicle, newer than the one held; it becomes the list of what the car
 *  holds: "manifest_rollback", "vin_mismatch", "typ_mismatch", "key_scope", "key_unknown",
 *  "signature_invalid", "expired", "root_expired", … */
int fod_vehicle_apply_manifest(fod_vehicle *vehicle, const char *token, size_t length, uint64_t mono_ms,
                               fod_status *status);

/** Takes a single entitlement token for this vehicle (kept until a later manifest leaves it out):
 *  the codes of fod verify, "time_unattested" for a time-limited one without a fresh attested time. */
int fod_vehicle_apply_entitlement(fod_vehicle *vehicle, const char *token, size_t length, uint64_t mono_ms,
                                  fod_status *status);

/** FOD_OK when `feature` is enabled now; FOD_REFUSED with the reason: "feature_not_entitled",
 *  "not_yet_valid", "expired", "time_unattested". */
int fod_vehicle_feature_enabled(fod_vehicle *vehicle, const char *feature, uint64_t mono_ms, fod_status *status);

/** Writes the state for people and logs as JSON (NUL-terminated; *length excludes the NUL): vin,
 *  market, pinned and newest root version, issuing keys, manifest version, attested time, time
 *  since, and each entitlement held with whether it enables its feature now and why not. */
int fod_vehicle_describe(fod_vehicle *vehicle, uint64_t mono_ms, char *buffer, size_t capacity, size_t *length,
                         fod_status *status);

/** A key set (a JWK Set or a single JWK, public keys only) and the issuer tokens must name.
 *  NULL on failure: "keyset_invalid", "keyset_kid_duplicate", "issuer_invalid". */
fod_keys *fod_keys_new(const char *jwks, size_t length, const char *issuer, fod_status *status);

/** Frees a key set (NULL is allowed). */
void fod_keys_free(fod_keys *keys);

/** Checks a token as `fod verify --at now` does: kind, vin (NULL: any), last_version (manifests;
 *  negative: none held), now (Unix seconds), leeway (seconds). */
int fod_verify(const fod_keys *keys, fod_token_kind kind, const char *token, size_t length, const char *vin,
               int64_t last_version, int64_t now, int64_t leeway, fod_status *status);

#ifdef __cplusplus
}
#endif

#endif /* FOD_VEHICLE_H */
