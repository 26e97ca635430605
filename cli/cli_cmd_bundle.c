/* bundle check, bundle export, bundle fallback, bundle assemble */
#include "cli/cli.h"
#include "common/kg_time.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "common/kg_audit.h"
#include "common/kg_file.h"
#include "common/kg_fileset.h"
#include "common/kg_json.h"
#include "common/kg_pub.h"
#include "engine/eng.h"
#include "engine/eng_gate.h"
#include "engine/eng_mtls_domain.h"

/* options, beside their handlers (the table in cli_main.c) */
const struct cli_opt cli_opts_bundle_check[] = {
        {"cert", CLI_VALUE, "FILE", "the certificate (PEM)"},
        {"chain", CLI_VALUE, "FILE", "its issuers, intermediates first"},
        {"for", CLI_VALUE, "T",
         "acm-integrated (default: RSA 1024/2048) or acm"},
        {"key", CLI_VALUE, "FILE", "the private key (PEM)"},
        {"mtls-domain", CLI_VALUE, "NAME",
         "API Gateway mTLS custom domain rules for NAME"},
        {"ownership-cert", CLI_VALUE, "FILE|URI",
         "the domain's ownership verification certificate (ACM)"},
        {"replaces", CLI_VALUE, "OLD", "the certificate a reimport replaces"},
        CLI_OPT_END};

const struct cli_opt cli_opts_bundle_export[] = {
        {"cert", CLI_VALUE, "FILE", "the key's certificate (PEM)"},
        {"chain", CLI_VALUE, "FILE", "its issuers, intermediates first"},
        {"for", CLI_VALUE, "T",
         "acm-integrated (default: RSA 1024/2048) or acm"},
        {"force", CLI_FLAG, NULL, "replace existing files in --out"},
        {"key", CLI_VALUE, "URI", "the token key (pkcs11:...)"},
        {"out", CLI_VALUE, "DIR", "where the bundle goes"},
        CLI_OPT_END};

const struct cli_opt cli_opts_bundle_fallback[] = {
        {"digest", CLI_VALUE, "D", "sha256 (default), sha384 or sha512"},
        {"for", CLI_VALUE, "T",
         "acm-integrated (default: RSA 1024/2048) or acm"},
        {"force", CLI_FLAG, NULL, "replace existing files in --out"},
        {"out", CLI_VALUE, "DIR", "private_key.pem and request.csr go here"},
        {"san", CLI_VALUE, "LIST", "DNS:a,DNS:b,IP:10.0.0.1,..."},
        {"subject", CLI_VALUE, "DN", "the request's subject"},
        {"type", CLI_VALUE, "T", "rsa:2048 (default), rsa:1024, ... ec:p256"},
        CLI_OPT_END};

const struct cli_opt cli_opts_bundle_assemble[] = {
        {"cert", CLI_VALUE, "FILE", "what the CA handed out (any order)"},
        {"chain", CLI_VALUE, "FILE", "more certificates (any order)"},
        {"for", CLI_VALUE, "T",
         "acm-integrated (default: RSA 1024/2048) or acm"},
        {"force", CLI_FLAG, NULL, "replace existing files in --out"},
        {"key", CLI_VALUE, "FILE", "the private key"},
        {"out", CLI_VALUE, "DIR", "where the bundle goes"},
        CLI_OPT_END};

/* ---- inputs ---------------------------------------------------------- */

struct inputs {
	unsigned char *buf[4];
	size_t len[4];
};

static void inputs_free(struct inputs *in)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (in->buf[i] != NULL)
			OPENSSL_cleanse(in->buf[i], in->len[i]); /* keys */
		free(in->buf[i]);
	}
}

