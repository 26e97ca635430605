/* Audit records of token operations, filled in one place. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>

#include "common/kg_audit.h"
#include "engine/eng.h"

int cli_audit_fill(const struct cli_key *k, const char *op, const char *result,
                   const X509 *cert, const X509_NAME *subject, const void *out,
                   size_t len, const char *out_path, const char *detail,
                   struct cli_audit_rec *ar)
{
	struct kg_audit_rec *r = &ar->r;
	const struct hsm_key_info *ki;
	BIGNUM *bn = NULL;

	memset(ar, 0, sizeof(*ar));
	if (k == NULL || k->t == NULL)
		return 0; /* only token operations are on record */
	ki = hsm_key_describe(k->k);
	r->op = op;
	r->result = result;
	r->token_serial = hsm_token_serial(k->t);
	r->token_label = hsm_token_label(k->t);
	r->key_id = ki->id;
	r->key_id_len = ki->id_len;
	r->key = k->desc;
	if (cert != NULL) {
		subject = X509_get_subject_name(cert);
		bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
		ar->serial = bn ? BN_bn2hex(bn) : NULL;
		BN_free(bn);
		/* who signed it: the CA database's key (kg_cadb.h) */
		ar->issuer = eng_name_str(X509_get_issuer_name(cert));
		if (ar->issuer != NULL &&
		    (ar->issuer_spki = OPENSSL_malloc(65)) != NULL &&
		    !eng_key_spki_sha256(k->pkey, ar->issuer_spki)) {
			OPENSSL_free(ar->issuer_spki);
			ar->issuer_spki = NULL;
		}
		if (ar->issuer_spki != NULL) {
			r->issuer = ar->issuer;
			r->issuer_spki = ar->issuer_spki;
		}
	}
	ar->subject = subject ? eng_name_str(subject) : NULL;
	r->subject = ar->subject;
	r->serial = ar->serial;
	r->out = out;
	r->out_len = len;
	r->out_path = out_path;
	r->detail = detail;
	return 1;
}

void cli_audit_rec_clear(struct cli_audit_rec *ar)
{
	OPENSSL_free(ar->subject);
	OPENSSL_free(ar->serial);
	OPENSSL_free(ar->issuer);
	OPENSSL_free(ar->issuer_spki);
	memset(ar, 0, sizeof(*ar));
}

enum kg_code cli_audit(struct cli_ctx *c, const char *op, const char *result,
                       const struct cli_key *k, const X509 *cert,
                       const X509_NAME *subject, const void *out, size_t len,
                       const char *out_path, const char *detail,
                       struct kg_err *err)
{
	struct cli_audit_rec ar;
	enum kg_code rc;

	if (c->audit == NULL ||
	    !cli_audit_fill(k, op, result, cert, subject, out, len, out_path,
	                    detail, &ar))
		return KG_OK;
	rc = kg_audit_append(c->audit, &ar.r, err);
	cli_audit_rec_clear(&ar);
	return rc;
}

void cli_audit_token(struct cli_ctx *c, struct hsm_token *t,
                     struct kg_audit_rec *r)
{
	struct kg_err err;

	if (c->audit == NULL)
		return;
	r->token_serial = hsm_token_serial(t);
	r->token_label = hsm_token_label(t);
	if (kg_audit_append(c->audit, r, &err) != KG_OK)
		fprintf(stderr, "keygate: %s\n", err.msg);
}

void cli_audit_keygen(struct kg_audit_rec *r, struct hsm_token *t,
                      const unsigned char *id, size_t id_len, const char *uri,
                      const char *type)
{
	memset(r, 0, sizeof(*r));
	r->op = "key-gen";
	r->result = "ok";
	r->token_serial = hsm_token_serial(t);
	r->token_label = hsm_token_label(t);
	r->key_id = id;
	r->key_id_len = id_len;
	r->key = uri;
	r->detail = type;
}
