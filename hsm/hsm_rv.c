/* The one place where CK_RV values become names and messages. */
#include "hsm/hsm_int.h"

#include <stdio.h>

const char *hsm_rv_name(CK_RV rv)
{
	switch (rv) {
#define RV(x)                                                                 \
	case x:                                                               \
		return #x;
		RV(CKR_OK)
		RV(CKR_CANCEL)
		RV(CKR_HOST_MEMORY)
		RV(CKR_SLOT_ID_INVALID)
		RV(CKR_GENERAL_ERROR)
		RV(CKR_FUNCTION_FAILED)
		RV(CKR_ARGUMENTS_BAD)
		RV(CKR_ATTRIBUTE_READ_ONLY)
		RV(CKR_ATTRIBUTE_SENSITIVE)
		RV(CKR_ATTRIBUTE_TYPE_INVALID)
		RV(CKR_ATTRIBUTE_VALUE_INVALID)
		RV(CKR_DATA_INVALID)
		RV(CKR_DATA_LEN_RANGE)
		RV(CKR_DEVICE_ERROR)
		RV(CKR_DEVICE_MEMORY)
		RV(CKR_DEVICE_REMOVED)
		RV(CKR_FUNCTION_NOT_SUPPORTED)
		RV(CKR_KEY_HANDLE_INVALID)
		RV(CKR_KEY_SIZE_RANGE)
		RV(CKR_KEY_TYPE_INCONSISTENT)
		RV(CKR_KEY_FUNCTION_NOT_PERMITTED)
		RV(CKR_MECHANISM_INVALID)
		RV(CKR_MECHANISM_PARAM_INVALID)
		RV(CKR_OBJECT_HANDLE_INVALID)
		RV(CKR_OPERATION_ACTIVE)
		RV(CKR_OPERATION_NOT_INITIALIZED)
		RV(CKR_PIN_INCORRECT)
		RV(CKR_PIN_INVALID)
		RV(CKR_PIN_LEN_RANGE)
		RV(CKR_PIN_EXPIRED)
		RV(CKR_PIN_LOCKED)
		RV(CKR_SESSION_CLOSED)
		RV(CKR_SESSION_HANDLE_INVALID)
		RV(CKR_SESSION_READ_ONLY)
		RV(CKR_SESSION_EXISTS)
		RV(CKR_SIGNATURE_INVALID)
		RV(CKR_TEMPLATE_INCOMPLETE)
		RV(CKR_TEMPLATE_INCONSISTENT)
		RV(CKR_TOKEN_NOT_PRESENT)
		RV(CKR_TOKEN_NOT_RECOGNIZED)
		RV(CKR_TOKEN_WRITE_PROTECTED)
		RV(CKR_USER_ALREADY_LOGGED_IN)
		RV(CKR_USER_NOT_LOGGED_IN)
		RV(CKR_USER_PIN_NOT_INITIALIZED)
		RV(CKR_USER_TYPE_INVALID)
		RV(CKR_BUFFER_TOO_SMALL)
		RV(CKR_CRYPTOKI_NOT_INITIALIZED)
		RV(CKR_CRYPTOKI_ALREADY_INITIALIZED)
		RV(CKR_DOMAIN_PARAMS_INVALID)
		RV(CKR_CURVE_NOT_SUPPORTED)
#undef RV
	default:
		return NULL;
	}
}

enum kg_code hsm_rv_err(struct kg_err *err, CK_RV rv, const char *fn,
                        const char *label)
{
	const char *name = hsm_rv_name(rv);
	const char *hint = "";
	char code[32];

	if (name == NULL) {
		snprintf(code, sizeof(code), "CKR 0x%08lx", (unsigned long)rv);
		name = code;
	}
	switch (rv) {
	case CKR_PIN_INCORRECT:
		return kg_err_set(
		        err, KG_E_TOKEN,
		        "PIN incorrect for token '%s' (one try made; "
		        "check the PIN source)",
		        label);
	case CKR_PIN_LOCKED:
		return kg_err_set(err, KG_E_TOKEN,
		                  "PIN locked for token '%s': the SO must "
		                  "reset it",
		                  label);
	case CKR_PIN_LEN_RANGE:
	case CKR_PIN_INVALID:
		return kg_err_set(err, KG_E_TOKEN,
		                  "PIN rejected by token '%s' (%s): check its "
		                  "length and characters",
		                  label, name);
	case CKR_USER_PIN_NOT_INITIALIZED:
		hint = " (initialise it with: keygate token init)";
		break;
	case CKR_TOKEN_WRITE_PROTECTED:
	case CKR_SESSION_READ_ONLY:
		hint = " (the token is read-only)";
		break;
	case CKR_MECHANISM_INVALID:
	case CKR_KEY_SIZE_RANGE:
	case CKR_CURVE_NOT_SUPPORTED:
	case CKR_DOMAIN_PARAMS_INVALID:
		hint = " (the token does not support this key type)";
		break;
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
		hint = " (reinsert the token)";
		break;
	default:
		break;
	}
	return kg_err_set(err, KG_E_TOKEN, "%s on token '%s' failed: %s%s", fn,
	                  label, name, hint);
}
