/*
 * The C test program of libfodvehicle (run by scripts/vehicle-sdk-test): drives the library
 * through a plan made from fixtures/trust/cases.json, fixtures/tokens/manifest.json and
 * fixtures/vehicle/cases.json — every step must give its expected code — then checks the
 * interface's own promises: wrong calls, buffers, the stored state (every prefix a torn write,
 * every changed byte refused), nonces.
 *
 *   vehicle_sdk_test PLAN REPOSITORY [STATE-SEED]
 *
 * STATE-SEED: where to write a stored state, as a seed for the fuzzer.
 * Exit status 0 when every case gives its expected code; the failures are listed.
 */
#include "fod_vehicle.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *repository;
static const char *state_sample;
static int cases_run, cases_failed, checks_run, checks_failed;

static char *read_file(const char *relative, size_t *length) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", repository, relative);
    FILE *file = fopen(path, "rb");
    if (!file) { fprintf(stderr, "cannot open %s\n", path); exit(2); }
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *bytes = malloc((size_t)size + 1);
    if (!bytes || fread(bytes, 1, (size_t)size, file) != (size_t)size) { fprintf(stderr, "cannot read %s\n", path); exit(2); }
    fclose(file);
    /* Tokens end with a newline in their files; a token is the line. */
    while (size > 0 && (bytes[size - 1] == '\n' || bytes[size - 1] == '\r')) size--;
    bytes[size] = 0;
    *length = (size_t)size;
    return bytes;
}

static void check(int condition, const char *what) {
    checks_run++;
    if (!condition) { checks_failed++; fprintf(stderr, "FAIL: %s\n", what); }
}

/* The outcome of a call: "ok", or the status code. */
static const char *outcome(int result, const fod_status *status) {
    return result == FOD_OK ? "ok" : status->code;
}

/* Splits a tab-separated line in place. */
static int split(char *line, char **fields, int capacity) {
    int count = 0;
    char *cursor = line;
    while (count < capacity) {
        fields[count++] = cursor;
        char *tab = strchr(cursor, '\t');
        if (!tab) break;
        *tab = 0;
        cursor = tab + 1;
    }
    return count;
}

struct run {
    char name[512];
    char expect[64];
    char result[64];   /* the outcome of the chain (steps expecting "~") */
    int failed;        /* a step did not give its expected code */
    int stopped;       /* a chain step failed: the rest of the case is skipped */
    fod_vehicle *vehicle;
    fod_keys *keys;
};

static void finish(struct run *run) {
    if (run->name[0] == 0) return;
    cases_run++;
    if (!run->failed && strcmp(run->result, run->expect) != 0) {
        run->failed = 1;
        fprintf(stderr, "FAIL: %s: expected %s, got %s\n", run->name, run->expect, run->result);
    }
    if (run->failed) cases_failed++;
    fod_vehicle_free(run->vehicle);
    fod_keys_free(run->keys);
    memset(run, 0, sizeof *run);
}

/* Records a step's outcome against its expectation ("~": part of the case's chain). */
static void step(struct run *run, const char *what, const char *got, const fod_status *status, const char *expect) {
    if (strcmp(expect, "~") == 0) {
        if (strcmp(got, "ok") != 0) {
            snprintf(run->result, sizeof run->result, "%s", got);
            run->stopped = 1;
        }
        return;
    }
    if (strcmp(got, expect) != 0) {
        if (!run->failed) fprintf(stderr, "FAIL: %s: %s: expected %s, got %s (%s)\n", run->name, what, expect, got, status->detail);
        run->failed = 1;
    }
}

