/* cert selfsign, cert show */
#include "cli/cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "common/kg_file.h"
#include "common/kg_redact.h"
#include "common/kg_json.h"
#include "engine/eng.h"
#include "engine/eng_trust.h"

/* options, beside their handlers (the table in cli_main.c) */
const struct cli_opt cli_opts_cert_selfsign[] = {
        {"days", CLI_VALUE, "N", "validity in days (365; ca: 3650)"},
        {"digest", CLI_VALUE, "D", "sha256 (default), sha384 or sha512"},
        {"force", CLI_FLAG, NULL, "replace an existing --out file"},
        {"key", CLI_VALUE, "KEY", "a pkcs11: key URI, or a PEM/DER key file"},
        {"out", CLI_VALUE, "FILE", "write here (default: stdout)"},
        {"passphrase-source", CLI_VALUE, "SRC",
         "passphrase of an encrypted key file: file:, env:, fd:"},
        {"profile", CLI_VALUE, "P", "server (default), client or ca"},
        {"san", CLI_VALUE, "LIST", "DNS:a,DNS:b,IP:10.0.0.1,email:x@y,URI:u"},
        {"sig-alg", CLI_VALUE, "A",
         "pkcs1 (default) or rsa-pss (RSA keys; salt = digest length)"},
        {"subject", CLI_VALUE, "DN",
         "CN=api.example.com,O=Example or /O=../CN=.."},
        CLI_OPT_END};

const struct cli_opt cli_opts_cert_sign[] = {
        {"ca-cert", CLI_VALUE, "FILE", "the CA's certificate"},
        {"ca-key", CLI_VALUE, "KEY", "the CA's key: a pkcs11: URI or a file"},
        {"copy-extensions", CLI_FLAG, NULL,
         "copy the request's extensions the profile does not set"},
        {"csr", CLI_VALUE, "FILE", "the request (PEM or DER)"},
        {"csr-dir", CLI_VALUE, "IN",
         "batch: one certificate per request in IN"},
        {"days", CLI_VALUE, "N",
         "validity (365; intermediate 1825), cut at the CA's notAfter"},
        {"digest", CLI_VALUE, "D", "sha256 (default), sha384 or sha512"},
        {"force", CLI_FLAG, NULL, "replace an existing --out file"},
        {"jobs", CLI_VALUE, "N",
         "batch: token sessions signing at once (default: 2 per "
         "processor)"},
        {"out", CLI_VALUE, "FILE", "write here (default: stdout)"},
        {"out-dir", CLI_VALUE, "OUT",
         "batch: where IN/x.csr becomes OUT/x.pem"},
        {"passphrase-source", CLI_VALUE, "SRC",
         "passphrase of an encrypted CA key file"},
        {"profile", CLI_VALUE, "P",
         "server (default), client or intermediate"},
        {"san", CLI_VALUE, "LIST", "replace the request's subjectAltName"},
        {"sig-alg", CLI_VALUE, "A",
         "pkcs1 (default) or rsa-pss (RSA keys; salt = digest length)"},
        {"subject", CLI_VALUE, "DN", "replace the request's subject"},
        CLI_OPT_END};

/* --days: the profile's default, or 1 to 36500. */
static enum kg_code parse_days(const char *s, enum eng_profile p, long *out,
                               struct kg_err *err)
{
	char *end;

	*out = eng_profile_default_days(p);
	if (s == NULL)
		return KG_OK;
	*out = strtol(s, &end, 10);
	if (*end != '\0' || *out < 1 || *out > 36500)
		return kg_err_set(err, KG_E_USAGE,
		                  "bad --days '%s': give a whole number of "
		                  "days from 1 to 36500",
		                  s);
	return KG_OK;
}

