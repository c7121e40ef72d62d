#ifndef FOD_COPENSSL_SHIM_H
#define FOD_COPENSSL_SHIM_H

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/ui.h>

/* Macros and variadic helpers Swift cannot import, as static inline functions. */

static inline void COpenSSL_OPENSSL_free(void *ptr) {
    OPENSSL_free(ptr);
}

static inline int COpenSSL_BIO_get_mem_data(BIO *bio, char **out) {
    return (int)BIO_get_mem_data(bio, out);
}

static inline int COpenSSL_EVP_PKEY_CTX_set_group_name(EVP_PKEY_CTX *ctx, const char *name) {
    return EVP_PKEY_CTX_set_group_name(ctx, name);
}

/* Parameter names with static storage: OSSL_PARAM_BLD keeps the key pointer it is given. */
static inline const char *COpenSSL_param_group_name(void) { return OSSL_PKEY_PARAM_GROUP_NAME; }
static inline const char *COpenSSL_param_pub_key(void) { return OSSL_PKEY_PARAM_PUB_KEY; }
static inline const char *COpenSSL_param_priv_key(void) { return OSSL_PKEY_PARAM_PRIV_KEY; }
static inline const char *COpenSSL_param_rsa_n(void) { return OSSL_PKEY_PARAM_RSA_N; }
static inline const char *COpenSSL_param_rsa_e(void) { return OSSL_PKEY_PARAM_RSA_E; }
static inline int COpenSSL_EVP_PKEY_CTX_set_rsa_pkcs1_padding(EVP_PKEY_CTX *ctx) {
    return EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING);
}

static const int COpenSSL_EVP_PKEY_KEYPAIR = EVP_PKEY_KEYPAIR;
static const int COpenSSL_EVP_PKEY_PUBLIC_KEY = EVP_PKEY_PUBLIC_KEY;

#endif