static enum kg_code read_input(struct cli_ctx *c, const char *path,
                               struct eng_input *to, struct inputs *in,
                               int slot, struct kg_err *err)
{
	enum kg_code rc;

	to->name = path;
	to->buf = NULL;
	to->len = 0;
	to->size = 0;
	if (path == NULL)
		return KG_OK;
	/* slots 0-3 are ENG_IN_CERT, _KEY, _CHAIN, _OLD; a few times ACM's
	 * limit is read, what is larger only measured (size-limit) */
	if (slot != ENG_IN_KEY && hsm_is_uri(path)) {
		/* certificates on a token: --cert names one */
		rc = cli_token_certs(c, path, slot == ENG_IN_CERT,
		                     &in->buf[slot], &in->len[slot], err);
		to->size = in->len[slot];
	} else {
		rc = kg_file_read_head(
		        path,
		        eng_acm_limit((enum eng_input_kind)slot) *
		                ENG_ACM_READ_FACTOR,
		        &in->buf[slot], &in->len[slot], &to->size, err);
	}
	to->buf = in->buf[slot];
	to->len = in->len[slot];
	return rc;
}

/*
 * Reads the gate's file inputs the command was given: --cert, --chain,
 * --replaces, and --key when it is a file (not for bundle export).
 */
static enum kg_code read_gate_inputs(struct cli_ctx *c,
                                     const struct cli_cmd *cmd,
                                     struct cli_args *a, int key_is_file,
                                     struct eng_acm_req *r, struct inputs *in,
                                     struct kg_err *err)
{
	enum kg_code rc;

	rc = read_input(c, cli_opt(cmd, a, "cert"), &r->cert, in, 0, err);
	if (rc == KG_OK && key_is_file)
		rc = read_input(c, cli_opt(cmd, a, "key"), &r->key, in, 1,
		                err);
	if (rc == KG_OK)
		rc = read_input(c, cli_opt(cmd, a, "chain"), &r->chain, in, 2,
		                err);
	if (rc == KG_OK)
		rc = read_input(c, cli_opt(cmd, a, "replaces"), &r->old, in, 3,
		                err);
	return rc;
}

static enum kg_code gate_options(struct cli_ctx *c, const struct cli_cmd *cmd,
                                 struct cli_args *a, struct eng_acm_req *r,
                                 struct kg_err *err)
{
	memset(r, 0, sizeof(*r));
	r->at = c->now;
	return eng_target_parse(cli_opt(cmd, a, "for"), &r->target, err);
}

static json_t *gate_json(const struct eng_acm_req *r)
{
	json_t *j = json_object();
	char when[KG_TIME_LEN];

	kg_time_str(r->at, when);
	json_object_set_new(j, "target",
	                    json_string(eng_target_name(r->target)));
	json_object_set_new(j, "at", json_string(when));
	if (r->mtls_domain != NULL)
		json_object_set_new(j, "mtls_domain",
		                    kg_json_str(r->mtls_domain));
	return j;
}

/*
 * bundle check's --mtls-domain NAME [--ownership-cert FILE|URI]: the
 * name checked (a bad one, or --ownership-cert alone, is a usage error)
 * and the ownership certificate read like --cert, into *buf (free()).
 */
static enum kg_code mtls_options(struct cli_ctx *c, const struct cli_cmd *cmd,
                                 struct cli_args *a, struct eng_acm_req *r,
                                 unsigned char **buf, struct kg_err *err)
{
	const char *own = cli_opt(cmd, a, "ownership-cert");
	size_t len = 0;
	enum kg_code rc;

	*buf = NULL;
	r->mtls_domain = cli_opt(cmd, a, "mtls-domain");
	if (own != NULL && r->mtls_domain == NULL)
		return kg_err_set(err, KG_E_USAGE,
		                  "--ownership-cert goes with --mtls-domain "
		                  "NAME (the mTLS custom domain it verifies)");
	if (r->mtls_domain == NULL)
		return KG_OK;
	rc = eng_mtls_domain_parse(r->mtls_domain, err);
	if (rc != KG_OK || own == NULL)
		return rc;
	rc = cli_read_cert_input(c, own, KG_CAP_CERT,
	                         "the ownership certificate", 1, buf, &len,
	                         err);
	r->ownership.name = own;
	r->ownership.buf = *buf;
	r->ownership.len = len;
	return rc;
}

