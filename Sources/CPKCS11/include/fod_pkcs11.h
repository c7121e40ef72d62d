/* fod's PKCS#11 calls: a module loaded with dlopen and called through its function list, with
 * no OpenSSL ENGINE and nothing global in OpenSSL. pkcs11.h is p11-kit's (its notice is kept
 * in it; see README.md beside this folder). Every function returns the module's CK_RV (CKR_OK:
 * 0), or CKR_GENERAL_ERROR with `error` filled for a failure before the module answered. */
#ifndef FOD_PKCS11_H
#define FOD_PKCS11_H

#define CRYPTOKI_COMPAT 1
#include <stddef.h>
#include "pkcs11.h"

typedef struct fod_p11_module fod_p11_module;

/* Loads the module (dlopen), gets its function list and initializes it for a threaded caller. */
CK_RV fod_p11_open(const char *path, fod_p11_module **out, char *error, size_t error_length);
/* Finalizes and initializes the module again (after a token went away: it is looked for anew). */
CK_RV fod_p11_reinitialize(fod_p11_module *module);
/* The first slot with a token whose label, serial, manufacturer and model match the non-NULL ones. */
CK_RV fod_p11_find_slot(fod_p11_module *module, const char *label, const char *serial, const char *manufacturer, const char *model,
                        CK_SLOT_ID *slot, int *found);
CK_RV fod_p11_open_session(fod_p11_module *module, CK_SLOT_ID slot, CK_SESSION_HANDLE *session);
CK_RV fod_p11_close_session(fod_p11_module *module, CK_SESSION_HANDLE session);
/* Logs the user in (a session already logged in is fine). */
CK_RV fod_p11_login(fod_p11_module *module, CK_SESSION_HANDLE session, const char *pin, size_t pin_length);
/* Objects of `object_class` with the label and id given (NULL: any); `count` is how many matched (up to 2). */
CK_RV fod_p11_find(fod_p11_module *module, CK_SESSION_HANDLE session, CK_OBJECT_CLASS object_class, const char *label,
                   const unsigned char *id, size_t id_length, CK_OBJECT_HANDLE *object, int *count);
/* An attribute's bytes: `length` in is the buffer's size, out the value's (larger than in: call again). */
CK_RV fod_p11_attribute(fod_p11_module *module, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type,
                        unsigned char *buffer, size_t *length);
/* Whether the session's token is still there: the session's and the token's information. */
CK_RV fod_p11_check(fod_p11_module *module, CK_SLOT_ID slot, CK_SESSION_HANDLE session);
/* Signs `data` with the mechanism (no parameter); `signature_length` in is the buffer's size. */
CK_RV fod_p11_sign(fod_p11_module *module, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key, CK_MECHANISM_TYPE mechanism,
                   const unsigned char *data, size_t data_length, unsigned char *signature, size_t *signature_length);

#endif
