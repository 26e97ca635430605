/* The KEY argument: a pkcs11: URI (a token key) or a PEM/DER file. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/kg_file.h"
#include "common/kg_secret.h"
#include "engine/eng.h"

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
	rc = kg_file_read(spec, &buf, &len, err);
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
