/* truststore lint, mtls check, chain verify */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/kg_file.h"
#include "common/kg_json.h"
#include "engine/eng.h"
#include "engine/eng_trust.h"

/* Reads a file of certificates; nothing usable is an error. */
static enum kg_code read_certs(const char *path, const char *what,
                               STACK_OF(X509) * *out, struct kg_err *err)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	enum kg_code rc;

	*out = NULL;
	if (path == NULL)
		return kg_err_set(err, KG_E_USAGE, "give %s", what);
	rc = kg_file_read(path, &buf, &len, err);
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

static json_t *path_json(STACK_OF(X509) * path)
{
	json_t *arr = json_array();
	int i;

	for (i = 0; i < sk_X509_num(path); i++) {
		char *s = eng_name_str(
		        X509_get_subject_name(sk_X509_value(path, i)));

		json_array_append_new(arr, kg_json_str(s ? s : ""));
		OPENSSL_free(s);
	}
	return arr;
}

static void path_print(STACK_OF(X509) * path)
{
	int i;

	for (i = 0; i < sk_X509_num(path); i++) {
		char *s = eng_name_str(
		        X509_get_subject_name(sk_X509_value(path, i)));

		printf("  %d %s\n", i, s ? s : "");
		OPENSSL_free(s);
	}
}

enum kg_code cli_truststore_lint(struct cli_ctx *c, const struct cli_cmd *cmd,
                                 struct cli_args *a)
{
	const char *path = a->pos[0];
	STACK_OF(X509) *certs = NULL;
	struct eng_findings f = {0};
	unsigned char *buf = NULL;
	size_t len = 0;
	struct kg_err err;
	enum kg_code rc;
	json_t *extra;

	rc = kg_file_read(path, &buf, &len, &err);
	if (rc == KG_OK)
		rc = eng_certs_parse(buf, len, path, &certs, &f, &err);
	free(buf);
	if (rc != KG_OK)
		return cli_fail(c, &err);
	eng_ts_lint(certs, path, c->now, &f);
	extra = json_object();
	json_object_set_new(extra, "certificates",
	                    json_integer(sk_X509_num(certs)));
	if (!c->json)
		printf("%s: %d certificates\n", path, sk_X509_num(certs));
	rc = cli_findings(c, "truststore lint", &f, extra);
	eng_findings_free(&f);
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

enum kg_code cli_mtls_check(struct cli_ctx *c, const struct cli_cmd *cmd,
                            struct cli_args *a)
{
	STACK_OF(X509) *ts = NULL, *sent = NULL;
	struct eng_mtls_res res = {0};
	struct kg_err err;
	enum kg_code rc;

	rc = read_certs(cli_opt(cmd, a, "truststore"), "--truststore FILE",
	                &ts, &err);
	if (rc == KG_OK)
		rc = read_certs(cli_opt(cmd, a, "cert"), "--cert FILE", &sent,
		                &err);
	if (rc == KG_OK)
		rc = eng_mtls_check(ts, sent, c->now, &res, &err);
	if (rc != KG_OK) {
		rc = cli_fail(c, &err);
		goto out;
	}
	if (c->json) {
		json_t *j = json_object();

		json_object_set_new(j, "decision",
		                    json_string(res.allow ? "allow" : "deny"));
		json_object_set_new(j, "status", json_integer(res.status));
		json_object_set_new(j, "reason",
		                    res.reason ? json_string(res.reason)
		                               : json_null());
		json_object_set_new(j, "detail",
		                    res.detail[0] ? kg_json_str(res.detail)
		                                  : json_null());
		json_object_set_new(j, "path", path_json(res.path));
		cli_emit(c, j);
	} else {
		printf("%s (%d)%s%s\n", res.allow ? "allow" : "deny",
		       res.status, res.reason ? ": " : "",
		       res.reason ? res.reason : "");
		if (res.detail[0])
			printf("  %s\n", res.detail);
		path_print(res.path);
	}
	if (!res.allow)
		fprintf(stderr,
		        "keygate: mtls check: API Gateway would answer 403 "
		        "(%s)\n",
		        res.reason);
	rc = res.allow ? KG_OK : KG_REFUSED;
out:
	eng_mtls_res_free(&res);
	sk_X509_pop_free(ts, X509_free);
	sk_X509_pop_free(sent, X509_free);
	return rc;
}

enum kg_code cli_chain_verify(struct cli_ctx *c, const struct cli_cmd *cmd,
                              struct cli_args *a)
{
	const char *purpose = cli_opt(cmd, a, "purpose");
	const char *depth = cli_opt(cmd, a, "max-depth");
	const char *crlf = cli_opt(cmd, a, "crl");
	STACK_OF(X509) *ts = NULL, *leafs = NULL, *unt = NULL;
	STACK_OF(X509_CRL) *crls = NULL;
	struct eng_verify_req vr = {0};
	struct eng_verify_res res = {0};
	unsigned char *buf = NULL;
	size_t len = 0;
	struct kg_err err;
	enum kg_code rc;
	char *end;
	int i;

