/*
 * The ACM import gate (bundle check): eng_acm_check on its inputs as
 * bundle check reads them into memory. The fuzz input is up to four files
 * separated by FZ_SEP lines: certificate, private key, chain and the
 * certificate being replaced (--replaces); a file that is not there is not
 * given.
 */
#include "tests/fuzz/fz.h"

#include <openssl/err.h>

#include "engine/eng_gate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_part p[4];
	struct eng_acm_req r;
	struct eng_findings f = {0};
	struct kg_err err;
	size_t i;

	fz_split(data, size, p, 4);
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
	ERR_clear_error();
	return 0;
}
