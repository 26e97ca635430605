/*
 * cert revoke, crl create, audit show: the signing station's CA database.
 * The audit log is the database: cert sign records each issuance, cert
 * revoke a revocation, crl create each CRL's number. Every decision reads
 * the log under its lock after checking its whole hash chain, so nothing
 * is revoked or signed from a log that was edited, and two stations
 * sharing a log cannot take one CRL number twice.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/kg_audit.h"
#include "common/kg_cadb.h"
#include "common/kg_file.h"
#include "common/kg_json.h"
#include "common/kg_time.h"
#include "engine/eng.h"
#include "engine/eng_trust.h"

/* options, beside their handlers (the table in cli_main.c) */
const struct cli_opt cli_opts_cert_revoke[] = {
        {"ca-cert", CLI_VALUE, "FILE", "the CA's certificate"},
        {"ca-key", CLI_VALUE, "KEY", "the CA's key: a pkcs11: URI"},
        {"reason", CLI_VALUE, "R",
         "keyCompromise, cACompromise, affiliationChanged, superseded, "
         "cessationOfOperation, privilegeWithdrawn, unspecified (default)"},
        {"serial", CLI_VALUE, "S",
         "the certificate's serial in hex, as openssl x509 -serial "
         "prints it"},
        CLI_OPT_END};

const struct cli_opt cli_opts_crl_create[] = {
        {"ca-cert", CLI_VALUE, "FILE", "the CA's certificate"},
        {"ca-key", CLI_VALUE, "KEY", "the CA's key: a pkcs11: URI"},
        {"days", CLI_VALUE, "N",
         "nextUpdate is thisUpdate + N days (default 30)"},
        {"digest", CLI_VALUE, "D", "sha256 (default), sha384 or sha512"},
        {"force", CLI_FLAG, NULL, "replace an existing --out file"},
        {"out", CLI_VALUE, "FILE", "write here (default: stdout)"},
        {"sig-alg", CLI_VALUE, "A",
         "pkcs1 (default) or rsa-pss (RSA keys; salt = digest length)"},
        CLI_OPT_END};

const struct cli_opt cli_opts_audit_show[] = {
        {"ca-cert", CLI_VALUE, "FILE", "only this CA's records"},
        {"issued", CLI_FLAG, NULL, "the certificates issued"},
        {"revoked", CLI_FLAG, NULL, "the certificates revoked"},
        CLI_OPT_END};

#define CRL_DAYS_DEFAULT 30
#define CRL_DAYS_MAX     3650

/* The first certificate of path (a file, or one token certificate URI):
 * the CA's. *out: X509_free. */
static enum kg_code read_ca(struct cli_ctx *c, const char *path, X509 **out,
                            struct kg_err *err)
{
	unsigned char *buf = NULL;
	STACK_OF(X509) *cas = NULL;
	size_t len = 0;
	enum kg_code rc;

	*out = NULL;
	rc = cli_read_cert_input(c, path, KG_CAP_CERT, "a CA certificate", 1,
	                         &buf, &len, err);
	if (rc == KG_OK)
		rc = eng_certs_parse(buf, len, path, &cas, NULL, err);
	free(buf);
	if (rc == KG_OK && sk_X509_num(cas) < 1)
		rc = kg_err_set(err, KG_REFUSED, "'%s' holds no certificate",
		                path);
	if (rc == KG_OK)
		*out = sk_X509_shift(cas);
	sk_X509_pop_free(cas, X509_free);
	return rc;
}

/* The hash chain of a log held in buf, or KG_REFUSED naming the break. */
static enum kg_code chain_holds(const char *path, const char *buf, size_t len,
                                const char *what, struct kg_err *err)
{
	size_t lines = 0, bad;
	char why[300];

	bad = kg_audit_check(buf, len, &lines, why, sizeof(why));
	if (bad == 0)
		return KG_OK;
	return kg_err_set(err, KG_REFUSED,
	                  "the audit log '%s' does not verify: %s; %s: "
	                  "find out who changed it and restore it from a "
	                  "copy you trust",
	                  path, why, what);
}

/* What cert revoke and crl create share: the CA, its key, its log. */
struct ca_ctx {
	X509 *ca;
	struct cli_key key;
	struct kg_audit_log *log;
	struct kg_cadb *db;
	char *issuer; /* the CA's subject, RFC 2253 (OPENSSL_free) */
	char spki[65];
	char key_id[129];
	struct kg_ca_id id;
};