enum kg_code cli_cert_selfsign(struct cli_ctx *c, const struct cli_cmd *cmd,
                               struct cli_args *a)
{
	const char *out = cli_opt(cmd, a, "out");
	const char *days_s = cli_opt(cmd, a, "days");
	struct eng_request r = {0};
	struct cli_key key = {0};
	enum eng_profile profile;
	X509_NAME *subject = NULL;
	GENERAL_NAMES *san = NULL;
	X509 *x = NULL;
	struct eng_obj *objs = NULL;
	size_t nobj = 0, plen = 0;
	char *pem = NULL;
	struct kg_err err;
	enum kg_code rc;
	long days = 0;

	rc = cli_naming(cmd, a, &subject, &san, &r.md, &err);
	if (rc == KG_OK)
		rc = eng_sig_alg_parse(cli_opt(cmd, a, "sig-alg"), &r.pss,
		                       &err);
	if (rc == KG_OK)
		rc = eng_profile_parse(cli_opt(cmd, a, "profile"), &profile,
		                       &err);
	if (rc == KG_OK)
		rc = parse_days(days_s, profile, &days, &err);
	if (rc == KG_OK && out != NULL && strcmp(out, "-") != 0)
		rc = kg_file_check_writable(out, cli_flag(cmd, a, "force"),
		                            &err);
	if (rc == KG_OK)
		rc = cli_key_open(c, cli_opt(cmd, a, "key"),
		                  cli_opt(cmd, a, "passphrase-source"), &key,
		                  &err);
	if (rc == KG_OK) {
		r.subject = subject;
		r.san = san;
		rc = eng_cert_selfsign(&r, profile, (int)days, time(NULL),
		                       key.pkey, &x, &err);
	}
	if (rc == KG_OK)
		rc = eng_pem_cert(x, &pem, &plen, &err);
	if (rc == KG_OK)
		rc = cli_record_out(c, "cert-selfsign", &key, x, NULL, pem,
		                    plen, out, out != NULL || !c->json, 0644,
		                    cli_flag(cmd, a, "force"), &err);
	if (rc == KG_OK && c->json &&
	    eng_decode_all((unsigned char *)pem, plen, "certificate", &objs,
	                   &nobj, &err) == KG_OK) {
		json_t *j = cli_obj_json(&objs[0]);

		json_object_set_new(j, "profile",
		                    json_string(eng_profile_name(profile)));
		json_object_set_new(j, "days", json_integer(days));
		json_object_set_new(j, "key", kg_json_str(key.desc));
		json_object_set_new(j, "out", kg_json_str(out));
		if (out == NULL)
			json_object_set_new(j, "pem", kg_json_str(pem));
		cli_emit(c, j);
	}
	if (rc == KG_OK && !c->json && out != NULL)
		cli_info(c, "wrote %s certificate for '%s' (%ld days) to %s\n",
		         eng_profile_name(profile), cli_opt(cmd, a, "subject"),
		         days, out);
	eng_obj_free_array(objs, nobj);
	OPENSSL_free(pem);
	X509_free(x);
	cli_key_close(&key);
	X509_NAME_free(subject);
	GENERAL_NAMES_free(san);
	return rc == KG_OK ? KG_OK : cli_fail(c, &err);
}

static void hexfp(const unsigned char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%02X%s", b[i], i + 1 < n ? ":" : "");
}

enum kg_code cli_cert_show(struct cli_ctx *c, const struct cli_cmd *cmd,
                           struct cli_args *a)
{
	json_t *files = json_array();
	enum kg_code worst = KG_OK;
	int f;

