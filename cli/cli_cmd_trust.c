/* truststore lint, mtls check, chain verify */
#include "cli/cli.h"
#include "common/kg_time.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/pem.h>

#include "common/kg_file.h"
#include "common/kg_json.h"
#include "engine/eng.h"
#include "engine/eng_trust.h"

/* options, beside their handlers (the table in cli_main.c) */
const struct cli_opt cli_opts_mtls_check[] = {
        {"cert", CLI_VALUE, "FILE",
         "the client certificate, and any chain it sends after it"},
        {"truststore", CLI_VALUE, "FILE", "the API's truststore (PEM)"},
        CLI_OPT_END};

const struct cli_opt cli_opts_chain_verify[] = {
        {"cert", CLI_VALUE, "FILE",
         "the certificate (more after it: untrusted)"},
        {"crl", CLI_VALUE, "FILE", "check revocation against these CRLs"},
        {"host", CLI_VALUE, "NAME", "the DNS name or IP address to match"},
        {"max-depth", CLI_VALUE, "N",
         "intermediates allowed (as openssl verify -verify_depth)"},
        {"no-check-time", CLI_FLAG, NULL, "do not check validity periods"},
        {"purpose", CLI_VALUE, "P", "client, server or any (default)"},
        {"truststore", CLI_VALUE, "FILE", "the trust anchors (PEM)"},
        {"untrusted", CLI_VALUE, "FILE", "intermediates to build a path with"},
        CLI_OPT_END};

const struct cli_opt cli_opts_ts_out[] = {
        {"force", CLI_FLAG, NULL, "replace an existing --out file"},
        {"out", CLI_VALUE, "FILE", "write here (default: stdout)"},
        CLI_OPT_END};

const struct cli_opt cli_opts_ts_remove[] = {
        {"fingerprint", CLI_VALUE, "F",
         "SHA-256 fingerprint of the certificate to drop"},
        {"force", CLI_FLAG, NULL, "replace an existing --out file"},
        {"out", CLI_VALUE, "FILE", "write here (default: stdout)"},
        CLI_OPT_END};

/*
 * KEYGATE_DEBUG_COUNTS=1: what the truststore code did, on stderr, for
 * the scale tests (tests/integration/t_scale.sh).
 */