static void ca_close(struct ca_ctx *x)
{
	kg_cadb_free(x->db);
	kg_audit_close(x->log); /* drops the lock */
	cli_key_close(&x->key);
	X509_free(x->ca);
	OPENSSL_free(x->issuer);
	memset(x, 0, sizeof(*x));
}

/*
 * The CA's certificate, its log (locked, its chain checked, read as the
 * CA database of this CA) and its key (on a token, the certificate's).
 */
static enum kg_code ca_open(struct cli_ctx *c, const struct cli_cmd *cmd,
                            struct cli_args *a, const char *nothing,
                            struct ca_ctx *x, struct kg_err *err)
{
	const char *keyspec = cli_opt(cmd, a, "ca-key");
	const char *caf = cli_opt(cmd, a, "ca-cert");
	const struct hsm_key_info *ki;
	const char *data = NULL;
	size_t len = 0;
	enum kg_code rc;

	memset(x, 0, sizeof(*x));
	rc = read_ca(c, caf, &x->ca, err);
	/* the key first (a PIN may be asked for on a terminal): the log's
	 * lock, which every signer of the station waits on, is taken only
	 * once nobody has to type anything */
	if (rc == KG_OK)
		rc = cli_key_open(c, keyspec, NULL, &x->key, err);
	if (rc == KG_OK && x->key.t == NULL)
		rc = kg_err_set(err, KG_E_USAGE,
		                "the CA key '%s' is a file: issuance is on "
		                "record only for a CA key on a token, so "
		                "revocation is too; give its pkcs11: URI",
		                keyspec);
	if (rc == KG_OK)
		rc = eng_crl_ca_check(x->ca, x->key.pkey, err);
	if (rc == KG_OK)
		rc = kg_audit_open(c->audit, &x->log, err);
	if (rc == KG_OK) {
		data = kg_audit_log_data(x->log, &len);
		rc = chain_holds(c->audit, data, len, nothing, err);
	}
	if (rc != KG_OK)
		return rc;
	x->issuer = eng_name_str(X509_get_subject_name(x->ca));
	ki = hsm_key_describe(x->key.k);
	if (x->issuer == NULL ||
	    !eng_spki_sha256(X509_get_X509_PUBKEY(x->ca), x->spki) ||
	    ki->id_len * 2 >= sizeof(x->key_id))
		return kg_err_set(err, KG_E_RUNTIME,
		                  "cannot name the CA (out of memory)");
	kg_hex(ki->id, ki->id_len, x->key_id);
	x->id.issuer = x->issuer;
	x->id.issuer_spki = x->spki;
	x->id.token_serial = hsm_token_serial(x->key.t);
	x->id.key_id = x->key_id;
	return kg_cadb_read(data, len, &x->id, &x->db, err);
}

static enum kg_code need_log(struct cli_ctx *c, const char *verb,
                             struct kg_err *err)
{
	if (c->audit != NULL && c->audit[0] != '\0')
		return KG_OK;
	return kg_err_set(err, KG_E_USAGE,
	                  "%s needs the audit log cert sign wrote, the CA's "
	                  "record of what it issued: give --audit FILE or "
	                  "set KEYGATE_AUDIT",
	                  verb);
}

enum kg_code cli_cert_revoke(struct cli_ctx *c, const struct cli_cmd *cmd,
                             struct cli_args *a)
{
	const char *serial_s = cli_opt(cmd, a, "serial");
	const struct kg_cadb_issued *is;
	const struct kg_cadb_revoked *was;
	struct cli_audit_rec ar;
	struct ca_ctx x;
	char serial[KG_SERIAL_LEN], when[KG_TIME_LEN];
	const char *rname;
	struct kg_err err;
	enum kg_code rc = KG_OK;
	int reason = 0, filled = 0;

