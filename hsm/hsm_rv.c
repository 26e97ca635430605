/* The one place where CK_RV values become names and messages. */
#include "hsm/hsm_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

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
		RV(CKR_ACTION_PROHIBITED)
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
	char where[64];

	snprintf(where, sizeof(where), "token '%s'", label);
	return hsm_rv_err_at(err, rv, fn, where, label);
}

enum kg_code hsm_rv_err_at(struct kg_err *err, CK_RV rv, const char *fn,
                           const char *where, const char *label)
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
		        "%s: PIN incorrect for token '%s' (CKR_PIN_INCORRECT; "
		        "one try made; check the PIN source)",
		        fn, label);
	case CKR_PIN_LOCKED:
		return kg_err_set(err, KG_E_TOKEN,
		                  "%s: PIN locked for token '%s' "
		                  "(CKR_PIN_LOCKED): the SO must reset it",
		                  fn, label);
	case CKR_PIN_LEN_RANGE:
	case CKR_PIN_INVALID:
		return kg_err_set(err, KG_E_TOKEN,
		                  "%s: PIN rejected by token '%s' (%s): check "
		                  "its length and characters",
		                  fn, label, name);
	case CKR_USER_PIN_NOT_INITIALIZED:
		/* SoftHSM says this when a parallel writer hides its store
		 * for a moment: never advise re-initialising (it erases) */
		hint = " (the token reports no user PIN; if keygate token "
		       "list shows one set, the token was busy: try again)";
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
	case CKR_GENERAL_ERROR:
	case CKR_FUNCTION_FAILED:
	case CKR_DEVICE_ERROR:
	case CKR_DEVICE_MEMORY:
		hint = " (the token failed; it was retried where that is "
		       "safe: check the token and try again)";
		break;
	default:
		break;
	}
	return kg_err_set(err, KG_E_TOKEN, "%s on %s failed: %s%s", fn, where,
	                  name, hint);
}

/* ---- retrying what is safe to repeat ---------------------------------- */

int hsm_rv_transient(CK_RV rv)
{
	switch (rv) {
	case CKR_GENERAL_ERROR:
	case CKR_FUNCTION_FAILED:
	case CKR_DEVICE_ERROR:
		return 1;
	default:
		return 0;
	}
}

static int retries = HSM_RETRIES;

void hsm_set_retries(int n)
{
	retries = n < 0 ? 0 : n > 9 ? 9 : n;
}

void hsm_pause(int n)
{
	struct timespec ts;
	unsigned int r = 0;
	long ms;

	if (n > 12)
		n = 12;
	/* 1, 2, 4 ... ms with jitter, so parallel processes spread out
	 * (random() would give each of them the same sequence) */
	if (RAND_bytes((unsigned char *)&r, sizeof(r)) != 1)
		r = (unsigned int)getpid();
	ms = (1L << n) + (long)(r % (1U << n));
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

int hsm_again(CK_RV rv, int *tries)
{
	if (rv == CKR_OK || !hsm_rv_transient(rv) || *tries >= retries)
		return 0;
	hsm_pause((*tries)++);
	return 1;
}

const char *hsm_hint(const char *hint)
{
	static _Thread_local char buf[256];

	if (hint == NULL || *hint == '\0')
		return "";
	snprintf(buf, sizeof(buf), "; %s", hint);
	return buf;
}
