/*
 * hsm_trace.c: the line each PKCS#11 call makes under --verbose. A stub
 * function list answers; the sink keeps the last line. Values are shown
 * only where they cannot be secret; a PIN never.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hsm/hsm.h"
#include "hsm/hsm_int.h"

static char last[2048];
static int lines;

static void sink(void *arg, const char *line)
{
	(void)arg;
	snprintf(last, sizeof(last), "%s", line);
	lines++;
}

static CK_RV stub_rv;

static CK_RV stub_get(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE h, CK_ATTRIBUTE *a,
                      CK_ULONG n)
{
	(void)s;
	(void)h;
	(void)a;
	(void)n;
	return stub_rv;
}

static CK_RV stub_login(CK_SESSION_HANDLE s, CK_USER_TYPE u, CK_UTF8CHAR *p,
                        CK_ULONG n)
{
	(void)s;
	(void)u;
	(void)p;
	(void)n;
	return stub_rv;
}

static CK_RV stub_sign(CK_SESSION_HANDLE s, CK_BYTE *in, CK_ULONG inlen,
                       CK_BYTE *out, CK_ULONG *outlen)
{
	(void)s;
	(void)in;
	(void)inlen;
	(void)out;
	if (stub_rv == CKR_OK)
		*outlen = 64;
	return stub_rv;
}

static CK_RV stub_sign_init(CK_SESSION_HANDLE s, CK_MECHANISM *m,
                            CK_OBJECT_HANDLE k)
{
	(void)s;
	(void)m;
	(void)k;
	return stub_rv;
}

static CK_FUNCTION_LIST fl;

static int setup(void **state)
{
	(void)state;
	memset(&fl, 0, sizeof(fl));
	fl.C_GetAttributeValue = stub_get;
	fl.C_Login = stub_login;
	fl.C_Sign = stub_sign;
	fl.C_SignInit = stub_sign_init;
	hsm_trace_start(sink, NULL);
	lines = 0;
	last[0] = '\0';
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hsm_trace_start(NULL, NULL);
	return 0;
}

static void has(const char *needle)
{
	if (strstr(last, needle) == NULL)
		fail_msg("'%s' lacks '%s'", last, needle);
}

static void lacks(const char *needle)
{
	if (strstr(last, needle) != NULL)
		fail_msg("'%s' shows '%s'", last, needle);
}

/* Which attribute values a C_GetAttributeValue line shows. */
static void test_attribute_values(void **state)
{
	static CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	static CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	static CK_KEY_TYPE kt = CKK_EC;
	static CK_ULONG bits = 2048;
	static unsigned char secret[] = "SECRETVALUE", label[] = "MYNAME",
	                     id[] = "IDBYTES";
	static const struct {
		CK_ATTRIBUTE a;
		const char *shown, *hidden;
	} cases[] = {
	        {{CKA_SENSITIVE, &yes, 1}, "CKA_SENSITIVE=true", NULL},
	        {{CKA_EXTRACTABLE, &no, 1}, "CKA_EXTRACTABLE=false", NULL},
	        {{CKA_CLASS, &cls, sizeof(cls)},
	         "CKA_CLASS=CKO_PRIVATE_KEY",
	         NULL},
	        {{CKA_KEY_TYPE, &kt, sizeof(kt)}, "CKA_KEY_TYPE=CKK_EC", NULL},
	        {{CKA_MODULUS_BITS, &bits, sizeof(bits)},
	         "CKA_MODULUS_BITS=2048",
	         NULL},
	        {{CKA_VALUE, secret, sizeof(secret)}, "CKA_VALUE]", "SECRET"},
	        {{CKA_PRIVATE_EXPONENT, secret, sizeof(secret)},
	         "CKA_PRIVATE_EXPONENT]",
	         "SECRET"},
	        {{CKA_LABEL, label, sizeof(label)}, "CKA_LABEL]", "MYNAME"},
	        {{CKA_ID, id, sizeof(id)}, "CKA_ID]", "IDBYTES"},
	        {{CKA_EC_POINT, NULL, CK_UNAVAILABLE_INFORMATION},
	         "CKA_EC_POINT=unavailable",
	         NULL},
	        /* a flag of the wrong length: no value read from it */
	        {{CKA_SIGN, secret, sizeof(secret)}, "CKA_SIGN]", "CKA_SIGN="},
	        {{0x80001234UL, secret, sizeof(secret)},
	         "CKA_0x80001234]",
	         "SECRET"},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CK_ATTRIBUTE a = cases[i].a;

		stub_rv = CKR_OK;
		assert_int_equal(hsm_C_GetAttributeValue(&fl, 7, 9, &a, 1),
		                 CKR_OK);
		has("C_GetAttributeValue(session 0x7, object 0x9, [");
		has(cases[i].shown);
		has(") = CKR_OK, ");
		has(" ms");
		if (cases[i].hidden != NULL)
			lacks(cases[i].hidden);
	}
	assert_int_equal(lines, (int)i);
}