static void debug_counts(const char *cmd)
{
	const char *e = getenv("KEYGATE_DEBUG_COUNTS");

	if (e == NULL || *e == '\0' || strcmp(e, "0") == 0)
		return;
	fprintf(stderr,
	        "keygate: debug: %s: verify=%lu candidates=%lu compare=%lu\n",
	        cmd, eng_trust_counts.verify, eng_trust_counts.candidates,
	        eng_trust_counts.compare);
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

	rc = kg_file_read_max(path, KG_CAP_TRUSTSTORE, "a truststore", &buf,
	                      &len, &err);
	if (rc == KG_OK)
		rc = eng_certs_parse(buf, len, path, &certs, &f, &err);
	free(buf);
	if (rc != KG_OK)
		return cli_fail(c, &err);
	eng_ts_lint(certs, path, c->now, &f);
	debug_counts("truststore lint");
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

	rc = cli_read_certs(c, cli_opt(cmd, a, "truststore"),
	                    "--truststore FILE", KG_CAP_TRUSTSTORE, &ts, &err);
	if (rc == KG_OK)
		rc = cli_read_certs(c, cli_opt(cmd, a, "cert"), "--cert FILE",
		                    KG_CAP_CERT, &sent, &err);
	if (rc == KG_OK)
		rc = eng_mtls_check(ts, sent, c->now, &res, &err);
	debug_counts("mtls check");
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
	STACK_OF(X509) *ts = NULL, *leafs = NULL, *unt = NULL, *sent = NULL;
	STACK_OF(X509_CRL) *crls = NULL;
	struct eng_verify_req vr = {0};
	struct eng_verify_res res = {0};
	unsigned char *buf = NULL;
	size_t len = 0;
	struct kg_err err;
	enum kg_code rc;
	char *end;

	vr.max_depth = -1;
	vr.strict = 1;
	vr.check_time = !cli_flag(cmd, a, "no-check-time");
	vr.at = c->now;
	vr.host = cli_opt(cmd, a, "host");
	rc = KG_OK;
	rc = eng_purpose_parse(purpose, &vr.purpose, &err);
	if (rc != KG_OK)
		kg_err_prefix(&err, "--purpose");
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
		rc = cli_read_certs(c, cli_opt(cmd, a, "truststore"),
		                    "--truststore FILE", KG_CAP_TRUSTSTORE,
		                    &ts, &err);
	if (rc == KG_OK)
		rc = cli_read_certs(c, cli_opt(cmd, a, "cert"), "--cert FILE",
		                    KG_CAP_CERT, &leafs, &err);
	if (rc == KG_OK && cli_opt(cmd, a, "untrusted") != NULL)
		rc = cli_read_certs(c, cli_opt(cmd, a, "untrusted"),
		                    "--untrusted FILE", KG_CAP_TRUSTSTORE,
		                    &unt, &err);
	if (rc == KG_OK && crlf != NULL) {
		rc = kg_file_read_max(crlf, KG_CAP_CRL, "a CRL file", &buf,
		                      &len, &err);
		if (rc == KG_OK)
			rc = eng_crls_parse(buf, len, crlf, &crls, &err);
		free(buf);
	}
	if (rc != KG_OK) {
		rc = cli_fail(c, &err);
		goto out;
	}
	/* certificates after the first in --cert: sent with it */
	if (sk_X509_num(leafs) > 1) {
		sent = sk_X509_dup(leafs);
		if (sent == NULL) {
			kg_err_set(&err, KG_E_RUNTIME, "out of memory");
			rc = cli_fail(c, &err);
			goto out;
		}
		(void)sk_X509_shift(sent);
	}
	vr.trusted = ts;
	vr.untrusted = unt;
	vr.leaf = sk_X509_value(leafs, 0);
	vr.sent_after = sent;
	vr.crls = crls;
	rc = eng_verify(&vr, &res, &err);
	debug_counts("chain verify");
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
	sk_X509_free(sent); /* leafs' references */
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	return rc;
}

/* ---- truststore merge / remove --------------------------------------- */

/* PEM of every certificate in sk, concatenated. OPENSSL_free(). */
static enum kg_code certs_pem(STACK_OF(X509) * sk, char **out, size_t *len,
                              struct kg_err *err)
{
	BIO *b = BIO_new(BIO_s_mem());
	int i;

	*out = NULL;
	for (i = 0; b != NULL && i < sk_X509_num(sk); i++)
		if (!PEM_write_bio_X509(b, sk_X509_value(sk, i)))
			break;
	if (b != NULL && i == sk_X509_num(sk))
		*out = eng_bio_str(b, len);
	BIO_free(b);
	return *out ? KG_OK : kg_err_set(err, KG_E_RUNTIME, "out of memory");
}

static enum kg_code write_certs(struct cli_ctx *c, const struct cli_cmd *cmd,
                                struct cli_args *a, STACK_OF(X509) * sk,
                                struct kg_err *err)
{
	char *pem = NULL;
	size_t len = 0;
	enum kg_code rc = certs_pem(sk, &pem, &len, err);

	if (rc == KG_OK)
		rc = cli_write_out(c, cli_opt(cmd, a, "out"), pem, len, 0644,
		                   cli_flag(cmd, a, "force"), err);
	OPENSSL_free(pem);
	return rc;
}

enum kg_code cli_truststore_merge(struct cli_ctx *c, const struct cli_cmd *cmd,
                                  struct cli_args *a)
{
	STACK_OF(X509) *all = sk_X509_new_null(), *one = NULL, *uniq = NULL;
	struct kg_err err;
	enum kg_code rc = KG_OK;
	int f, i, dups = 0;

