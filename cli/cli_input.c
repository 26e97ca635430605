/* Inputs that several commands read. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/kg_file.h"
#include "engine/eng.h"
#include "engine/eng_trust.h"

/*
 * Reads a file of certificates, at most cap bytes (what: "a truststore",
 * for the message); nothing usable is an error.
 */
enum kg_code cli_read_certs(struct cli_ctx *c, const char *path,
                            const char *what, size_t cap,
                            STACK_OF(X509) * *out, struct kg_err *err)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	enum kg_code rc;

	*out = NULL;
	if (path == NULL)
		return kg_err_set(err, KG_E_USAGE, "give %s", what);
	rc = cli_read_cert_input(c, path, cap, what, 0, &buf, &len, err);
	if (rc == KG_OK)
		rc = eng_certs_parse(buf, len, path, out, NULL, err);
	if (rc == KG_OK && sk_X509_num(*out) == 0) {
		sk_X509_free(*out);
		*out = NULL;
		rc = kg_err_set(err, KG_REFUSED, "'%s' holds no certificate",
		                path);
	}
	free(buf);
	return rc;
}

enum kg_code cli_token_certs(struct cli_ctx *c, const char *uri, int one,
                             unsigned char **buf, size_t *len,
                             struct kg_err *err)
{
	struct hsm_token *t = NULL;
	struct hsm_cert *cs = NULL;
	STACK_OF(X509) *xs = NULL;
	size_t n = 0, i, used = 0, got = 0;
	char *pem = NULL, *all = NULL, *p;
	size_t plen = 0;
	enum kg_code rc;

	*buf = NULL;
	*len = 0;
	rc = hsm_token_open(uri, &c->hconf, HSM_NO_LOGIN, &t, err);
	if (rc == KG_OK)
		rc = hsm_cert_list(t, uri, &cs, &n, err);
	for (i = 0; rc == KG_OK && i < n; i++)
		got += cs[i].der != NULL;
	if (rc == KG_OK && got == 0)
		rc = kg_err_set(err, KG_E_TOKEN,
		                "no certificate on the token matches '%s'; "
		                "see keygate object list --token",
		                uri);
	if (rc == KG_OK && one && got > 1) {
		size_t cap = 64, at;

		for (i = 0; i < n; i++)
			cap += cs[i].uri ? strlen(cs[i].uri) + 3 : 0;
		all = malloc(cap);
		if (all == NULL) {
			rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
		} else {
			at = 0;
			all[0] = '\0';
			for (i = 0; i < n; i++)
				if (cs[i].der != NULL && cs[i].uri != NULL)
					at += (size_t)snprintf(
					        all + at, cap - at, "\n  %s",
					        cs[i].uri);
			rc = kg_err_set(
			        err, KG_E_TOKEN,
			        "%zu certificates match '%s'; name one "
			        "by its object= or id=:%s",
			        got, uri, all);
		}
	}
	/* each as PEM, one after another: what a file of them would be */
	for (i = 0; rc == KG_OK && i < n; i++) {
		if (cs[i].der == NULL)
			continue;
		rc = eng_certs_parse(cs[i].der, cs[i].der_len, cs[i].uri, &xs,
		                     NULL, err);
		if (rc == KG_OK && sk_X509_num(xs) != 1)
			rc = kg_err_set(err, KG_REFUSED,
			                "the token object %s is not one "
			                "certificate",
			                cs[i].uri);
		if (rc == KG_OK)
			rc = eng_pem_cert(sk_X509_value(xs, 0), &pem, &plen,
			                  err);
		sk_X509_pop_free(xs, X509_free);
		xs = NULL;
		if (rc != KG_OK)
			break;
		p = realloc(*buf, used + plen + 1);
		if (p == NULL) {
			rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
		} else {
			memcpy(p + used, pem, plen);
			used += plen;
			p[used] = '\0';
			*buf = (unsigned char *)p;
		}
		OPENSSL_free(pem);
		pem = NULL;
	}
	free(all);
	hsm_cert_free_array(cs, n);
	hsm_token_close(t);
	if (rc != KG_OK) {
		free(*buf);
		*buf = NULL;
		return rc;
	}
	*len = used;
	return KG_OK;
}

enum kg_code cli_read_cert_input(struct cli_ctx *c, const char *path,
                                 size_t cap, const char *what, int one,
                                 unsigned char **buf, size_t *len,
                                 struct kg_err *err)
{
	if (c != NULL && path != NULL && hsm_is_uri(path))
		return cli_token_certs(c, path, one, buf, len, err);
	return kg_file_read_max(path, cap, what, buf, len, err);
}
