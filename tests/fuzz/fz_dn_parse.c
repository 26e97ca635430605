/*
 * Distinguished names (engine/eng_name.c): eng_dn_parse on any string
 * (--subject, a manifest's "subject"), then what keygate does with a
 * parsed name: eng_name_str and eng_san_from_cn. A name keygate prints
 * (RFC 2253, eng_name_str) must parse back to the same name.
 */
#include "tests/fuzz/fz.h"

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "engine/eng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *dn = fz_str(data, size), *s;
	X509_NAME *n = NULL, *again = NULL;
	GENERAL_NAMES *san = NULL;
	struct kg_err err;

	if (eng_dn_parse(dn, &n, &err) == KG_OK) {
		if (n == NULL)
			abort();
		s = eng_name_str(n);
		if (s == NULL || eng_dn_parse(s, &again, &err) != KG_OK ||
		    X509_NAME_cmp(n, again) != 0) {
			fprintf(stderr, "'%s' prints as '%s': %s\n", dn,
			        s ? s : "(null)",
			        again ? "another name" : err.msg);
			abort();
		}
		X509_NAME_free(again);
		OPENSSL_free(s);
		if (eng_san_from_cn(n, &san, &err) == KG_OK)
			GENERAL_NAMES_free(san);
		X509_NAME_free(n);
	}
	free(dn);
	ERR_clear_error();
	return 0;
}