/* ---- writing a bundle ------------------------------------------------ */

struct out_file {
	const char *name;
	const char *data;
	size_t len;
	mode_t mode;
};

/*
 * Writes files into dir (made 0700 if missing): all of them or none, an
 * existing file replaced (--force) only once every new one is staged, and
 * put back if a later one fails (kg_fileset). With rec (a token export),
 * the record is appended between staging and commit, and a failed commit
 * is recorded as not-written.
 */
static enum kg_code write_bundle(struct cli_ctx *c, const char *dir,
                                 const struct out_file *fs, size_t n,
                                 int force, char paths[][4096],
                                 const struct kg_audit_rec *rec,
                                 struct kg_err *err)
{
	struct kg_fileset set;
	size_t i;
	enum kg_code rc;
	sigset_t old;

	rc = kg_file_out_dir(dir, 0700, err);
	if (rc != KG_OK)
		return rc;
	cli_sweep_stale(c, dir, 1);
	memset(&set, 0, sizeof(set));
	set.n = n;
	set.force = force;
	for (i = 0; i < n; i++) {
		snprintf(paths[i], 4096, "%s/%s", dir, fs[i].name);
		set.f[i].path = paths[i];
		set.f[i].data = fs[i].data;
		set.f[i].len = fs[i].len;
		set.f[i].mode = fs[i].mode;
	}
	kg_file_hold_signals(&old);
	rc = kg_fileset_stage(&set, err);
	if (rc == KG_OK && rec != NULL && c->audit != NULL)
		rc = kg_audit_append(c->audit, rec, err);
	if (rc == KG_OK) {
		rc = kg_fileset_commit(&set, err);
		if (rc != KG_OK && rec != NULL)
			cli_record_not_written(c, rec, err->msg);
	}
	kg_fileset_clear(&set);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return rc;
}

/* ---- bundle check ---------------------------------------------------- */

enum kg_code cli_bundle_check(struct cli_ctx *c, const struct cli_cmd *cmd,
                              struct cli_args *a)
{
	struct eng_acm_req r;
	struct eng_findings f = {0};
	struct inputs in = {0};
	unsigned char *own = NULL;
	struct kg_err err;
	enum kg_code rc;
	char what[64];

	rc = gate_options(c, cmd, a, &r, &err);
	if (rc == KG_OK && (cli_opt(cmd, a, "cert") == NULL ||
	                    cli_opt(cmd, a, "key") == NULL))
		rc = kg_err_set(
		        &err, KG_E_USAGE,
		        "bundle check needs --cert FILE and --key FILE "
		        "(see keygate bundle check --help)");
	if (rc == KG_OK)
		rc = mtls_options(c, cmd, a, &r, &own, &err);
	if (rc == KG_OK)
		rc = read_gate_inputs(c, cmd, a, 1, &r, &in, &err);
	if (rc == KG_OK)
		rc = eng_acm_check(&r, &f, &err);
	if (rc == KG_OK) {
		snprintf(what, sizeof(what), "bundle check (%s)",
		         eng_target_name(r.target));
		rc = cli_findings(c, what, &f, gate_json(&r));
	} else {
		rc = cli_fail(c, &err);
	}
	eng_findings_free(&f);
	inputs_free(&in);
	free(own);
	return rc;
}

/* ---- bundle export --------------------------------------------------- */

/* Does the key itself stop the bundle (not exportable, or of a kind the
 * service does not take)? Then only another key helps. */
static int key_stops(const struct eng_findings *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->v[i].code, "key-not-exportable") == 0 ||
		    strcmp(f->v[i].code, "key-algorithm") == 0)
			return 1;
	return 0;
}