static void run_plan(const char *plan_path) {
    FILE *plan = fopen(plan_path, "r");
    if (!plan) { fprintf(stderr, "cannot open %s\n", plan_path); exit(2); }
    struct run run;
    memset(&run, 0, sizeof run);
    char line[8192];
    while (fgets(line, sizeof line, plan)) {
        line[strcspn(line, "\n")] = 0;
        if (line[0] == 0 || line[0] == '#') continue;
        char *f[10];
        int n = split(line, f, 10);
        fod_status status;
        memset(&status, 0, sizeof status);
        if (strcmp(f[0], "case") == 0 && n == 3) {
            finish(&run);
            snprintf(run.expect, sizeof run.expect, "%s", f[1]);
            snprintf(run.name, sizeof run.name, "%s", f[2]);
            strcpy(run.result, "ok");
            continue;
        }
        if (run.stopped) continue;
        size_t length = 0;
        if (strcmp(f[0], "new") == 0 && n == 8) {
            char *root = read_file(f[3], &length);
            run.vehicle = fod_vehicle_new(f[1], strcmp(f[2], "-") == 0 ? NULL : f[2], root, length, strtoll(f[4], NULL, 10),
                                          strtoll(f[5], NULL, 10), strtoull(f[6], NULL, 10), &status);
            free(root);
            step(&run, "new", run.vehicle ? "ok" : status.code, &status, f[7]);
            if (!run.vehicle) run.stopped = 1;
        } else if (strcmp(f[0], "root") == 0 && n == 3) {
            char *root = read_file(f[1], &length);
            step(&run, f[1], outcome(fod_vehicle_apply_root(run.vehicle, root, length, &status), &status), &status, f[2]);
            free(root);
        } else if (strcmp(f[0], "trust") == 0 && n == 3) {
            step(&run, "trust", outcome(fod_vehicle_check_trust(run.vehicle, strtoull(f[1], NULL, 10), &status), &status), &status, f[2]);
        } else if (strcmp(f[0], "time") == 0 && n == 5) {
            char *token = read_file(f[1], &length);
            step(&run, f[1], outcome(fod_vehicle_apply_time(run.vehicle, token, length, f[2], strtoull(f[3], NULL, 10), &status), &status),
                 &status, f[4]);
            free(token);
        } else if (strcmp(f[0], "manifest") == 0 && n == 4) {
            char *token = read_file(f[1], &length);
            step(&run, f[1], outcome(fod_vehicle_apply_manifest(run.vehicle, token, length, strtoull(f[2], NULL, 10), &status), &status),
                 &status, f[3]);
            free(token);
        } else if (strcmp(f[0], "entitlement") == 0 && n == 4) {
            char *token = read_file(f[1], &length);
            step(&run, f[1], outcome(fod_vehicle_apply_entitlement(run.vehicle, token, length, strtoull(f[2], NULL, 10), &status), &status),
                 &status, f[3]);
            free(token);
        } else if (strcmp(f[0], "feature") == 0 && n == 4) {
            char what[128];
            snprintf(what, sizeof what, "feature %s", f[1]);
            step(&run, what, outcome(fod_vehicle_feature_enabled(run.vehicle, f[1], strtoull(f[2], NULL, 10), &status), &status), &status, f[3]);
        } else if (strcmp(f[0], "reload") == 0 && n == 3) {
            /* Stored at the step's time, started again on a monotonic clock at 0 (a restart). */
            size_t needed = 0;
            fod_vehicle_save(run.vehicle, strtoull(f[1], NULL, 10), NULL, 0, &needed, &status);
            uint8_t *bytes = malloc(needed);
            int saved = fod_vehicle_save(run.vehicle, strtoull(f[1], NULL, 10), bytes, needed, &length, &status);
            fod_vehicle_free(run.vehicle);
            run.vehicle = saved == FOD_OK ? fod_vehicle_load(bytes, length, 0, &status) : NULL;
            free(bytes);
            step(&run, "reload", run.vehicle ? "ok" : status.code, &status, f[2]);
            if (!run.vehicle) run.stopped = 1;
        } else if (strcmp(f[0], "keys") == 0 && n == 3) {
            char *jwks = read_file(f[1], &length);
            run.keys = fod_keys_new(jwks, length, f[2], &status);
            free(jwks);
            step(&run, "keys", run.keys ? "ok" : status.code, &status, "ok");
            if (!run.keys) run.stopped = 1;
        } else if (strcmp(f[0], "verify") == 0 && n == 8) {
            char *token = read_file(f[2], &length);
            fod_token_kind kind = f[1][0] == 'm' ? FOD_TOKEN_MANIFEST : FOD_TOKEN_ENTITLEMENT;
            step(&run, f[2], outcome(fod_verify(run.keys, kind, token, length, strcmp(f[3], "-") == 0 ? NULL : f[3], strtoll(f[4], NULL, 10),
                                                strtoll(f[5], NULL, 10), strtoll(f[6], NULL, 10), &status), &status), &status, f[7]);
            free(token);
        } else {
            fprintf(stderr, "plan: cannot read the line \"%s\"\n", f[0]);
            exit(2);
        }
    }
    finish(&run);
    fclose(plan);
}

