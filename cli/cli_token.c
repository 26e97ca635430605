/* The KEY argument: a pkcs11: URI (a token key) or a PEM/DER file. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>

#include "common/kg_audit.h"
#include "common/kg_file.h"
#include "common/kg_secret.h"
#include "engine/eng.h"
#include "engine/eng_gate.h"

enum kg_code cli_key_open(struct cli_ctx *c, const char *spec,
                          const char *passphrase_source, struct cli_key *out,
                          struct kg_err *err)
{
	struct kg_secret *pass = NULL;
	unsigned char *buf = NULL;
	size_t len = 0;
	enum kg_code rc;

	memset(out, 0, sizeof(*out));
	if (hsm_is_uri(spec)) {
		rc = hsm_token_open(spec, &c->hconf, HSM_LOGIN_USER, &out->t,
		                    err);
		if (rc == KG_OK)
			rc = hsm_key_find(out->t, spec, &out->k, err);
		if (rc == KG_OK)
			rc = hsm_key_pkey(out->k, &out->pkey, err);
		if (rc == KG_OK)
			snprintf(out->desc, sizeof(out->desc), "%s",
			         hsm_key_describe(out->k)->uri);
		if (rc != KG_OK)
			cli_key_close(out);
		return rc;
	}
	rc = kg_file_read_max(spec, KG_CAP_CERT, "a key file", &buf, &len,
	                      err);
	if (rc != KG_OK)
		return rc;
	if (passphrase_source != NULL) {
		rc = kg_secret_from_source(passphrase_source, "passphrase",
		                           &pass, err);
		if (rc != KG_OK)
			goto out;
	}
	rc = eng_key_load(buf, len, spec, pass ? pass->buf : NULL, &out->pkey,
	                  err);
	snprintf(out->desc, sizeof(out->desc), "%s", spec);
out:
	kg_secret_free(pass);
	OPENSSL_cleanse(buf, len); /* the file held a private key */
	free(buf);
	return rc;
}

void cli_key_close(struct cli_key *k)
{
	EVP_PKEY_free(k->pkey); /* before the session it signs with */
	hsm_key_free(k->k);
	hsm_token_close(k->t);
	memset(k, 0, sizeof(*k));
}

enum kg_code cli_key_workers(const struct cli_key *k, const char *spec,
                             int want, struct cli_key **out, int *got,
                             struct kg_err *err)
{
	struct cli_key *w;
	struct kg_err ferr;
	int i;

	*out = NULL;
	*got = 0;
	w = calloc((size_t)(want < 1 ? 1 : want), sizeof(*w));
	if (w == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	w[0] = *k; /* borrowed: not closed by cli_key_workers_free */
	for (i = 1; i < want; i++) {
		w[i] = *k;
		if (k->t == NULL) {
			/* a software key signs from many threads at once */
			if (!EVP_PKEY_up_ref(k->pkey))
				break;
			w[i].t = NULL;
			w[i].k = NULL;
			continue;
		}
		w[i].t = NULL;
		w[i].k = NULL;
		w[i].pkey = NULL;
		/* as many sessions as the token gives, at least one */
		if (hsm_token_fork(k->t, &w[i].t, &ferr) != KG_OK ||
		    hsm_key_find(w[i].t, spec, &w[i].k, &ferr) != KG_OK ||
		    hsm_key_pkey(w[i].k, &w[i].pkey, &ferr) != KG_OK) {
			cli_key_close(&w[i]);
			break;
		}
	}
	*out = w;
	*got = i;
	return KG_OK;
}

void cli_key_workers_free(struct cli_key *w, int n)
{
	int i;

	for (i = 1; w != NULL && i < n; i++)
		cli_key_close(&w[i]);
	free(w);
}

enum kg_code cli_key_type(const char *s, struct hsm_keygen *g,
                          struct kg_err *err)
{
	const struct eng_key_type *kt;
	enum kg_code rc = eng_key_type_parse(s, &kt, err);

	if (rc != KG_OK)
		return rc;
	g->type = eng_key_type_is_ed(kt) ? HSM_KEY_ED
	          : kt->curve            ? HSM_KEY_EC
	                                 : HSM_KEY_RSA;
	g->bits = kt->bits;
	g->curve_nid = kt->curve_nid;
	return KG_OK;
}
