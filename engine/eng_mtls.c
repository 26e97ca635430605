/* The mTLS decision: what API Gateway does with a client certificate. */
#include "engine/eng_trust.h"

#include <stdio.h>
#include <string.h>

#include "engine/eng.h"

/* ---- mTLS ------------------------------------------------------------ */

void eng_mtls_res_free(struct eng_mtls_res *res)
{
	sk_X509_pop_free(res->path, X509_free);
	memset(res, 0, sizeof(*res));
}

enum kg_code eng_mtls_check(STACK_OF(X509) * truststore, STACK_OF(X509) * sent,
                            time_t at, struct eng_mtls_res *res,
                            struct kg_err *err)
{
	struct eng_verify_req vr = {0};
	struct eng_verify_res v;
	STACK_OF(X509) *chain = NULL;
	enum kg_code rc;
	int i;

	memset(res, 0, sizeof(*res));
	if (sk_X509_num(sent) < 1)
		return kg_err_set(err, KG_E_USAGE, "no client certificate");
	chain = sk_X509_new_null();
	for (i = 1; chain != NULL && i < sk_X509_num(sent); i++)
		sk_X509_push(chain, sk_X509_value(sent, i));
	vr.trusted = truststore;
	vr.untrusted = chain;
	vr.leaf = sk_X509_value(sent, 0);
	vr.max_depth = -1;
	vr.check_time = 1;
	vr.at = at;
	rc = eng_verify(&vr, &v, err);
	sk_X509_free(chain);
	if (rc != KG_OK)
		return rc;
	res->path = v.path;
	v.path = NULL;
	res->status = 403;
	if (!v.ok) {
		switch (v.error) {
		case X509_V_ERR_CERT_HAS_EXPIRED:
			res->reason = "expired";
			break;
		case X509_V_ERR_CERT_NOT_YET_VALID:
			res->reason = "not-yet-valid";
			break;
		case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
			res->reason = "bad-signature";
			break;
		default:
			res->reason = "untrusted";
			break;
		}
		snprintf(res->detail, sizeof(res->detail), "%s", v.reason);
		return KG_OK;
	}
	/* API Gateway's policy on the path OpenSSL built */
	for (i = 0; i < sk_X509_num(res->path); i++) {
		X509 *x = sk_X509_value(res->path, i);
		const char *weak = eng_weak_signature(x);

		if (weak == NULL)
			weak = eng_weak_key(x);
		if (weak != NULL) {
			char subj[160];

			eng_subject_str(x, subj, sizeof(subj));
			res->reason = "unsupported-algorithm";
			snprintf(res->detail, sizeof(res->detail),
			         "%s (path position %d) uses %s", subj, i,
			         weak);
			return KG_OK;
		}
	}
	if (sk_X509_num(res->path) > ENG_MAX_PATH) {
		res->reason = "chain-too-long";
		snprintf(res->detail, sizeof(res->detail),
		         "%d certificates on the path; API Gateway takes at "
		         "most %d",
		         sk_X509_num(res->path), ENG_MAX_PATH);
		return KG_OK;
	}
	res->allow = 1;
	res->status = 200;
	return KG_OK;
}