	memset(&x, 0, sizeof(x));
	if (cli_opt(cmd, a, "ca-key") == NULL ||
	    cli_opt(cmd, a, "ca-cert") == NULL || serial_s == NULL)
		rc = kg_err_set(
		        &err, KG_E_USAGE,
		        "cert revoke needs --ca-key KEY, --ca-cert FILE "
		        "and --serial S (see keygate cert revoke "
		        "--help)");
	if (rc == KG_OK)
		rc = need_log(c, "cert revoke", &err);
	if (rc == KG_OK && !kg_cadb_serial(serial_s, serial))
		rc = kg_err_set(
		        &err, KG_E_USAGE,
		        "bad --serial '%s': give the certificate's "
		        "serial in hex, as openssl x509 -noout -serial "
		        "prints it",
		        serial_s);
	if (rc == KG_OK)
		rc = eng_crl_reason_parse(cli_opt(cmd, a, "reason"), &reason,
		                          &err);
	rname = eng_crl_reason_name(reason);
	if (rc == KG_OK && c->now > time(NULL) + 60)
		rc = kg_err_set(&err, KG_E_USAGE,
		                "--at %s is in the future: a revocation is "
		                "recorded as of when it happened",
		                c->at);
	if (rc == KG_OK)
		rc = ca_open(c, cmd, a, "nothing was revoked", &x, &err);
	if (rc != KG_OK)
		goto out;
	is = kg_cadb_find_issued(x.db, serial);
	was = kg_cadb_find_revoked(x.db, serial);
	if (is == NULL) {
		rc = kg_err_set(
		        &err, KG_REFUSED,
		        "the audit log '%s' has no certificate with "
		        "serial %s issued by '%s': nothing revoked; "
		        "check the serial (openssl x509 -noout -serial "
		        "-in CERT) and what this CA issued (keygate "
		        "audit show %s --issued)",
		        c->audit, serial, x.issuer, c->audit);
		goto out;
	}
	if (was != NULL) {
		rc = kg_err_set(&err, KG_REFUSED,
		                "serial %s was already revoked (%s, %s, line "
		                "%zu of the log): nothing recorded",
		                serial, was->reason, was->revoked_at,
		                was->line);
		goto out;
	}
	if (is->when != 0 && (long long)c->now < is->when) {
		rc = kg_err_set(&err, KG_E_USAGE,
		                "--at %s is before serial %s was issued (%s)",
		                c->at ? c->at : "", serial,
		                is->time ? is->time : "");
		goto out;
	}
	kg_time_str(c->now, when);
	filled = cli_audit_fill(&x.key, "cert-revoke", "ok", NULL, NULL, NULL,
	                        0, NULL, NULL, &ar);
	if (!filled) {
		rc = kg_err_set(&err, KG_E_RUNTIME, "cannot fill the record");
		goto out;
	}
	ar.r.subject = is->subject;
	ar.r.serial = serial;
	ar.r.issuer = x.issuer;
	ar.r.issuer_spki = x.spki;
	ar.r.reason = rname;
	ar.r.revoked_at = when;
	rc = kg_audit_log_append(x.log, &ar.r, 1, &err);
	if (rc != KG_OK)
		goto out;
	if (c->json) {
		json_t *j = json_object();

		json_object_set_new(j, "ok", json_true());
		json_object_set_new(j, "serial", kg_json_str(serial));
		json_object_set_new(j, "subject", kg_json_str(is->subject));
		json_object_set_new(j, "issuer", kg_json_str(x.issuer));
		json_object_set_new(j, "reason", kg_json_str(rname));
		json_object_set_new(j, "revoked_at", kg_json_str(when));
		json_object_set_new(j, "audit", kg_json_str(c->audit));
		cli_emit(c, j);
	} else {
		printf("revoked %s (%s): %s, as of %s\n", serial,
		       is->subject ? is->subject : "?", rname, when);
		cli_info(c,
		         "recorded in %s; publish it with keygate crl create "
		         "--ca-key ... --ca-cert %s --out crl.pem\n",
		         c->audit, cli_opt(cmd, a, "ca-cert"));
	}
out:
	if (filled)
		cli_audit_rec_clear(&ar);
	ca_close(&x);
	return rc == KG_OK ? KG_OK : cli_fail(c, &err);
}

/* The revocations on record as CRL entries. *out: free(). */
static enum kg_code crl_entries(const struct kg_cadb *db,
                                struct eng_crl_entry **out, struct kg_err *err)
{
	struct eng_crl_entry *e;
	size_t i;

