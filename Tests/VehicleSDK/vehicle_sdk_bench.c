/*
 * Verifications per second through libfodvehicle's C interface (scripts/bench-vehicle runs it in
 * rounds alternated with `fod-bench verify-loop`, the Swift Verifier on the same token).
 *
 *   vehicle_sdk_bench JWKS ISSUER TOKEN AT VIN SECONDS
 *
 * Prints one number: fod_verify calls per second (each a whole verification).
 */
#define _POSIX_C_SOURCE 200809L
#include "fod_vehicle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *slurp(const char *path, size_t *length) {
    FILE *file = fopen(path, "rb");
    if (!file) { fprintf(stderr, "cannot open %s\n", path); exit(2); }
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    char *bytes = malloc((size_t)size + 1);
    if (!bytes || fread(bytes, 1, (size_t)size, file) != (size_t)size) exit(2);
    fclose(file);
    while (size > 0 && (bytes[size - 1] == '\n' || bytes[size - 1] == '\r')) size--;
    bytes[size] = 0;
    *length = (size_t)size;
    return bytes;
}

static double now(void) {
    struct timespec spec;
    clock_gettime(CLOCK_MONOTONIC, &spec);
    return (double)spec.tv_sec + (double)spec.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 7) { fprintf(stderr, "usage: vehicle_sdk_bench JWKS ISSUER TOKEN AT VIN SECONDS\n"); return 2; }
    size_t jwks_length, token_length;
    char *jwks = slurp(argv[1], &jwks_length);
    char *token = slurp(argv[3], &token_length);
    long long at = strtoll(argv[4], NULL, 10);
    const char *vin = strcmp(argv[5], "-") == 0 ? NULL : argv[5];
    double seconds = strtod(argv[6], NULL);
    fod_status status;
    fod_keys *keys = fod_keys_new(jwks, jwks_length, argv[2], &status);
    if (!keys) { fprintf(stderr, "keys: %s: %s\n", status.code, status.detail); return 1; }
    if (fod_verify(keys, FOD_TOKEN_ENTITLEMENT, token, token_length, vin, -1, at, 60, &status) != FOD_OK) {
        fprintf(stderr, "the token does not verify: %s: %s\n", status.code, status.detail);
        return 1;
    }
    long operations = 0;
    double start = now(), end = start + seconds, current = start;
    do {
        for (int i = 0; i < 16; i++) {
            if (fod_verify(keys, FOD_TOKEN_ENTITLEMENT, token, token_length, vin, -1, at, 60, &status) != FOD_OK) return 1;
        }
        operations += 16;
        current = now();
    } while (current < end);
    printf("%.0f\n", (double)operations / (current - start));
    fod_keys_free(keys);
    free(jwks);
    free(token);
    return 0;
}