/* A failed call: its CKR in the line, unknown ones in hex. */
static void test_failures(void **state)
{
	CK_ATTRIBUTE a = {CKA_VALUE, NULL, 0};

	(void)state;
	stub_rv = CKR_ATTRIBUTE_SENSITIVE;
	assert_int_equal(hsm_C_GetAttributeValue(&fl, 1, 2, &a, 1),
	                 CKR_ATTRIBUTE_SENSITIVE);
	has(") = CKR_ATTRIBUTE_SENSITIVE, ");
	stub_rv = 0x80000042UL;
	assert_int_equal(hsm_C_Sign(&fl, 1, (CK_BYTE *)"x", 1, NULL, NULL),
	                 0x80000042UL);
	has("C_Sign(session 0x1, 1 bytes in) = CKR_0x80000042, ");
}

/* A PIN, a login kind, a signature's lengths. */
static void test_login_sign(void **state)
{
	static const struct {
		CK_USER_TYPE u;
		const char *pin, *shown;
	} cases[] = {
	        {CKU_USER, "73915284", "CKU_USER, PIN hidden"},
	        {CKU_CONTEXT_SPECIFIC, "73915284",
	         "CKU_CONTEXT_SPECIFIC, PIN hidden"},
	        {CKU_SO, "61829437", "CKU_SO, PIN hidden"},
	        {CKU_USER, NULL, "no PIN (protected authentication path)"},
	};
	CK_MECHANISM m = {CKM_ECDSA, NULL, 0};
	CK_ULONG outlen = 0;
	CK_BYTE out[64];
	size_t i;

	(void)state;
	stub_rv = CKR_OK;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *p = cases[i].pin;

		hsm_C_Login(&fl, 3, cases[i].u, (CK_UTF8CHAR *)p,
		            p ? strlen(p) : 0);
		has(cases[i].shown);
		lacks("7391");
		lacks("6182");
	}
	hsm_C_SignInit(&fl, 3, &m, 0x11);
	has("C_SignInit(session 0x3, CKM_ECDSA, key 0x11) = CKR_OK");
	outlen = sizeof(out);
	hsm_C_Sign(&fl, 3, (CK_BYTE *)"0123456789abcdef0123456789abcdef", 32,
	           out, &outlen);
	has("C_Sign(session 0x3, 32 bytes in -> 64 bytes) = CKR_OK");
}

/* Off: no line, and the call still goes through. */
static void test_off(void **state)
{
	CK_ATTRIBUTE a = {CKA_VALUE, NULL, 0};

	(void)state;
	hsm_trace_start(NULL, NULL);
	stub_rv = CKR_OK;
	assert_int_equal(hsm_C_GetAttributeValue(&fl, 1, 2, &a, 1), CKR_OK);
	assert_int_equal(lines, 0);
	stub_rv = CKR_DEVICE_ERROR;
	assert_int_equal(hsm_C_GetAttributeValue(&fl, 1, 2, &a, 1),
	                 CKR_DEVICE_ERROR);
	assert_int_equal(lines, 0);
}

/* A template longer than a line: cut, never overrun. */
static void test_long_template(void **state)
{
	CK_ATTRIBUTE a[200];
	size_t i;

	(void)state;
	for (i = 0; i < 200; i++) {
		a[i].type = CKA_ALWAYS_AUTHENTICATE;
		a[i].pValue = NULL;
		a[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
	}
	stub_rv = CKR_OK;
	hsm_C_GetAttributeValue(&fl, 1, 2, a, 200);
	assert_int_equal(lines, 1);
	assert_true(strlen(last) < 1024);
	has("C_GetAttributeValue(session 0x1, object 0x2, [");
	/* cut, and says so; the CKR and the time still there */
	has("...) = CKR_OK, ");
	has(" ms");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test_setup_teardown(test_attribute_values, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_failures, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_login_sign, setup,
	                                        teardown),
	        cmocka_unit_test_setup_teardown(test_off, setup, teardown),
	        cmocka_unit_test_setup_teardown(test_long_template, setup,
	                                        teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
