/*
 * bundle assemble: eng_acm_assemble on what a CA hands out. The fuzz input
 * is certificate, private key and chain separated by FZ_SEP lines; the key
 * is always given (bundle assemble needs --key), the chain only when there.
 */
#include "tests/fuzz/fz.h"

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "engine/eng_gate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_part p[3];
	struct eng_acm_req r;
	struct eng_findings f = {0};
	struct kg_err err;
	char *cert = NULL, *key = NULL, *chain = NULL;

	fz_split(data, size, p, 3);
	memset(&r, 0, sizeof(r));
	r.cert.name = "from-ca.pem";
	r.cert.buf = p[0].buf;
	r.cert.len = p[0].len;
	r.key.name = "key.pem";
	r.key.buf = p[1].buf ? p[1].buf : (const unsigned char *)"";
	r.key.len = p[1].len;
	r.chain.name = "ca-bundle.pem";
	r.chain.buf = p[2].buf;
	r.chain.len = p[2].len;
	r.target = ENG_TARGET_ACM;
	r.at = FZ_AT;
	if (eng_acm_assemble(&r, &cert, &key, &chain, &f, &err) == KG_OK &&
	    cert != NULL) {
		/* what it writes is NUL-terminated PEM */
		if (strncmp(cert, "-----BEGIN CERTIFICATE-----", 27) != 0 ||
		    key == NULL || chain == NULL)
			abort();
	}
	OPENSSL_free(cert);
	if (key != NULL)
		OPENSSL_clear_free(key, strlen(key));
	OPENSSL_free(chain);
	eng_findings_free(&f);
	ERR_clear_error();
	return 0;
}
