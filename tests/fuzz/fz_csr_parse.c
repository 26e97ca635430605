/*
 * The request reader of cert sign (engine/eng_csr.c): eng_csr_parse on
 * any bytes (PEM or DER), every accessor on what parsed, the signature
 * check, and eng_cert_issue with a throwaway P-256 CA made at start-up
 * (the request's extensions copied, as --copy-extensions does). Requests
 * whose signature does not verify stop at eng_cert_issue's first check.
 */
#include "tests/fuzz/fz.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include "engine/eng.h"

static EVP_PKEY *ca_key;
static X509 *ca_cert;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct eng_request r = {0};
	X509_NAME *dn = NULL;
	struct kg_err err;

	ca_key = EVP_EC_gen("P-256");
	if (ca_key == NULL ||
	    eng_dn_parse("CN=Fuzz CA,O=keygate", &dn, &err) != KG_OK)
		abort();
	r.subject = dn;
	r.md = EVP_sha256();
	if (eng_cert_selfsign(&r, ENG_PROFILE_CA, 36500, FZ_AT - 86400, ca_key,
	                      &ca_cert, &err) != KG_OK) {
		fprintf(stderr, "fz_csr_parse: no CA: %s\n", err.msg);
		abort();
	}
	X509_NAME_free(dn);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum eng_profile profiles[] = {ENG_PROFILE_SERVER,
	                                            ENG_PROFILE_CLIENT,
	                                            ENG_PROFILE_INTERMEDIATE};
	struct eng_csr *c = NULL;
	struct eng_issue in = {0};
	struct kg_err err;
	X509 *x = NULL;
	char *s;
	int capped = 0;

	if (eng_csr_parse(data, size, "request.csr", &c, &err) != KG_OK) {
		if (c != NULL)
			abort(); /* a refusal leaves nothing behind */
		return 0;
	}
	s = eng_name_str(eng_csr_subject(c));
	OPENSSL_free(s);
	if (eng_csr_spki(c) == NULL || eng_csr_pubkey(c) == NULL)
		abort();
	(void)eng_csr_extensions(c);
	if (eng_csr_verify(c)) {
		in.csr = c;
		in.ca_cert = ca_cert;
		in.ca_key = ca_key;
		in.profile = profiles[size % 3];
		in.days = 30;
		in.now = FZ_AT;
		in.copy_extensions = 1;
		in.md = EVP_sha256();
		in.capped = &capped;
		if (eng_cert_issue(&in, &x, &err) == KG_OK && x == NULL)
			abort();
		X509_free(x);
	}
	eng_csr_free(c);
	ERR_clear_error();
	return 0;
}
