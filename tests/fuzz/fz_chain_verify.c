/*
 * chain verify: the certificate files through eng_certs_parse as the
 * command reads them, the CRL file through eng_crls_parse, then eng_verify
 * (strict RFC 5280 / web PKI) on what parsed, as cli_chain_verify does.
 * The fuzz input is up to five parts separated by FZ_SEP lines:
 *
 *   truststore, certificate (leaf first, then more untrusted ones),
 *   --untrusted, --crl, options
 *
 * options: the first byte picks --purpose ('s' server, 'c' client, else
 * any), the second --max-depth ('0'..'9', else none), the rest up to a
 * newline is --host (none if empty).
 */
#include "tests/fuzz/fz.h"

#include <openssl/err.h>

#include "engine/eng_trust.h"

static STACK_OF(X509) * certs(const struct fz_part *p, const char *name)
{
	STACK_OF(X509) *sk = NULL;
	struct kg_err err;

	if (p->buf == NULL ||
	    eng_certs_parse(p->buf, p->len, name, &sk, NULL, &err) != KG_OK)
		return NULL;
	if (sk == NULL)
		abort(); /* KG_OK gives a stack */
	if (sk_X509_num(sk) == 0) {
		sk_X509_free(sk);
		return NULL;
	}
	return sk;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_part p[5];
	STACK_OF(X509) *ts = NULL, *leafs = NULL, *unt = NULL, *sent = NULL;
	STACK_OF(X509_CRL) *crls = NULL;
	struct eng_verify_req vr = {0};
	struct eng_verify_res res = {0};
	struct kg_err err;
	char *opt = NULL;

	fz_split(data, size, p, 5);
	ts = certs(&p[0], "truststore.pem");
	leafs = certs(&p[1], "cert.pem");
	unt = certs(&p[2], "untrusted.pem");
	if (p[3].buf != NULL && eng_crls_parse(p[3].buf, p[3].len, "crl.pem",
	                                       &crls, &err) != KG_OK)
		crls = NULL;
	if (ts == NULL || leafs == NULL)
		goto out;
	vr.max_depth = -1;
	vr.strict = 1;
	vr.check_time = 1;
	vr.at = FZ_AT;
	vr.purpose = ENG_PURPOSE_ANY;
	if (p[4].buf != NULL) {
		char *nl;

		opt = fz_str(p[4].buf, p[4].len);
		if (opt[0] == 's')
			vr.purpose = ENG_PURPOSE_SERVER;
		else if (opt[0] == 'c')
			vr.purpose = ENG_PURPOSE_CLIENT;
		if (opt[0] != '\0' && opt[1] >= '0' && opt[1] <= '9')
			vr.max_depth = opt[1] - '0';
		if (opt[0] != '\0' && opt[1] != '\0' && opt[2] != '\0') {
			if ((nl = strchr(opt + 2, '\n')) != NULL)
				*nl = '\0';
			vr.host = opt + 2;
		}
	}
	/* certificates after the first in --cert: sent with it */
	if (sk_X509_num(leafs) > 1 && (sent = sk_X509_dup(leafs)) != NULL)
		(void)sk_X509_shift(sent);
	vr.sent_after = sent;
	vr.trusted = ts;
	vr.untrusted = unt;
	vr.leaf = sk_X509_value(leafs, 0);
	vr.crls = crls;
	if (eng_verify(&vr, &res, &err) == KG_OK && !res.ok &&
	    memchr(res.reason, '\0', sizeof(res.reason)) == NULL)
		abort();
	eng_verify_res_free(&res);
out:
	free(opt);
	sk_X509_pop_free(ts, X509_free);
	sk_X509_free(sent);
	sk_X509_pop_free(leafs, X509_free);
	sk_X509_pop_free(unt, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	ERR_clear_error();
	return 0;
}