/* The interface's own promises. */
static void check_interface(void) {
    fod_status status;
    size_t length = 0, needed = 0;
    char *root = read_file("fixtures/trust/root-1.json", &length);
    const char *vin = "WVWZZZ1KZAW394821";

    check(strncmp(fod_vehicle_library_version(), "fodvehicle 1", 12) == 0, "the library names its interface version");
    check(fod_vehicle_new(NULL, NULL, root, length, 0, 0, 0, &status) == NULL && strcmp(status.code, "argument_invalid") == 0,
          "a NULL vin is argument_invalid");
    check(fod_vehicle_new("wvwzzz1kzaw394821", NULL, root, length, 0, 0, 0, &status) == NULL && strcmp(status.code, "vin_malformed") == 0,
          "a VIN not normalized is vin_malformed");
    check(fod_vehicle_new(vin, "Germany", root, length, 0, 0, 0, &status) == NULL && strcmp(status.code, "market_invalid") == 0,
          "a market not ISO 3166-1 alpha-2 is market_invalid");
    check(fod_vehicle_new(vin, NULL, root, length / 2, 0, 0, 0, &status) == NULL && strcmp(status.code, "root_malformed") == 0,
          "half a root is root_malformed");
    check(fod_vehicle_apply_root(NULL, root, length, &status) == FOD_ERROR && strcmp(status.code, "argument_invalid") == 0,
          "a NULL vehicle is FOD_ERROR argument_invalid");
    check(fod_vehicle_apply_root(NULL, root, length, NULL) == FOD_ERROR, "a NULL status is allowed");

    fod_vehicle *vehicle = fod_vehicle_new(vin, "DE", root, length, 1801785600, 604800, 10, &status);
    check(vehicle != NULL && strcmp(status.code, "ok") == 0, "a vehicle on root 1");
    check(fod_vehicle_feature_enabled(vehicle, "matrix led", 10, &status) == FOD_ERROR && strcmp(status.code, "feature_invalid") == 0,
          "a malformed feature code is FOD_ERROR feature_invalid");
    check(fod_vehicle_feature_enabled(vehicle, "MATRIX_LED", 10, &status) == FOD_REFUSED && strcmp(status.code, "feature_not_entitled") == 0,
          "nothing held: feature_not_entitled");
    check(fod_vehicle_apply_manifest(vehicle, NULL, 5, 10, &status) == FOD_ERROR, "a NULL token with a length is FOD_ERROR");
    check(fod_vehicle_apply_manifest(vehicle, "", 0, 10, &status) == FOD_REFUSED && strcmp(status.code, "token_malformed") == 0,
          "an empty manifest is token_malformed");

    /* Buffers: too small says how much is needed and writes nothing. */
    char small[8] = "XXXXXXX";
    check(fod_vehicle_describe(vehicle, 10, small, sizeof small, &needed, &status) == FOD_ERROR && strcmp(status.code, "buffer_too_small") == 0
          && needed > sizeof small && strcmp(small, "XXXXXXX") == 0, "describe into a small buffer: buffer_too_small, the size needed");
    char *text = malloc(needed + 1);
    check(fod_vehicle_describe(vehicle, 10, text, needed + 1, &length, &status) == FOD_OK && length == needed && text[length] == 0
          && strstr(text, "\"root_version\":1") != NULL && strstr(text, "\"market\":\"DE\"") != NULL, "describe: JSON with the root version");
    free(text);

    /* The stored state: back as it was; every prefix is a torn write; every changed byte is refused. */
    check(fod_vehicle_save(vehicle, 10, NULL, 0, &needed, &status) == FOD_ERROR && strcmp(status.code, "buffer_too_small") == 0 && needed > 0,
          "save asks for its size");
    uint8_t *bytes = malloc(needed);
    check(fod_vehicle_save(vehicle, 10, bytes, needed, &length, &status) == FOD_OK && length == needed, "save writes the state");
    fod_vehicle *again = fod_vehicle_load(bytes, length, 10, &status);
    check(again != NULL, "the state loads");
    uint8_t *second = malloc(needed);
    size_t second_length = 0;
    check(again && fod_vehicle_save(again, 10, second, needed, &second_length, &status) == FOD_OK && second_length == length
          && memcmp(bytes, second, length) == 0, "loaded and saved at once, the same bytes");
    fod_vehicle_free(again);
    int torn = 0, changed = 0;
    for (size_t prefix = 0; prefix < length; prefix++) {
        fod_vehicle *partial = fod_vehicle_load(bytes, prefix, 0, &status);
        if (partial == NULL && strcmp(status.code, "state_truncated") == 0) torn++;
        fod_vehicle_free(partial);
    }
    check(torn == (int)length, "every prefix of the state is state_truncated");
    for (size_t index = 0; index < length; index++) {
        uint8_t copy = bytes[index];
        bytes[index] ^= (uint8_t)(1u << (index % 8));
        fod_vehicle *broken = fod_vehicle_load(bytes, length, 0, &status);
        if (broken == NULL && strncmp(status.code, "state_", 6) == 0) changed++;
        fod_vehicle_free(broken);
        bytes[index] = copy;
    }
    check(changed == (int)length, "every changed bit of the state is refused with a state_ code");
    if (state_sample) {
        FILE *file = fopen(state_sample, "wb");
        uint8_t op = 0;  /* the fuzzer's first byte: 0 loads a state */
        if (file) { fwrite(&op, 1, 1, file); fwrite(bytes, 1, length, file); fclose(file); }
    }
    free(bytes);
    free(second);

    char nonce[44], other[44];
    check(fod_make_nonce(nonce, sizeof nonce, &status) == FOD_OK && strlen(nonce) == 43, "a nonce is 43 base64url characters");
    check(fod_make_nonce(other, sizeof other, &status) == FOD_OK && strcmp(nonce, other) != 0, "two nonces differ");
    check(fod_make_nonce(nonce, 43, &status) == FOD_ERROR && strcmp(status.code, "buffer_too_small") == 0, "a nonce needs 44 bytes");
    fod_vehicle_free(vehicle);
    fod_vehicle_free(NULL);
    fod_keys_free(NULL);
    free(root);
}