enum kg_code cli_bundle_export(struct cli_ctx *c, const struct cli_cmd *cmd,
                               struct cli_args *a)
{
	const char *uri = cli_opt(cmd, a, "key"),
	           *dir = cli_opt(cmd, a, "out");
	struct eng_acm_req r;
	struct eng_findings f = {0};
	struct inputs in = {0};
	struct cli_key key = {0};
	const struct hsm_key_info *ki;
	X509_PUBKEY *xp = NULL;
	EVP_PKEY *priv = NULL;
	char *kpem = NULL, paths[3][4096];
	size_t klen = 0, nfiles;
	struct out_file fs[3];
	struct kg_err err;
	enum kg_code rc;
	char what[64];
	int sens = -1, extr = -1;

	rc = gate_options(c, cmd, a, &r, &err);
	if (rc == KG_OK && (uri == NULL || !hsm_is_uri(uri) ||
	                    cli_opt(cmd, a, "cert") == NULL || dir == NULL))
		rc = kg_err_set(&err, KG_E_USAGE,
		                "bundle export needs --key pkcs11:URI, --cert "
		                "FILE and --out DIR (a key file needs no "
		                "export: see bundle assemble)");
	if (rc == KG_OK)
		rc = read_gate_inputs(c, cmd, a, 0, &r, &in, &err);
	if (rc == KG_OK)
		rc = cli_key_open(c, uri, NULL, &key, &err);
	if (rc != KG_OK)
		goto fail;
	/* the gate reads the key's attributes before anything else, each
	 * deciding one alone */
	ki = hsm_key_describe(key.k);
	rc = hsm_key_export_flags(key.k, &sens, &extr, &err);
	if (rc != KG_OK)
		goto fail;
	eng_export_check(&f, r.target,
	                 ki->type == HSM_KEY_RSA ? "RSA" : ki->curve, ki->bits,
	                 sens, extr, key.desc);
	/* then the certificate checks, with the token key's public half */
	xp = kg_pub_from_pkey(key.pkey);
	r.key_pub = xp ? kg_pub_to_pkey(xp) : NULL;
	if (r.key_pub == NULL) {
		rc = kg_err_set(&err, KG_E_TOKEN,
		                "cannot read the public half of '%s'", uri);
		goto fail;
	}
	rc = eng_acm_check(&r, &f, &err);
	if (rc != KG_OK)
		goto fail;
	snprintf(what, sizeof(what), "bundle export (%s)",
	         eng_target_name(r.target));
refused:
	if (eng_findings_errors(&f) > 0) {
		struct kg_err aerr;

		if (cli_audit(c, "export", "refused", &key, NULL, NULL, NULL,
		              0, dir, f.v[0].code, &aerr) != KG_OK)
			fprintf(stderr, "keygate: %s\n", aerr.msg);
		/* the software fallback only where the key itself is
		 * what stops the bundle; else the findings say what to fix */
		fprintf(stderr,
		        "keygate: refused: nothing was read from the "
		        "token or written; %s\n",
		        key_stops(&f) ? eng_fallback_hint
		                      : "fix what is listed and run it again");
		rc = cli_findings(c, what, &f, gate_json(&r));
		goto out;
	}
	/* only a key that passed is read out; a token that refuses then
	 * has the last word: the gate's finding, not a token failure */
	rc = hsm_key_export(key.k, &priv, &err);
	if (rc == KG_REFUSED) {
		eng_finding_add(&f, "key-not-exportable", key.desc, -1, NULL,
		                eng_fallback_hint, "%s", err.msg);
		goto refused;
	}
	if (rc == KG_OK)
		rc = eng_pem_private(priv, &kpem, &klen, &err);
	if (rc != KG_OK)
		goto fail;
	fs[0] = (struct out_file){"certificate.pem", (char *)r.cert.buf,
	                          r.cert.len, 0644};
	fs[1] = (struct out_file){"private_key.pem", kpem, klen, 0600};
	nfiles = 2;
	if (r.chain.buf != NULL)
		fs[nfiles++] = (struct out_file){"certificate_chain.pem",
		                                 (char *)r.chain.buf,
		                                 r.chain.len, 0644};
	/* on record before the bundle is in place; the certificate's hash */
	{
		struct cli_audit_rec ar;
		int have =
		        cli_audit_fill(&key, "export", "ok", NULL, NULL,
		                       r.cert.buf, r.cert.len, dir, NULL, &ar);

		rc = write_bundle(c, dir, fs, nfiles,
		                  cli_flag(cmd, a, "force"), paths,
		                  have ? &ar.r : NULL, &err);
		if (have)
			cli_audit_rec_clear(&ar);
	}
	if (rc != KG_OK)
		goto fail;
	if (!c->json)
		cli_info(c,
		         "wrote %s, %s%s%s (the key unencrypted, mode 0600)\n",
		         paths[0], paths[1], nfiles > 2 ? ", " : "",
		         nfiles > 2 ? paths[2] : "");
	rc = cli_findings(c, what, &f, gate_json(&r));
	goto out;
fail:
	rc = cli_fail(c, &err);
out:
	if (kpem != NULL)
		OPENSSL_clear_free(kpem, klen);
	EVP_PKEY_free(priv);
	EVP_PKEY_free(r.key_pub);
	X509_PUBKEY_free(xp);
	cli_key_close(&key);
	eng_findings_free(&f);
	inputs_free(&in);
	return rc;
}

