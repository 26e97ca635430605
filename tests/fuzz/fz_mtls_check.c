/*
 * mtls check: both files through eng_certs_parse as the command reads
 * them (no findings: the first bad block refuses the file), then
 * eng_mtls_check on what parsed. The fuzz input is the truststore and the
 * client's certificate file (the certificate, then any chain it sends),
 * separated by an FZ_SEP line.
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
	struct fz_part p[2];
	STACK_OF(X509) *ts = NULL, *sent = NULL;
	struct eng_mtls_res res = {0};
	struct kg_err err;

	fz_split(data, size, p, 2);
	ts = certs(&p[0], "truststore.pem");
	sent = certs(&p[1], "client.pem");
	if (ts != NULL && sent != NULL &&
	    eng_mtls_check(ts, sent, FZ_AT, &res, &err) == KG_OK) {
		if ((res.allow && res.status != 200) ||
		    (!res.allow && (res.status != 403 || res.reason == NULL)))
			abort();
	}
	eng_mtls_res_free(&res);
	sk_X509_pop_free(ts, X509_free);
	sk_X509_pop_free(sent, X509_free);
	ERR_clear_error();
	return 0;
}