	if (all == NULL)
		rc = kg_err_set(&err, KG_E_RUNTIME, "out of memory");
	if (rc == KG_OK && c->json && cli_opt(cmd, a, "out") == NULL)
		rc = kg_err_set(&err, KG_E_USAGE,
		                "with --json, give --out FILE");
	for (f = 0; rc == KG_OK && f < a->npos; f++) {
		rc = cli_read_certs(c, a->pos[f], "a truststore",
		                    KG_CAP_TRUSTSTORE, &one, &err);
		for (i = 0; rc == KG_OK && i < sk_X509_num(one); i++) {
			X509 *x = sk_X509_value(one, i);

			if (!sk_X509_push(all, x))
				rc = kg_err_set(&err, KG_E_RUNTIME,
				                "out of memory");
			else
				X509_up_ref(x);
		}
		sk_X509_pop_free(one, X509_free);
		one = NULL;
	}
	/* each once: sorted, not compared pairwise */
	if (rc == KG_OK && (uniq = eng_certs_unique(all, &dups)) == NULL)
		rc = kg_err_set(&err, KG_E_RUNTIME, "out of memory");
	debug_counts("truststore merge");
	if (rc == KG_OK)
		rc = write_certs(c, cmd, a, uniq, &err);
	if (rc == KG_OK) {
		if (c->json) {
			json_t *j2 = json_object();

			json_object_set_new(
			        j2, "out",
			        kg_json_str(cli_opt(cmd, a, "out")));
			json_object_set_new(j2, "certificates",
			                    json_integer(sk_X509_num(uniq)));
			json_object_set_new(j2, "duplicates_dropped",
			                    json_integer(dups));
			cli_emit(c, j2);
		} else {
			cli_info(
			        c, "%d certificates, %d duplicate%s dropped\n",
			        sk_X509_num(uniq), dups, dups == 1 ? "" : "s");
		}
	}
	sk_X509_pop_free(all, X509_free);
	sk_X509_pop_free(uniq, X509_free);
	return rc == KG_OK ? KG_OK : cli_fail(c, &err);
}

enum kg_code cli_truststore_remove(struct cli_ctx *c,
                                   const struct cli_cmd *cmd,
                                   struct cli_args *a)
{
	const char *fps = cli_opt(cmd, a, "fingerprint");
	STACK_OF(X509) *sk = NULL, *keep = NULL;
	unsigned char want[32];
	struct kg_err err;
	enum kg_code rc;
	int removed = 0;

	rc = fps == NULL ? kg_err_set(&err, KG_E_USAGE,
	                              "give --fingerprint with the SHA-256 "
	                              "fingerprint (keygate cert show prints "
	                              "it)")
	                 : eng_fp_parse(fps, want, &err);
	if (rc != KG_OK && fps != NULL)
		kg_err_prefix(&err, "--fingerprint");
	if (rc == KG_OK && c->json && cli_opt(cmd, a, "out") == NULL)
		rc = kg_err_set(&err, KG_E_USAGE,
		                "with --json, give --out FILE");
	if (rc == KG_OK)
		rc = cli_read_certs(c, a->pos[0], "a truststore",
		                    KG_CAP_TRUSTSTORE, &sk, &err);
	if (rc == KG_OK &&
	    (keep = eng_certs_without(sk, want, &removed)) == NULL)
		rc = kg_err_set(&err, KG_E_RUNTIME, "out of memory");
	if (rc == KG_OK && removed == 0)
		rc = kg_err_set(&err, KG_REFUSED,
		                "no certificate in '%s' has fingerprint %s; "
		                "nothing written",
		                a->pos[0], fps);
	if (rc == KG_OK)
		rc = write_certs(c, cmd, a, keep, &err);
	if (rc == KG_OK) {
		if (c->json) {
			json_t *j = json_object();

			json_object_set_new(
			        j, "out", kg_json_str(cli_opt(cmd, a, "out")));
			json_object_set_new(j, "removed",
			                    json_integer(removed));
			json_object_set_new(j, "certificates",
			                    json_integer(sk_X509_num(keep)));
			cli_emit(c, j);
		} else {
			cli_info(c, "removed %d, %d left\n", removed,
			         sk_X509_num(keep));
		}
	}
	sk_X509_pop_free(sk, X509_free);
	sk_X509_pop_free(keep, X509_free);
	return rc == KG_OK ? KG_OK : cli_fail(c, &err);
}
