/*
 * The ACM import gate (bundle check): eng_acm_check on its inputs as
 * bundle check reads them into memory. The fuzz input is up to six parts
 * separated by FZ_SEP lines: certificate, private key, chain, the
 * certificate being replaced (--replaces), the ownership verification
 * certificate (--ownership-cert) and the mTLS custom domain name
 * (--mtls-domain); a part that is not there is not given. Inputs of four
 * parts or fewer (the older seeds) mean what they meant.
 */
#include "tests/fuzz/fz.h"

#include <openssl/err.h>

#include "engine/eng_gate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_part p[6];
	struct eng_acm_req r;
	struct eng_findings f = {0};
	struct kg_err err;
	char *domain = NULL;
	size_t i;

	fz_split(data, size, p, 6);
	memset(&r, 0, sizeof(r));
	r.cert.name = "cert.pem";
	r.cert.buf = p[0].buf;
	r.cert.len = p[0].len;
	r.key.name = "key.pem";
	r.key.buf = p[1].buf;
	r.key.len = p[1].len;
	r.chain.name = "chain.pem";
	r.chain.buf = p[2].buf;
	r.chain.len = p[2].len;
	r.old.name = "old.pem";
	r.old.buf = p[3].buf;
	r.old.len = p[3].len;
	r.ownership.name = "ownership.pem";
	r.ownership.buf = p[4].buf;
	r.ownership.len = p[4].len;
	if (p[5].buf != NULL) {
		/* one line: a name as --mtls-domain takes it */
		domain = fz_str(p[5].buf, p[5].len);
		domain[strcspn(domain, "\n")] = '\0';
		r.mtls_domain = domain;
	}
	/* --for acm takes every key type ACM does: the deeper key checks */
	r.target = ENG_TARGET_ACM;
	r.at = FZ_AT;
	if (eng_acm_check(&r, &f, &err) == KG_OK) {
		for (i = 0; i < f.n; i++)
			if (f.v[i].code == NULL || f.v[i].message == NULL)
				abort();
		(void)eng_findings_errors(&f);
	}
	eng_findings_free(&f);
	free(domain);
	ERR_clear_error();
	return 0;
}