	*out = NULL;
	e = calloc(db->nrevoked + 1, sizeof(*e));
	if (e == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	for (i = 0; i < db->nrevoked; i++) {
		const struct kg_cadb_revoked *r = &db->revoked[i];

		if (eng_crl_reason_parse(r->reason, &e[i].reason, err) !=
		    KG_OK) {
			free(e);
			return kg_err_set(err, KG_REFUSED,
			                  "line %zu of the audit log: unknown "
			                  "revocation reason '%s'; nothing "
			                  "signed",
			                  r->line, r->reason);
		}
		e[i].serial = r->serial;
		e[i].revoked = (time_t)r->when;
	}
	*out = e;
	return KG_OK;
}

/*
 * The CRL in place with its record: staged, on record (under the lock
 * already held), then renamed; a failed rename is recorded too. To stdout
 * (or, with --json and no --out, into the document): on record first.
 */
static enum kg_code crl_out(struct cli_ctx *c, struct ca_ctx *x,
                            struct kg_audit_rec *r, const char *out, int force,
                            struct kg_err *err)
{
	char *tmp = NULL;
	sigset_t old;
	enum kg_code rc;

	if (out == NULL || strcmp(out, "-") == 0) {
		rc = kg_audit_log_append(x->log, r, 1, err);
		if (rc == KG_OK && !c->json)
			rc = cli_write_out(c, NULL, r->out, r->out_len, 0644,
			                   0, err);
		return rc;
	}
	kg_file_hold_signals(&old);
	rc = kg_file_stage(out, r->out, r->out_len, 0644, 1, &tmp, err);
	if (rc == KG_OK) {
		rc = kg_audit_log_append(x->log, r, 1, err);
		if (rc != KG_OK)
			kg_file_discard(tmp); /* not on record: not placed */
	}
	if (rc == KG_OK) {
		rc = kg_file_commit(tmp, out, force, err);
		if (rc != KG_OK) {
			struct kg_audit_rec nw = *r;
			struct kg_err aerr;

			nw.result = "not-written";
			nw.detail = err->msg;
			if (kg_audit_log_append(x->log, &nw, 1, &aerr) !=
			    KG_OK)
				fprintf(stderr, "keygate: %s\n", aerr.msg);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	free(tmp);
	return rc;
}

enum kg_code cli_crl_create(struct cli_ctx *c, const struct cli_cmd *cmd,
                            struct cli_args *a)
{
	const char *out = cli_opt(cmd, a, "out");
	const char *days_s = cli_opt(cmd, a, "days");
	int force = cli_flag(cmd, a, "force");
	struct eng_crl_req req = {0};
	struct eng_crl_entry *entries = NULL;
	struct cli_audit_rec ar;
	struct ca_ctx x;
	X509_CRL *crl = NULL;
	char *pem = NULL, number[32], tu[KG_TIME_LEN], nu[KG_TIME_LEN];
	size_t plen = 0, i;
	struct kg_err err;
	enum kg_code rc = KG_OK;
	int filled = 0, tofile = out != NULL && strcmp(out, "-") != 0;
	long days = CRL_DAYS_DEFAULT;

	memset(&x, 0, sizeof(x));
	if (cli_opt(cmd, a, "ca-key") == NULL ||
	    cli_opt(cmd, a, "ca-cert") == NULL)
		rc = kg_err_set(&err, KG_E_USAGE,
		                "crl create needs --ca-key KEY and --ca-cert "
		                "FILE (see keygate crl create --help)");
	if (rc == KG_OK)
		rc = need_log(c, "crl create", &err);
	if (rc == KG_OK && c->at != NULL)
		rc = kg_err_set(
		        &err, KG_E_USAGE,
		        "crl create signs as of now; --at is not taken "
		        "(revocation times come from cert revoke)");
	if (rc == KG_OK && days_s != NULL) {
		char *end;

		days = strtol(days_s, &end, 10);
		if (*end != '\0' || days < 1 || days > CRL_DAYS_MAX)
			rc = kg_err_set(&err, KG_E_USAGE,
			                "bad --days '%s': give a whole number "
			                "of days from 1 to %d",
			                days_s, CRL_DAYS_MAX);
	}
	if (rc == KG_OK)
		rc = eng_digest(cli_opt(cmd, a, "digest"), &req.md, &err);
	if (rc == KG_OK)
		rc = eng_sig_alg_parse(cli_opt(cmd, a, "sig-alg"), &req.pss,
		                       &err);
	if (rc == KG_OK && tofile) {
		rc = kg_file_check_writable(out, force, &err);
		if (rc == KG_OK) /* it records, so before the lock is held */
			cli_sweep_stale(c, out, 0);
	}
	if (rc == KG_OK)
		rc = ca_open(c, cmd, a, "nothing was signed", &x, &err);
	if (rc == KG_OK)
		rc = crl_entries(x.db, &entries, &err);
	if (rc != KG_OK)
		goto out;
	req.ca_cert = x.ca;
	req.ca_key = x.key.pkey;
	req.entries = entries;
	req.n = x.db->nrevoked;
	req.number = x.db->crl_number + 1;
	req.this_update = time(NULL);
	req.days = (int)days;
	rc = eng_crl_build(&req, &crl, &err);
	if (rc == KG_OK)
		rc = eng_pem_crl(crl, &pem, &plen, &err);
	if (rc != KG_OK)
		goto out;
	snprintf(number, sizeof(number), "%llu", req.number);
	filled = cli_audit_fill(&x.key, "crl", "ok", NULL, NULL, pem, plen,
	                        tofile ? out : NULL, NULL, &ar);
	if (!filled) {
		rc = kg_err_set(&err, KG_E_RUNTIME, "cannot fill the record");
		goto out;
	}
	ar.r.issuer = x.issuer;
	ar.r.issuer_spki = x.spki;
	ar.r.crl_number = number;
	rc = crl_out(c, &x, &ar.r, tofile ? out : NULL, force, &err);
	if (rc != KG_OK)
		goto out;
	kg_time_str(req.this_update, tu);
	kg_time_str(req.this_update + (time_t)days * 86400, nu);
	if (c->json) {
		json_t *j = json_object(), *list = json_array();

		for (i = 0; i < x.db->nrevoked; i++) {
			const struct kg_cadb_revoked *r = &x.db->revoked[i];
			json_t *e = json_object();

			json_object_set_new(e, "serial",
			                    kg_json_str(r->serial));
			json_object_set_new(e, "reason",
			                    kg_json_str(r->reason));
			json_object_set_new(e, "revoked_at",
			                    kg_json_str(r->revoked_at));
			json_array_append_new(list, e);
		}
		json_object_set_new(j, "ok", json_true());
		json_object_set_new(j, "crl_number",
		                    json_integer((json_int_t)req.number));
		json_object_set_new(j, "issuer", kg_json_str(x.issuer));
		json_object_set_new(j, "this_update", kg_json_str(tu));
		json_object_set_new(j, "next_update", kg_json_str(nu));
		json_object_set_new(j, "days", json_integer(days));
		json_object_set_new(j, "revoked", list);
		json_object_set_new(j, "out",
		                    kg_json_str(tofile ? out : NULL));
		if (!tofile)
			json_object_set_new(j, "pem", kg_json_str(pem));
		cli_emit(c, j);
	} else {
		cli_info(c,
		         "signed CRL number %s for '%s': %zu revoked, next "
		         "update %s%s%s\n",
		         number, x.issuer, x.db->nrevoked, nu,
		         tofile ? ", written to " : "", tofile ? out : "");
	}
out:
	if (filled)
		cli_audit_rec_clear(&ar);
	OPENSSL_free(pem);
	X509_CRL_free(crl);
	free(entries);
	ca_close(&x);
	return rc == KG_OK ? KG_OK : cli_fail(c, &err);
}

static json_t *issued_json(const struct kg_cadb_issued *e)
{
	json_t *j = json_object();

	json_object_set_new(j, "serial", kg_json_str(e->serial));
	json_object_set_new(j, "subject", kg_json_str(e->subject));
	json_object_set_new(j, "issuer", kg_json_str(e->issuer));
	json_object_set_new(j, "issuer_spki_sha256",
	                    kg_json_str(e->issuer_spki));
	json_object_set_new(j, "time", kg_json_str(e->time));
	json_object_set_new(j, "out", kg_json_str(e->out));
	json_object_set_new(j, "line", json_integer((json_int_t)e->line));
	json_object_set_new(j, "revoked", json_boolean(e->revoked));
	return j;
}

static json_t *revoked_json(const struct kg_cadb_revoked *e)
{
	json_t *j = json_object();

	json_object_set_new(j, "serial", kg_json_str(e->serial));
	json_object_set_new(j, "subject", kg_json_str(e->subject));
	json_object_set_new(j, "issuer", kg_json_str(e->issuer));
	json_object_set_new(j, "issuer_spki_sha256",
	                    kg_json_str(e->issuer_spki));
	json_object_set_new(j, "reason", kg_json_str(e->reason));
	json_object_set_new(j, "revoked_at", kg_json_str(e->revoked_at));
	json_object_set_new(j, "line", json_integer((json_int_t)e->line));
	return j;
}

static const char *or_q(const char *s)
{
	return s ? s : "?";
}

enum kg_code cli_audit_show(struct cli_ctx *c, const struct cli_cmd *cmd,
                            struct cli_args *a)
{
	const char *path = a->pos[0], *caf = cli_opt(cmd, a, "ca-cert");
	int want_i = cli_flag(cmd, a, "issued");
	int want_r = cli_flag(cmd, a, "revoked");
	struct kg_ca_id id = {0}, *idp = NULL;
	struct kg_cadb *db = NULL;
	unsigned char *buf = NULL;
	char *issuer = NULL, spki[65];
	X509 *ca = NULL;
	size_t len = 0, i;
	struct kg_err err;
	enum kg_code rc;

	if (!want_i && !want_r)
		want_i = want_r = 1;
	rc = kg_file_read(path, &buf, &len, &err);
	if (rc == KG_OK)
		rc = chain_holds(path, (const char *)buf, len, "nothing shown",
		                 &err);
	if (rc == KG_OK && caf != NULL) {
		rc = read_ca(c, caf, &ca, &err);
		if (rc == KG_OK &&
		    ((issuer = eng_name_str(X509_get_subject_name(ca))) ==
		             NULL ||
		     !eng_spki_sha256(X509_get_X509_PUBKEY(ca), spki)))
			rc = kg_err_set(&err, KG_E_RUNTIME, "out of memory");
		id.issuer = issuer;
		id.issuer_spki = spki;
		idp = &id;
	}
	if (rc == KG_OK)
		rc = kg_cadb_read((const char *)buf, len, idp, &db, &err);
	free(buf);
	X509_free(ca);
	if (rc != KG_OK) {
		OPENSSL_free(issuer);
		return cli_fail(c, &err);
	}
	if (c->json) {
		json_t *j = json_object(), *li = json_array(),
		       *lr = json_array(), *lc = json_array();

		for (i = 0; want_i && i < db->nissued; i++)
			json_array_append_new(li, issued_json(&db->issued[i]));
		for (i = 0; want_r && i < db->nrevoked; i++)
			json_array_append_new(lr,
			                      revoked_json(&db->revoked[i]));
		for (i = 0; i < db->ncrls; i++) {
			json_t *e = json_object();

			json_object_set_new(
			        e, "crl_number",
			        json_integer((json_int_t)db->crls[i].number));
			json_object_set_new(e, "issuer",
			                    kg_json_str(db->crls[i].issuer));
			json_object_set_new(e, "time",
			                    kg_json_str(db->crls[i].time));
			json_object_set_new(e, "result",
			                    kg_json_str(db->crls[i].result));
			json_object_set_new(e, "out",
			                    kg_json_str(db->crls[i].out));
			json_object_set_new(
			        e, "line",
			        json_integer((json_int_t)db->crls[i].line));
			json_array_append_new(lc, e);
		}
		json_object_set_new(j, "ok", json_true());
		json_object_set_new(j, "file", kg_json_str(path));
		json_object_set_new(j, "records",
		                    json_integer((json_int_t)db->records));
		json_object_set_new(j, "ca", kg_json_str(issuer));
		if (want_i)
			json_object_set_new(j, "issued", li);
		else
			json_decref(li);
		if (want_r)
			json_object_set_new(j, "revoked", lr);
		else
			json_decref(lr);
		json_object_set_new(j, "crls", lc);
		cli_emit(c, j);
	} else {
		for (i = 0; want_i && i < db->nissued; i++) {
			const struct kg_cadb_issued *e = &db->issued[i];

			printf("issued  %-40s %s  %s  by %s%s\n", e->serial,
			       or_q(e->time), or_q(e->subject),
			       or_q(e->issuer), e->revoked ? "  REVOKED" : "");
		}
		for (i = 0; want_r && i < db->nrevoked; i++) {
			const struct kg_cadb_revoked *e = &db->revoked[i];

			printf("revoked %-40s %s  %s  %s  by %s\n", e->serial,
			       e->revoked_at, e->reason, or_q(e->subject),
			       or_q(e->issuer));
		}
		printf("%s: %zu records; %zu issued, %zu revoked, %zu CRLs "
		       "(last number %llu)\n",
		       path, db->records, db->nissued, db->nrevoked, db->ncrls,
		       db->crl_number);
	}
	kg_cadb_free(db);
	OPENSSL_free(issuer);
	return KG_OK;
}
