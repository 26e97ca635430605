/* Path validation: X509_verify_cert with keygate's policy on top. */
#include "engine/eng_trust.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "engine/eng.h"
#include "engine/eng_policy.h"

/* ---- path validation ------------------------------------------------- */

enum kg_code eng_purpose_parse(const char *s, enum eng_purpose *out,
                               struct kg_err *err)
{
	if (s == NULL || strcmp(s, "any") == 0)
		*out = ENG_PURPOSE_ANY;
	else if (strcmp(s, "server") == 0)
		*out = ENG_PURPOSE_SERVER;
	else if (strcmp(s, "client") == 0)
		*out = ENG_PURPOSE_CLIENT;
	else
		return kg_err_set(
		        err, KG_E_USAGE,
		        "unknown purpose '%s': use client, server or "
		        "any",
		        s);
	return KG_OK;
}

void eng_verify_res_free(struct eng_verify_res *res)
{
	sk_X509_pop_free(res->path, X509_free);
	memset(res, 0, sizeof(*res));
}

enum kg_code eng_verify(const struct eng_verify_req *r,
                        struct eng_verify_res *res, struct kg_err *err)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *vp;
	unsigned long flags = r->strict ? X509_V_FLAG_X509_STRICT : 0;
	int rv, dropped, i;
	/* each anchor once: sorted, not compared pairwise */
	STACK_OF(X509) *trusted = eng_certs_unique(r->trusted, &dropped);
	/* what came after the leaf is untrusted too */
	STACK_OF(X509) *unt =
	        r->untrusted ? sk_X509_dup(r->untrusted) : sk_X509_new_null();

	memset(res, 0, sizeof(*res));
	if (store == NULL || ctx == NULL || trusted == NULL || unt == NULL)
		goto oom;
	for (i = 0; i < sk_X509_num(r->sent_after); i++)
		if (!sk_X509_push(unt, sk_X509_value(r->sent_after, i)))
			goto oom;
	if (!X509_STORE_CTX_init(ctx, store, r->leaf, unt))
		goto oom;
	/*
	 * The anchors as a stack, not added to the store one by one: the
	 * store re-sorts itself on every add and compares each new one with
	 * all of the same name (quadratic in a store of one subject). The
	 * stack is searched once per step of the path.
	 */
	X509_STORE_CTX_set0_trusted_stack(ctx, trusted);
	vp = X509_STORE_CTX_get0_param(ctx);
	if (r->purpose != ENG_PURPOSE_ANY)
		X509_STORE_CTX_set_purpose(ctx,
		                           r->purpose == ENG_PURPOSE_SERVER
		                                   ? X509_PURPOSE_SSL_SERVER
		                                   : X509_PURPOSE_SSL_CLIENT);
	if (r->host != NULL) {
		if (eng_is_ip(r->host))
			X509_VERIFY_PARAM_set1_ip_asc(vp, r->host);
		else
			X509_VERIFY_PARAM_set1_host(vp, r->host, 0);
	}
	if (r->max_depth >= 0)
		X509_VERIFY_PARAM_set_depth(vp, r->max_depth);
	if (r->crls != NULL) {
		X509_STORE_CTX_set0_crls(ctx, r->crls);
		flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
	}
	if (r->check_time)
		X509_VERIFY_PARAM_set_time(vp, r->at);
	else
		flags |= X509_V_FLAG_NO_CHECK_TIME;
	X509_VERIFY_PARAM_set_flags(vp, flags);
	/* names match subjectAltName only: the CN is no hostname */
	X509_VERIFY_PARAM_set_hostflags(vp,
	                                X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
	X509_STORE_CTX_set_verify_cb(ctx, eng_verify_cb);
	rv = X509_verify_cert(ctx);
	res->path = X509_STORE_CTX_get1_chain(ctx);
	if (rv == 1 &&
	    ((r->strict && !eng_rfc5280_rules(res->path, res->reason,
	                                      sizeof(res->reason))) ||
	     (r->purpose == ENG_PURPOSE_SERVER &&
	      !eng_webpki_rules(res->path, res->reason,
	                        sizeof(res->reason))) ||
	     !eng_crl_rules(r->crls, res->reason, sizeof(res->reason)))) {
		res->error = -1; /* keygate's policy */
	} else if (rv == 1) {
		res->ok = 1;
	} else {
		res->error = X509_STORE_CTX_get_error(ctx);
		res->error_depth = X509_STORE_CTX_get_error_depth(ctx);
		snprintf(res->reason, sizeof(res->reason), "%s (at depth %d)",
		         X509_verify_cert_error_string(res->error),
		         res->error_depth);
	}
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_pop_free(trusted, X509_free);
	sk_X509_free(unt); /* the references are the caller's */
	return KG_OK;
oom:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_pop_free(trusted, X509_free);
	sk_X509_free(unt);
	return kg_err_set(err, KG_E_RUNTIME, "out of memory");
}
