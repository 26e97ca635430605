/* kg_redact: no PIN survives in printed text (issue 9 #7). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/kg_err.h"
#include "common/kg_redact.h"

static void test_redact(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	        {"pkcs11:token=a?pin-value=1234", "pkcs11:token=a"},
	        {"pkcs11:token=a?pin-value=1234&module-name=x",
	         "pkcs11:token=a?module-name=x"},
	        {"pkcs11:token=a?module-name=x&pin-value=1234",
	         "pkcs11:token=a?module-name=x"},
	        {"pkcs11:token=a;PIN-VALUE=1234;object=k",
	         "pkcs11:token=a;object=k"},
	        {"no token matches 'pkcs11:token=b?pin-value=s3cr%20t'; see",
	         "no token matches 'pkcs11:token=b'; see"},
	        {"two: pkcs11:?pin-value=1 and pkcs11:?pin-value=2",
	         "two: "
	         "pkcs11: "
	         "and "
	         "pkcs11:"},
	        {"pin-value=", ""},
	        {"nothing to do", "nothing to do"},
	        {"pin-source=file:/p", "pin-source=file:/p"},
	};
	size_t i;
	char buf[256];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strcpy(buf, cases[i].in);
		assert_string_equal(kg_redact_pin(buf), cases[i].want);
	}
}

/* Every error message passes through the redaction. */
static void test_err_messages(void **state)
{
	struct kg_err err;

	kg_err_set(&err, 3, "no key matches '%s'",
	           "pkcs11:object=k?pin-value=987654");
	assert_null(strstr(err.msg, "987654"));
	kg_err_prefix(&err, "in '%s'", "pkcs11:token=t?pin-value=555666");
	assert_null(strstr(err.msg, "555666"));
	assert_null(strstr(err.msg, "987654"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_redact),
	        cmocka_unit_test(test_err_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