	for (f = 0; f < a->npos; f++) {
		const char *path = a->pos[f];
		/* a token URI's pin-value= is not printed */
		char *name = kg_redact_pin(OPENSSL_strdup(path));
		unsigned char *buf = NULL;
		struct eng_obj *o = NULL;
		size_t len = 0, n = 0, i;
		struct kg_err err;
		enum kg_code rc;
		json_t *fj, *arr;

		if (name == NULL) {
			json_decref(files);
			kg_err_set(&err, KG_E_RUNTIME, "out of memory");
			return cli_fail(c, &err);
		}
		rc = cli_read_cert_input(c, path, KG_CAP_TRUSTSTORE,
		                         "a file of certificates", 0, &buf,
		                         &len, &err);
		if (rc == KG_OK)
			rc = eng_decode_all(buf, len, name, &o, &n, &err);
		if (len > 0)
			OPENSSL_cleanse(buf, len); /* may hold a key */
		free(buf);
		if (rc != KG_OK) {
			fprintf(stderr, "keygate: %s\n", err.msg);
			if (rc > worst)
				worst = rc;
			fj = json_object();
			json_object_set_new(fj, "file", kg_json_str(name));
			json_object_set_new(fj, "error", kg_json_str(err.msg));
			json_array_append_new(files, fj);
			OPENSSL_free(name);
			continue;
		}
		arr = json_array();
		for (i = 0; i < n; i++) {
			json_array_append_new(arr, cli_obj_json(&o[i]));
			if (c->json)
				continue;
			printf("%s [%zu] %s\n", name, i, o[i].kind_name);
			fputs(o[i].text ? o[i].text : "", stdout);
			if (o[i].kind == ENG_OBJ_CERT ||
			    o[i].kind == ENG_OBJ_CSR) {
				printf("SHA256 Fingerprint=");
				hexfp(o[i].sha256, 32);
				printf("\n");
			}
			if (o[i].has_spki) {
				printf("Public key SHA256 (SPKI)=");
				hexfp(o[i].spki_sha256, 32);
				printf("\n");
			}
			printf("\n");
		}
		fj = json_object();
		json_object_set_new(fj, "file", kg_json_str(name));
		json_object_set_new(fj, "objects", arr);
		json_array_append_new(files, fj);
		eng_obj_free_array(o, n);
		OPENSSL_free(name);
	}
	if (c->json) {
		json_t *j = json_object();

		json_object_set_new(j, "files", files);
		cli_emit(c, j);
	} else {
		json_decref(files);
	}
	return worst;
}

/* ---- batch issuance -------------------------------------------------- */