/* ---- bundle fallback ------------------------------------------------- */

enum kg_code cli_bundle_fallback(struct cli_ctx *c, const struct cli_cmd *cmd,
                                 struct cli_args *a)
{
	const char *dir = cli_opt(cmd, a, "out");
	const char *type = cli_opt(cmd, a, "type");
	const struct eng_key_type *kt = NULL;
	struct eng_request req = {0};
	enum eng_target target;
	X509_NAME *subject = NULL;
	GENERAL_NAMES *san = NULL;
	EVP_PKEY *k = NULL;
	X509_REQ *csr = NULL;
	char *kpem = NULL, *cpem = NULL, paths[2][4096];
	size_t klen = 0, clen = 0;
	struct out_file fs[2];
	struct kg_err err;
	enum kg_code rc;

	if (type == NULL)
		type = "rsa:2048";
	rc = eng_target_parse(cli_opt(cmd, a, "for"), &target, &err);
	if (rc == KG_OK && (cli_opt(cmd, a, "subject") == NULL || dir == NULL))
		rc = kg_err_set(&err, KG_E_USAGE,
		                "bundle fallback needs --subject DN and --out "
		                "DIR");
	if (rc == KG_OK)
		rc = eng_fallback_type(target, type, &kt, &err);
	if (rc == KG_OK)
		rc = eng_digest(cli_opt(cmd, a, "digest"), &req.md, &err);
	if (rc == KG_OK)
		rc = eng_dn_parse(cli_opt(cmd, a, "subject"), &subject, &err);
	if (rc == KG_OK && cli_opt(cmd, a, "san") != NULL)
		rc = cli_san(cli_opt(cmd, a, "san"), "--san", &san, &err);
	if (rc == KG_OK)
		rc = eng_key_type_new(kt, &k, &err);
	if (rc != KG_OK)
		goto fail;
	req.subject = subject;
	req.san = san;
	rc = eng_csr_build(&req, k, &csr, &err);
	if (rc == KG_OK)
		rc = eng_pem_private(k, &kpem, &klen, &err);
	if (rc == KG_OK)
		rc = eng_pem_req(csr, &cpem, &clen, &err);
	if (rc != KG_OK)
		goto fail;
	fs[0] = (struct out_file){"private_key.pem", kpem, klen, 0600};
	fs[1] = (struct out_file){"request.csr", cpem, clen, 0644};
	rc = write_bundle(c, dir, fs, 2, cli_flag(cmd, a, "force"), paths,
	                  NULL, &err);
	if (rc != KG_OK)
		goto fail;
	if (c->json) {
		json_t *j = json_object();

		json_object_set_new(j, "private_key", kg_json_str(paths[0]));
		json_object_set_new(j, "request", kg_json_str(paths[1]));
		json_object_set_new(j, "type", json_string(type));
		json_object_set_new(j, "target",
		                    json_string(eng_target_name(target)));
		cli_emit(c, j);
	} else {
		printf("%s\n%s\n", paths[0], paths[1]);
		cli_info(
		        c,
		        "a software %s key (not on a token), unencrypted "
		        "PKCS#8, mode 0600, and its request.\nnext: have your "
		        "CA sign %s, then\n  keygate bundle assemble --cert "
		        "SIGNED.pem --key %s --chain CA-CHAIN.pem --out "
		        "BUNDLE-DIR\n",
		        type, paths[1], paths[0]);
	}
	goto out;
fail:
	rc = cli_fail(c, &err);
out:
	if (kpem != NULL)
		OPENSSL_clear_free(kpem, klen);
	OPENSSL_free(cpem);
	X509_REQ_free(csr);
	EVP_PKEY_free(k);
	X509_NAME_free(subject);
	GENERAL_NAMES_free(san);
	return rc;
}