/* Threads: one vehicle used from four threads at once — checks, saves, refused applies — as the
 * header promises (calls on one vehicle are serialized by the library). */
struct shared_vehicle {
    fod_vehicle *vehicle;
    const char *manifest;
    size_t manifest_length;
    int failures;
};

static void *hammer(void *argument) {
    struct shared_vehicle *shared = argument;
    fod_status status;
    uint8_t buffer[16384];
    size_t length;
    for (int i = 0; i < 500; i++) {
        int enabled = fod_vehicle_feature_enabled(shared->vehicle, "MATRIX_LED", 1000, &status);
        int saved = fod_vehicle_save(shared->vehicle, 1000, buffer, sizeof buffer, &length, &status);
        int again = fod_vehicle_apply_manifest(shared->vehicle, shared->manifest, shared->manifest_length, 1000, &status);
        if (enabled != FOD_OK || saved != FOD_OK || again != FOD_REFUSED || strcmp(status.code, "manifest_rollback") != 0) {
            __atomic_add_fetch(&shared->failures, 1, __ATOMIC_RELAXED);
        }
    }
    return NULL;
}

static void check_threads(void) {
    size_t length = 0, manifest_length = 0, time_length = 0;
    char *root = read_file("fixtures/trust/root-1.json", &length);
    fod_status status;
    fod_vehicle *vehicle = fod_vehicle_new("WVWZZZ1KZAW394821", "DE", root, length, 1801785600, 604800, 0, &status);
    char *root2 = read_file("fixtures/trust/root-2.json", &length);
    char *root3 = read_file("fixtures/trust/root-3.json", &length);
    fod_vehicle_apply_root(vehicle, root2, strlen(root2), &status);
    fod_vehicle_apply_root(vehicle, root3, strlen(root3), &status);
    char *time = read_file("fixtures/vehicle/time-1.jwt", &time_length);
    char *manifest = read_file("fixtures/vehicle/manifest-2.jwt", &manifest_length);
    int ready = fod_vehicle_apply_time(vehicle, time, time_length, "nonce-one-000000000001", 500, &status) == FOD_OK
        && fod_vehicle_apply_manifest(vehicle, manifest, manifest_length, 500, &status) == FOD_OK;
    check(ready, "threads: a vehicle with time and a manifest");
    struct shared_vehicle shared = {vehicle, manifest, manifest_length, 0};
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) pthread_create(&threads[i], NULL, hammer, &shared);
    for (int i = 0; i < 4; i++) pthread_join(threads[i], NULL);
    check(shared.failures == 0, "threads: 4 × 500 checks, saves and refused applies on one vehicle at once, each answered as alone");
    fod_vehicle_free(vehicle);
    free(root);
    free(root2);
    free(root3);
    free(time);
    free(manifest);
}

int main(int argc, char **argv) {
    if (argc != 3 && argc != 4) {
        fprintf(stderr, "usage: vehicle_sdk_test PLAN REPOSITORY [STATE-SEED]\n");
        return 2;
    }
    repository = argv[2];
    state_sample = argc == 4 ? argv[3] : NULL;
    run_plan(argv[1]);
    check_interface();
    check_threads();
    printf("vehicle_sdk_test: %d cases, %d failed; %d interface checks, %d failed (%s)\n", cases_run, cases_failed, checks_run,
           checks_failed, fod_vehicle_library_version());
    return cases_failed == 0 && checks_failed == 0 && cases_run > 0 ? 0 : 1;
}
