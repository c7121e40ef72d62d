#include "fod_pkcs11.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fod_p11_module {
    void *library;
    CK_FUNCTION_LIST_PTR functions;
};

static CK_RV initialize(CK_FUNCTION_LIST_PTR functions) {
    CK_C_INITIALIZE_ARGS arguments;
    memset(&arguments, 0, sizeof arguments);
    arguments.flags = CKF_OS_LOCKING_OK;
    CK_RV rv = functions->C_Initialize(&arguments);
    return rv == CKR_CRYPTOKI_ALREADY_INITIALIZED ? CKR_OK : rv;
}

CK_RV fod_p11_open(const char *path, fod_p11_module **out, char *error, size_t error_length) {
    void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        snprintf(error, error_length, "cannot load the module: %s", dlerror());
        return CKR_GENERAL_ERROR;
    }
    CK_C_GetFunctionList get = (CK_C_GetFunctionList)dlsym(library, "C_GetFunctionList");
    CK_FUNCTION_LIST_PTR functions = NULL;
    if (get == NULL || get(&functions) != CKR_OK || functions == NULL) {
        snprintf(error, error_length, "the module has no PKCS#11 function list");
        dlclose(library);
        return CKR_GENERAL_ERROR;
    }
    CK_RV rv = initialize(functions);
    if (rv != CKR_OK) {
        snprintf(error, error_length, "C_Initialize failed");
        dlclose(library);
        return rv;
    }
    fod_p11_module *module = calloc(1, sizeof *module);
    if (module == NULL) {
        functions->C_Finalize(NULL);
        dlclose(library);
        snprintf(error, error_length, "out of memory");
        return CKR_HOST_MEMORY;
    }
    module->library = library;
    module->functions = functions;
    *out = module;
    return CKR_OK;
}

CK_RV fod_p11_reinitialize(fod_p11_module *module) {
    module->functions->C_Finalize(NULL);
    return initialize(module->functions);
}

/* Whether a blank-padded fixed-length field equals `wanted`. */
static int padded_equals(const unsigned char *field, size_t size, const char *wanted) {
    if (wanted == NULL) return 1;
    size_t length = strlen(wanted);
    if (length > size || memcmp(field, wanted, length) != 0) return 0;
    for (size_t i = length; i < size; i++) {
        if (field[i] != ' ' && field[i] != 0) return 0;
    }
    return 1;
}

CK_RV fod_p11_find_slot(fod_p11_module *module, const char *label, const char *serial, const char *manufacturer, const char *model,
                        CK_SLOT_ID *slot, int *found) {
    *found = 0;
    CK_ULONG count = 0;
    CK_RV rv = module->functions->C_GetSlotList(CK_TRUE, NULL, &count);
    if (rv != CKR_OK) return rv;
    if (count == 0) return CKR_OK;
    CK_SLOT_ID *slots = calloc(count, sizeof *slots);
    if (slots == NULL) return CKR_HOST_MEMORY;
    rv = module->functions->C_GetSlotList(CK_TRUE, slots, &count);
    for (CK_ULONG i = 0; rv == CKR_OK && i < count; i++) {
        CK_TOKEN_INFO info;
        if (module->functions->C_GetTokenInfo(slots[i], &info) != CKR_OK) continue;
        if (padded_equals(info.label, sizeof info.label, label) && padded_equals(info.serialNumber, sizeof info.serialNumber, serial)
            && padded_equals(info.manufacturerID, sizeof info.manufacturerID, manufacturer) && padded_equals(info.model, sizeof info.model, model)) {
            *slot = slots[i];
            *found = 1;
            break;
        }
    }
    free(slots);
    return rv;
}

CK_RV fod_p11_open_session(fod_p11_module *module, CK_SLOT_ID slot, CK_SESSION_HANDLE *session) {
    return module->functions->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, session);
}

CK_RV fod_p11_close_session(fod_p11_module *module, CK_SESSION_HANDLE session) {
    return module->functions->C_CloseSession(session);
}

CK_RV fod_p11_login(fod_p11_module *module, CK_SESSION_HANDLE session, const char *pin, size_t pin_length) {
    CK_RV rv = module->functions->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, pin_length);
    return rv == CKR_USER_ALREADY_LOGGED_IN ? CKR_OK : rv;
}

CK_RV fod_p11_find(fod_p11_module *module, CK_SESSION_HANDLE session, CK_OBJECT_CLASS object_class, const char *label,
                   const unsigned char *id, size_t id_length, CK_OBJECT_HANDLE *object, int *count) {
    CK_ATTRIBUTE template[3];
    CK_ULONG n = 0;
    template[n].type = CKA_CLASS; template[n].pValue = &object_class; template[n].ulValueLen = sizeof object_class; n++;
    if (label != NULL) { template[n].type = CKA_LABEL; template[n].pValue = (void *)label; template[n].ulValueLen = strlen(label); n++; }
    if (id != NULL) { template[n].type = CKA_ID; template[n].pValue = (void *)id; template[n].ulValueLen = id_length; n++; }
    CK_RV rv = module->functions->C_FindObjectsInit(session, template, n);
    if (rv != CKR_OK) return rv;
    CK_OBJECT_HANDLE found[2];
    CK_ULONG got = 0;
    rv = module->functions->C_FindObjects(session, found, 2, &got);
    CK_RV end = module->functions->C_FindObjectsFinal(session);
    if (rv != CKR_OK) return rv;
    if (end != CKR_OK) return end;
    *count = (int)got;
    if (got > 0) *object = found[0];
    return CKR_OK;
}

CK_RV fod_p11_attribute(fod_p11_module *module, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type,
                        unsigned char *buffer, size_t *length) {
    CK_ATTRIBUTE attribute = { type, NULL, 0 };
    CK_RV rv = module->functions->C_GetAttributeValue(session, object, &attribute, 1);
    if (rv != CKR_OK) return rv;
    if (attribute.ulValueLen == (CK_ULONG)-1) return CKR_ATTRIBUTE_TYPE_INVALID;
    if (attribute.ulValueLen > *length) { *length = attribute.ulValueLen; return CKR_BUFFER_TOO_SMALL; }
    attribute.pValue = buffer;
    rv = module->functions->C_GetAttributeValue(session, object, &attribute, 1);
    *length = attribute.ulValueLen;
    return rv;
}

CK_RV fod_p11_sign(fod_p11_module *module, CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key, CK_MECHANISM_TYPE mechanism,
                   const unsigned char *data, size_t data_length, unsigned char *signature, size_t *signature_length) {
    CK_MECHANISM m = { mechanism, NULL, 0 };
    CK_RV rv = module->functions->C_SignInit(session, &m, key);
    if (rv != CKR_OK) return rv;
    CK_ULONG length = *signature_length;
    rv = module->functions->C_Sign(session, (CK_BYTE_PTR)data, data_length, signature, &length);
    *signature_length = length;
    return rv;
}

CK_RV fod_p11_check(fod_p11_module *module, CK_SLOT_ID slot, CK_SESSION_HANDLE session) {
    CK_SESSION_INFO info;
    CK_RV rv = module->functions->C_GetSessionInfo(session, &info);
    if (rv != CKR_OK) return rv;
    CK_TOKEN_INFO token;
    return module->functions->C_GetTokenInfo(slot, &token);
}