/* ---- bundle assemble ------------------------------------------------- */

enum kg_code cli_bundle_assemble(struct cli_ctx *c, const struct cli_cmd *cmd,
                                 struct cli_args *a)
{
	const char *dir = cli_opt(cmd, a, "out");
	struct eng_acm_req r;
	struct eng_findings f = {0};
	struct inputs in = {0};
	char *cert = NULL, *key = NULL, *chain = NULL, paths[3][4096];
	struct out_file fs[3];
	size_t nfiles = 2;
	struct kg_err err;
	enum kg_code rc;
	char what[64];

	rc = gate_options(c, cmd, a, &r, &err);
	if (rc == KG_OK && (cli_opt(cmd, a, "cert") == NULL ||
	                    cli_opt(cmd, a, "key") == NULL || dir == NULL))
		rc = kg_err_set(
		        &err, KG_E_USAGE,
		        "bundle assemble needs --cert FILE, --key FILE "
		        "and --out DIR");
	if (rc == KG_OK)
		rc = read_gate_inputs(c, cmd, a, 1, &r, &in, &err);
	if (rc == KG_OK)
		rc = eng_acm_assemble(&r, &cert, &key, &chain, &f, &err);
	if (rc != KG_OK) {
		rc = cli_fail(c, &err);
		goto out;
	}
	snprintf(what, sizeof(what), "bundle assemble (%s)",
	         eng_target_name(r.target));
	if (eng_findings_errors(&f) == 0 && cert != NULL) {
		fs[0] = (struct out_file){"certificate.pem", cert,
		                          strlen(cert), 0644};
		fs[1] = (struct out_file){"private_key.pem", key, strlen(key),
		                          0600};
		if (chain != NULL && *chain != '\0')
			fs[nfiles++] =
			        (struct out_file){"certificate_chain.pem",
			                          chain, strlen(chain), 0644};
		rc = write_bundle(c, dir, fs, nfiles,
		                  cli_flag(cmd, a, "force"), paths, NULL,
		                  &err);
		if (rc != KG_OK) {
			rc = cli_fail(c, &err);
			goto out;
		}
		if (!c->json)
			cli_info(c, "wrote %s, %s%s%s\n", paths[0], paths[1],
			         nfiles > 2 ? ", " : "",
			         nfiles > 2 ? paths[2] : "");
	} else if (!c->json) {
		fprintf(stderr, "keygate: the assembled bundle does not pass; "
		                "nothing was written\n");
	}
	rc = cli_findings(c, what, &f, gate_json(&r));
out:
	OPENSSL_free(cert);
	if (key != NULL)
		OPENSSL_clear_free(key, strlen(key));
	OPENSSL_free(chain);
	eng_findings_free(&f);
	inputs_free(&in);
	return rc;
}