	vr.max_depth = -1;
	vr.strict = 1;
	vr.check_time = !cli_flag(cmd, a, "no-check-time");
	vr.at = c->now;
	vr.host = cli_opt(cmd, a, "host");
	rc = KG_OK;
	if (purpose == NULL || strcmp(purpose, "any") == 0)
		vr.purpose = ENG_PURPOSE_ANY;
	else if (strcmp(purpose, "server") == 0)
		vr.purpose = ENG_PURPOSE_SERVER;
	else if (strcmp(purpose, "client") == 0)
		vr.purpose = ENG_PURPOSE_CLIENT;
	else
		rc = kg_err_set(
		        &err, KG_E_USAGE,
		        "unknown --purpose '%s': use client, server or "
		        "any",
		        purpose);
	if (rc == KG_OK && depth != NULL) {
		errno = 0;
		vr.max_depth = (int)strtol(depth, &end, 10);
		if (*end != '\0' || errno || vr.max_depth < 0 ||
		    vr.max_depth > 1000)
			rc = kg_err_set(&err, KG_E_USAGE,
			                "bad --max-depth '%s': a number of "
			                "intermediates from 0 to 1000",
			                depth);
	}
	if (rc == KG_OK)
		rc = read_certs(cli_opt(cmd, a, "truststore"),
		                "--truststore FILE", &ts, &err);
	if (rc == KG_OK)
		rc = read_certs(cli_opt(cmd, a, "cert"), "--cert FILE", &leafs,
		                &err);
	if (rc == KG_OK && cli_opt(cmd, a, "untrusted") != NULL)
		rc = read_certs(cli_opt(cmd, a, "untrusted"),
		                "--untrusted FILE", &unt, &err);
	if (rc == KG_OK && crlf != NULL) {
		rc = kg_file_read(crlf, &buf, &len, &err);
		if (rc == KG_OK)
			rc = eng_crls_parse(buf, len, crlf, &crls, &err);
		free(buf);
	}
	if (rc != KG_OK) {
		rc = cli_fail(c, &err);
		goto out;
	}
	/* certificates after the first in --cert are untrusted too */
	if (sk_X509_num(leafs) > 1) {
		if (unt == NULL)
			unt = sk_X509_new_null();
		for (i = 1; unt != NULL && i < sk_X509_num(leafs); i++)
			if (sk_X509_push(unt, sk_X509_value(leafs, i)))
				X509_up_ref(sk_X509_value(leafs, i));
	}
	vr.trusted = ts;
	vr.untrusted = unt;
	vr.leaf = sk_X509_value(leafs, 0);
	vr.crls = crls;
	rc = eng_verify(&vr, &res, &err);
	if (rc != KG_OK) {
		rc = cli_fail(c, &err);
		goto out;
	}
	if (c->json) {
		json_t *j = json_object();

		json_object_set_new(j, "valid", json_boolean(res.ok));
		json_object_set_new(j, "error",
		                    res.ok ? json_null()
		                           : kg_json_str(res.reason));
		json_object_set_new(j, "path", path_json(res.path));
		cli_emit(c, j);
	} else {
		printf("%s%s%s\n", res.ok ? "valid" : "not valid",
		       res.ok ? "" : ": ", res.ok ? "" : res.reason);
		path_print(res.path);
	}
	if (!res.ok)
		fprintf(stderr, "keygate: chain verify: %s\n", res.reason);
	rc = res.ok ? KG_OK : KG_REFUSED;
out:
	eng_verify_res_free(&res);
	sk_X509_pop_free(ts, X509_free);
	sk_X509_pop_free(leafs, X509_free);
	sk_X509_pop_free(unt, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	return rc;
}
