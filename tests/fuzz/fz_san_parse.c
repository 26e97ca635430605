/*
 * subjectAltName lists (engine/eng_name.c): eng_san_parse on any string
 * (--san, a manifest's "san"), and the name predicates it is built on,
 * eng_is_dns_name, eng_is_domain and eng_is_ip, on the same string.
 */
#include "tests/fuzz/fz.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "engine/eng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *list = fz_str(data, size);
	GENERAL_NAMES *g = NULL;
	struct kg_err err;

	(void)eng_is_dns_name(list, 0);
	(void)eng_is_dns_name(list, 1);
	(void)eng_is_domain(list);
	(void)eng_is_ip(list);
	if (eng_san_parse(list, &g, &err) == KG_OK) {
		/* every entry validated: it encodes as an extension */
		unsigned char *der = NULL;
		int n = i2d_GENERAL_NAMES(g, &der);

		if (g == NULL || sk_GENERAL_NAME_num(g) < 1 || n <= 0)
			abort();
		OPENSSL_free(der);
		GENERAL_NAMES_free(g);
	}
	free(list);
	ERR_clear_error();
	return 0;
}
