/*
 * truststore lint: eng_certs_parse with findings (every block is looked
 * at, bad ones become pem-invalid findings), then eng_ts_lint on what
 * parsed, as cli_truststore_lint does.
 */
#include "tests/fuzz/fz.h"

#include <openssl/err.h>

#include "engine/eng_trust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	STACK_OF(X509) *certs = NULL;
	struct eng_findings f = {0};
	struct kg_err err;

	if (eng_certs_parse(data, size, "truststore.pem", &certs, &f, &err) ==
	    KG_OK)
		eng_ts_lint(certs, "truststore.pem", FZ_AT, &f);
	sk_X509_pop_free(certs, X509_free);
	eng_findings_free(&f);
	ERR_clear_error();
	return 0;
}