static int csr_name_cmp(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* One request of a batch, from its file to its committed certificate. */
struct sign_item {
	char *path;           /* IN/x.csr */
	struct cli_staged st; /* OUT/x.pem on its way */
	int capped;
};

struct sign_batch {
	struct cli_batch b;
	struct sign_item *items;
	const struct eng_issue *tmpl; /* ca_checked, shared read-only */
	const struct cli_key *key;    /* the CA key, for the audit record */
	struct cli_key *wkeys;        /* one per worker */
	int capped;
};

static struct cli_staged *sign_at(void *ctx, size_t i)
{
	return &((struct sign_batch *)ctx)->items[i].st;
}

/* On a worker thread: read, check, issue, encode and stage one request. */
static void sign_work(void *ctx, int worker, size_t i)
{
	struct sign_batch *sb = ctx;
	struct sign_item *it = &sb->items[i];
	struct cli_staged *st = &it->st;
	struct eng_issue is = *sb->tmpl;
	unsigned char *buf = NULL;
	size_t len = 0;
	struct eng_csr *csr = NULL;
	X509 *x = NULL;
	struct kg_err err;
	enum kg_code rc;

	rc = sb->b.force ? KG_OK : kg_file_check_writable(st->outp, 0, &err);
	if (rc == KG_OK)
		rc = kg_file_read_max(it->path, KG_CAP_CERT, "a request", &buf,
		                      &len, &err);
	if (rc == KG_OK)
		rc = eng_csr_parse(buf, len, it->path, &csr, &err);
	free(buf);
	if (rc == KG_OK) {
		is.csr = csr;
		is.ca_key = sb->wkeys[worker].pkey;
		is.capped = &it->capped;
		rc = eng_cert_issue(&is, &x, &err);
	}
	if (rc == KG_OK)
		rc = eng_pem_cert(x, &st->pem, &st->plen, &err);
	if (rc == KG_OK)
		rc = kg_file_stage(st->outp, st->pem, st->plen, 0644, 0,
		                   &st->tmp, &err); /* synced by the run */
	if (rc != KG_OK)
		cli_staged_fail(st, &err);
	if (sb->b.c->audit != NULL && rc == KG_OK)
		st->nrec = cli_audit_fill(sb->key, "cert-issue", "ok", x, NULL,
		                          st->pem, st->plen, st->outp, NULL,
		                          &st->rec[0]);
	else if (sb->b.c->audit != NULL && rc == KG_REFUSED && csr != NULL)
		st->nrec = cli_audit_fill(sb->key, "cert-issue", "refused",
		                          NULL, eng_csr_subject(csr), NULL, 0,
		                          st->outp, st->why, &st->rec[0]);
	X509_free(x);
	eng_csr_free(csr);
}

/* After its commit: the certificate's file, or the request's and why. */
static void sign_report(struct cli_batch *b, size_t i)
{
	struct sign_batch *sb = b->ctx;
	struct sign_item *it = &sb->items[i];
	json_t *entry;

	if (it->st.rc == KG_OK) {
		sb->capped |= it->capped;
		entry = kg_json_str(it->st.outp);
	} else {
		entry = json_object();
		json_object_set_new(entry, "file", kg_json_str(it->path));
	}
	cli_batch_item(b, &it->st, entry, it->path);
}

/* The requests in IN (regular files, not hidden), sorted by name. */
static enum kg_code list_csrs(const char *in, const char *outd,
                              struct sign_item **out, size_t *n,
                              struct kg_err *err)
{
	struct dirent **names = NULL;
	struct sign_item *items;
	struct stat st;
	int k, count;
	size_t m = 0;

	*out = NULL;
	*n = 0;
	count = scandir(in, &names, NULL, csr_name_cmp);
	if (count < 0)
		return kg_err_set(err, KG_E_USAGE, "cannot read '%s': %s", in,
		                  strerror(errno));
	items = calloc((size_t)count + 1, sizeof(*items));
	for (k = 0; k < count; k++) {
		char *path = NULL, *outp = NULL, *dot;
		const char *name = names[k]->d_name;
		int stem;

		if (items == NULL || name[0] == '.' ||
		    asprintf(&path, "%s/%s", in, name) < 0) {
			free(names[k]);
			continue;
		}
		dot = strrchr(name, '.');
		stem = dot != NULL && dot != name ? (int)(dot - name)
		                                  : (int)strlen(name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
		    asprintf(&outp, "%s/%.*s.pem", outd, stem, name) < 0) {
			free(path);
			free(names[k]);
			continue;
		}
		items[m].path = path;
		items[m].st.outp = outp;
		m++;
		free(names[k]);
	}
	free(names);
	if (items == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	*out = items;
	*n = m;
	return KG_OK;
}

/*
 * cert sign --csr-dir IN --out-dir OUT: one certificate per request, named
 * after it (x.csr -> x.pem), issued by up to --jobs token sessions at once.
 * A bad request is reported and the batch goes on; the exit status is 1
 * if any failed. Each certificate is written whole or not at all, after
 * its audit record.
 */
static enum kg_code sign_batch(struct cli_ctx *c, const struct cli_cmd *cmd,
                               struct cli_args *a, struct eng_issue *tmpl,
                               const struct cli_key *key)
{
	const char *outd = cli_opt(cmd, a, "out-dir");
	struct sign_batch sb;
	struct cli_batch *b = &sb.b;
	struct kg_err err;
	enum kg_code rc;
	size_t i;
	int jobs = 1;

	memset(&sb, 0, sizeof(sb));
	rc = cli_jobs(cli_opt(cmd, a, "jobs"), &jobs, &err);
	if (rc == KG_OK)
		rc = eng_issuer_check(tmpl, &err); /* once, not per request */
	if (rc == KG_OK)
		rc = list_csrs(cli_opt(cmd, a, "csr-dir"), outd, &sb.items,
		               &b->n, &err);
	if (rc == KG_OK)
		rc = kg_file_out_dir(outd, 0755, &err);
	jobs = cli_jobs_for(jobs, b->n);
	if (rc == KG_OK)
		rc = cli_key_workers(key, cli_opt(cmd, a, "ca-key"), jobs,
		                     &sb.wkeys, &b->jobs, &err);
	tmpl->ca_checked = 1;
	sb.tmpl = tmpl;
	sb.key = key;
	b->c = c;
	b->outd = outd;
	b->force = cli_flag(cmd, a, "force");
	b->ctx = &sb;
	b->at = sign_at;
	b->work = sign_work;
	b->report = sign_report;
	if (rc == KG_OK)
		rc = cli_batch_run(b, &err);
	if (rc == KG_OK) {
		json_t *j = NULL;

		if (sb.capped)
			cli_warn(c, "--days ran past the CA certificate's "
			            "notAfter; the validity is cut there");
		if (c->json)
			json_object_set_new(j = json_object(), "issued",
			                    json_integer((long)b->ok));
		else
			printf("issued %zu certificate%s into %s", b->ok,
			       b->ok == 1 ? "" : "s", outd);
		cli_batch_report(b, j, "certificates");
	}
	cli_key_workers_free(sb.wkeys, b->jobs);
	for (i = 0; sb.items != NULL && i < b->n; i++) {
		free(sb.items[i].path);
		cli_staged_clear(&sb.items[i].st);
	}
	free(sb.items);
	json_decref(b->fails);
	json_decref(b->done);
	if (rc != KG_OK)
		return cli_fail(c, &err);
	return b->nfail ? KG_REFUSED : KG_OK;
}

enum kg_code cli_cert_sign(struct cli_ctx *c, const struct cli_cmd *cmd,
                           struct cli_args *a)
{
	const char *out = cli_opt(cmd, a, "out");
	const char *days_s = cli_opt(cmd, a, "days");
	const char *csrf = cli_opt(cmd, a, "csr");
	const char *caf = cli_opt(cmd, a, "ca-cert");
	struct eng_issue in = {0};
	struct cli_key key = {0};
	X509_NAME *subject = NULL;
	GENERAL_NAMES *san = NULL;
	STACK_OF(X509) *cas = NULL;
	struct eng_csr *csr = NULL;
	X509 *x = NULL;
	unsigned char *buf = NULL;
	size_t len = 0, plen = 0;
	char *pem = NULL;
	struct kg_err err;
	enum kg_code rc = KG_OK;
	int capped = 0;
	long days = 0;

	int batch = cli_opt(cmd, a, "csr-dir") != NULL;

	if (cli_opt(cmd, a, "ca-key") == NULL || caf == NULL ||
	    (csrf == NULL) == !batch ||
	    batch != (cli_opt(cmd, a, "out-dir") != NULL))
		rc = kg_err_set(
		        &err, KG_E_USAGE,
		        "cert sign needs --ca-key KEY, --ca-cert FILE "
		        "and either --csr FILE or --csr-dir IN "
		        "--out-dir OUT (see keygate cert sign --help)");
	if (rc == KG_OK)
		rc = eng_profile_parse(cli_opt(cmd, a, "profile"), &in.profile,
		                       &err);
	if (rc == KG_OK)
		rc = parse_days(days_s, in.profile, &days, &err);
	in.days = (int)days;
	if (rc == KG_OK)
		rc = eng_digest(cli_opt(cmd, a, "digest"), &in.md, &err);
	if (rc == KG_OK)
		rc = eng_sig_alg_parse(cli_opt(cmd, a, "sig-alg"), &in.pss,
		                       &err);
	if (rc == KG_OK && cli_opt(cmd, a, "subject") != NULL)
		rc = eng_dn_parse(cli_opt(cmd, a, "subject"), &subject, &err);
	if (rc == KG_OK && cli_opt(cmd, a, "san") != NULL)
		rc = cli_san(cli_opt(cmd, a, "san"), "--san", &san, &err);
	if (rc == KG_OK && out != NULL && strcmp(out, "-") != 0)
		rc = kg_file_check_writable(out, cli_flag(cmd, a, "force"),
		                            &err);
	if (rc == KG_OK && !batch)
		rc = kg_file_read_max(csrf, KG_CAP_CERT, "a request", &buf,
		                      &len, &err);
	if (rc == KG_OK && !batch)
		rc = eng_csr_parse(buf, len, csrf, &csr, &err);
	free(buf);
	buf = NULL;
	if (rc == KG_OK)
		rc = cli_read_cert_input(c, caf, KG_CAP_CERT,
		                         "a CA certificate and its chain", 1,
		                         &buf, &len, &err);
	if (rc == KG_OK)
		rc = eng_certs_parse(buf, len, caf, &cas, NULL, &err);
	free(buf);
	if (rc == KG_OK && sk_X509_num(cas) < 1)
		rc = kg_err_set(&err, KG_REFUSED, "'%s' holds no certificate",
		                caf);
	if (rc == KG_OK)
		rc = cli_key_open(c, cli_opt(cmd, a, "ca-key"),
		                  cli_opt(cmd, a, "passphrase-source"), &key,
		                  &err);
	if (rc == KG_OK) {
		in.csr = csr;
		in.ca_cert = sk_X509_value(cas, 0);
		in.ca_key = key.pkey;
		in.now = time(NULL);
		in.subject = subject;
		in.san = san;
		in.copy_extensions = cli_flag(cmd, a, "copy-extensions");
		in.capped = &capped;
		if (batch) {
			rc = sign_batch(c, cmd, a, &in, &key);
			goto done;
		}
		rc = eng_cert_issue(&in, &x, &err);
		if (rc == KG_REFUSED) {
			struct kg_err aerr;

			/* a refusal is on record too */
			if (cli_audit(c, "cert-issue", "refused", &key, NULL,
			              eng_csr_subject(csr), NULL, 0, out,
			              err.msg, &aerr) != KG_OK)
				fprintf(stderr, "keygate: %s\n", aerr.msg);
		}
	}
	if (rc == KG_OK)
		rc = eng_pem_cert(x, &pem, &plen, &err);
	if (rc == KG_OK)
		rc = cli_record_out(c, "cert-issue", &key, x, NULL, pem, plen,
		                    out, out != NULL || !c->json, 0644,
		                    cli_flag(cmd, a, "force"), &err);
	if (rc == KG_OK) {
		if (capped)
			cli_warn(c, "--days ran past the CA certificate's "
			            "notAfter; the validity is cut there");
		if (c->json) {
			struct eng_obj *objs = NULL;
			size_t n = 0;

			if (eng_decode_all((unsigned char *)pem, plen,
			                   "certificate", &objs, &n,
			                   &err) == KG_OK) {
				json_t *j = cli_obj_json(&objs[0]);

				json_object_set_new(
				        j, "profile",
				        json_string(
				                eng_profile_name(in.profile)));
				json_object_set_new(j, "capped",
				                    json_boolean(capped));
				json_object_set_new(j, "ca_key",
				                    kg_json_str(key.desc));
				json_object_set_new(j, "out",
				                    kg_json_str(out));
				if (out == NULL)
					json_object_set_new(j, "pem",
					                    kg_json_str(pem));
				cli_emit(c, j);
			}
			eng_obj_free_array(objs, n);
		} else if (out != NULL) {
			cli_info(c, "issued %s certificate to %s\n",
			         eng_profile_name(in.profile), out);
		}
	}
	rc = rc == KG_OK ? KG_OK : cli_fail(c, &err);
done:
	OPENSSL_free(pem);
	X509_free(x);
	cli_key_close(&key);
	eng_csr_free(csr);
	sk_X509_pop_free(cas, X509_free);
	X509_NAME_free(subject);
	GENERAL_NAMES_free(san);
	return rc;
}
