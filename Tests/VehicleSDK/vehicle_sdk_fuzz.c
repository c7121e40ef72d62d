/*
 * Fuzzing libfodvehicle's apply functions (run by scripts/vehicle-sdk-test, bounded in runs).
 * The first byte of an input picks the call, the rest is its argument: a stored state, a root,
 * a manifest, an entitlement, a time token, a token for fod_verify. Nothing may crash; every
 * answer must be FOD_OK, FOD_REFUSED or FOD_ERROR with a NUL-terminated code.
 *
 * With clang, built with -fsanitize=fuzzer (libFuzzer) and seeded with the fixtures. Without it,
 * FOD_FUZZ_STANDALONE adds a main that mutates the seeds at random for a bounded number of runs.
 * The library itself is not instrumented: libFuzzer's coverage is the harness's, so the inputs
 * come from mutating the seeds rather than from coverage inside the library.
 */
#include "fod_vehicle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static fod_vehicle *vehicle;
static fod_keys *keys;

static char *slurp(const char *path, size_t *length) {
    FILE *file = fopen(path, "rb");
    if (!file) return NULL;
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *bytes = malloc((size_t)size + 1);
    if (!bytes || fread(bytes, 1, (size_t)size, file) != (size_t)size) { fclose(file); free(bytes); return NULL; }
    fclose(file);
    bytes[size] = 0;
    *length = (size_t)size;
    return bytes;
}

static void setup(void) {
    if (vehicle) return;
    const char *repository = getenv("FOD_REPOSITORY") ? getenv("FOD_REPOSITORY") : ".";
    char path[4096];
    size_t length = 0;
    snprintf(path, sizeof path, "%s/fixtures/trust/root-1.json", repository);
    char *root = slurp(path, &length);
    fod_status status;
    vehicle = root ? fod_vehicle_new("WVWZZZ1KZAW394821", "DE", root, length, 1801785600, 604800, 0, &status) : NULL;
    free(root);
    snprintf(path, sizeof path, "%s/keys/dev-jwks.json", repository);
    char *jwks = slurp(path, &length);
    keys = jwks ? fod_keys_new(jwks, length, "https://fod.oem.example", &status) : NULL;
    free(jwks);
    if (!vehicle || !keys) { fprintf(stderr, "vehicle_sdk_fuzz: set FOD_REPOSITORY to the repository\n"); abort(); }
}

static void expect_answer(int result, const fod_status *status) {
    if (result != FOD_OK && result != FOD_REFUSED && result != FOD_ERROR) abort();
    if (memchr(status->code, 0, sizeof status->code) == NULL || memchr(status->detail, 0, sizeof status->detail) == NULL) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    setup();
    if (size == 0) return 0;
    fod_status status;
    const char *text = (const char *)data + 1;
    size_t length = size - 1;
    uint64_t at = (uint64_t)data[0] * 3600000u;
    switch (data[0] % 7) {
    case 0: {
        fod_vehicle *loaded = fod_vehicle_load(data + 1, length, at, &status);
        expect_answer(loaded ? FOD_OK : FOD_REFUSED, &status);
        fod_vehicle_free(loaded);
        break;
    }
    case 1: expect_answer(fod_vehicle_apply_root(vehicle, text, length, &status), &status); break;
    case 2: expect_answer(fod_vehicle_apply_manifest(vehicle, text, length, at, &status), &status); break;
    case 3: expect_answer(fod_vehicle_apply_entitlement(vehicle, text, length, at, &status), &status); break;
    case 4: expect_answer(fod_vehicle_apply_time(vehicle, text, length, "nonce-one-000000000001", at, &status), &status); break;
    case 5: expect_answer(fod_verify(keys, (data[0] & 8) ? FOD_TOKEN_MANIFEST : FOD_TOKEN_ENTITLEMENT, text, length, "WVWZZZ1KZAW394821", 7,
                                     1795000000, 60, &status), &status); break;
    default: {
        char feature[40];
        size_t count = length < sizeof feature - 1 ? length : sizeof feature - 1;
        memcpy(feature, text, count);
        feature[count] = 0;
        expect_answer(fod_vehicle_feature_enabled(vehicle, feature, at, &status), &status);
        break;
    }
    }
    return 0;
}

#ifdef FOD_FUZZ_STANDALONE
/* A bounded random driver: vehicle_sdk_fuzz RUNS SEED... (each seed file is an input). */
int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: vehicle_sdk_fuzz RUNS SEED...\n"); return 2; }
    long runs = strtol(argv[1], NULL, 10);
    int seeds = argc - 2;
    srand(20261207);
    for (long run = 0; run < runs; run++) {
        size_t length = 0;
        char *seed = slurp(argv[2 + rand() % seeds], &length);
        if (!seed) return 2;
        size_t size = length + 16;
        uint8_t *input = malloc(size);
        memcpy(input, seed, length);
        int mutations = 1 + rand() % 8;
        for (int m = 0; m < mutations && length > 0; m++) {
            switch (rand() % 5) {
            case 0: input[rand() % length] ^= (uint8_t)(1u << (rand() % 8)); break;
            case 1: input[rand() % length] = (uint8_t)rand(); break;
            case 2: length = (size_t)rand() % length; break;
            case 3: if (length + 1 < size) { input[length++] = (uint8_t)rand(); } break;
            default: input[0] = (uint8_t)rand(); break;
            }
        }
        LLVMFuzzerTestOneInput(input, length);
        free(input);
        free(seed);
    }
    printf("vehicle_sdk_fuzz: %ld runs without a crash\n", runs);
    return 0;
}
#endif
