/* cli: argv in, one command, human or JSON out, exit status. */
#ifndef CLI_H
#define CLI_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "common/kg_audit.h"
#include "common/kg_err.h"
#include "hsm/hsm.h"

#include <openssl/x509v3.h>

#define CLI_MAX_OPTS 24
#define CLI_MAX_POS  64

/* ends a command's option table */
#define CLI_OPT_END                                                           \
	{                                                                     \
		NULL, CLI_FLAG, NULL, NULL                                    \
	}

enum cli_arg { CLI_FLAG, CLI_VALUE };

struct cli_opt {
	const char *name; /* without "--" */
	enum cli_arg arg;
	const char *meta; /* "URI", "FILE", ... for --help */
	const char *help;
};

struct cli_args {
	const char *val[CLI_MAX_OPTS]; /* by index in the command's table */
	int set[CLI_MAX_OPTS];
	const char *pos[CLI_MAX_POS];
	int npos;
};

/* Global state: the global options and what every command shares. */
struct cli_ctx {
	int json, quiet, verbose;
	const char *module, *at, *audit, *pin_source;
	time_t now;
	json_t *warnings; /* array of strings, printed with the result */
	struct hsm_conf hconf;
	int interrupted; /* the signal that stopped a batch, or 0 */
};

struct cli_cmd;
typedef enum kg_code (*cli_fn)(struct cli_ctx *c, const struct cli_cmd *cmd,
                               struct cli_args *a);

struct cli_cmd {
	const char *group, *verb;
	cli_fn fn;
	const char *summary;
	const char *synopsis;       /* after "keygate GROUP VERB " */
	const struct cli_opt *opts; /* terminated by {NULL} */
	int min_pos, max_pos;
	const char *details; /* more --help text, may be NULL */
};

/* cli_opts.c */
enum kg_code cli_parse(struct cli_ctx *c, const struct cli_cmd *cmd, int argc,
                       char **argv, struct cli_args *a, int *want_help,
                       struct kg_err *err);
/* The value of option name (NULL if not given). */
const char *cli_opt(const struct cli_cmd *cmd, const struct cli_args *a,
                    const char *name);
int cli_flag(const struct cli_cmd *cmd, const struct cli_args *a,
             const char *name);
void cli_help_cmd(const struct cli_cmd *cmd);
/* Global options: parse one at argv[*i]; 1 if it was one, -1 on error. */
int cli_global_opt(struct cli_ctx *c, int argc, char **argv, int *i,
                   struct kg_err *err);
enum kg_code cli_parse_time(const char *s, time_t *out, struct kg_err *err);

/* cli_cmd_key.c: the warning for usages a token forced on a new key */
/* key gen --force: each certificate retired with the old key, warned
 * about and recorded */
void cli_keygen_retired(struct cli_ctx *c, struct hsm_token *t,
                        const struct hsm_key_info *k);
void cli_keygen_extra(struct cli_ctx *c, const struct hsm_key_info *k,
                      const char *token);

/* cli_opts.c: the example a verb's --help ends with, or NULL */
const char *cli_example(const char *group, const char *verb);

/* cli_out.c */
void cli_warn(void *ctx, const char *msg);
/* hsm_trace_start's sink (--verbose): one PKCS#11 call per stderr line */
void cli_trace(void *arg, const char *line);
enum kg_code cli_fail(struct cli_ctx *c, const struct kg_err *err);
/* Prints j (steals the reference) as the command's JSON document. */
void cli_emit(struct cli_ctx *c, json_t *j);
/* Human progress/info on stderr unless --quiet. */
void cli_info(struct cli_ctx *c, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Writes data to path (or stdout when path is NULL or "-"). */
enum kg_code cli_write_out(struct cli_ctx *c, const char *path,
                           const void *data, size_t len, unsigned mode,
                           int force, struct kg_err *err);

/* cli_token.c: a signing key named by a URI or a PEM file */
struct cli_key {
	struct hsm_token *t;
	struct hsm_key *k;
	EVP_PKEY *pkey;
	char desc[600]; /* the key's URI, or its file name */
};
enum kg_code cli_key_open(struct cli_ctx *c, const char *spec,
                          const char *passphrase_source, struct cli_key *out,
                          struct kg_err *err);
void cli_key_close(struct cli_key *k);

/*
 * Keys for up to want worker threads: [0] borrows k itself; for a token
 * key each other one is the key (found again by spec) on a session of its
 * own, as many as the token allows (*got >= 1); a software key is shared.
 * Free with cli_key_workers_free() before closing k.
 */
enum kg_code cli_key_workers(const struct cli_key *k, const char *spec,
                             int want, struct cli_key **out, int *got,
                             struct kg_err *err);
void cli_key_workers_free(struct cli_key *w, int n);

/*
 * cli_audit.c: records a token operation in the audit log (--audit or
 * KEYGATE_AUDIT):
 * nothing to do without a log or for software keys. Call before the
 * output is put in place; a failure means it must not be.
 */
enum kg_code cli_audit(struct cli_ctx *c, const char *op, const char *result,
                       const struct cli_key *k, const X509 *cert,
                       const X509_NAME *subject, const void *out, size_t len,
                       const char *out_path, const char *detail,
                       struct kg_err *err);

/*
 * cli_pool.c: a batch on worker threads. work(ctx, worker, i) runs on
 * worker thread number worker (0..workers-1) for each item i in 0..n-1;
 * commit(ctx, from, to) runs on the calling thread for items from..to-1,
 * finished, in order. Returns 0, or the signal (SIGINT, SIGTERM, SIGHUP)
 * that stopped the batch after *started items, each of them committed;
 * -1 when out of memory before any item started.
 */
#define CLI_MAX_JOBS 64
struct cli_pool_ops {
	void (*work)(void *ctx, int worker, size_t i);
	void (*commit)(void *ctx, size_t from, size_t to);
};
int cli_pool_run(size_t n, int workers, const struct cli_pool_ops *ops,
                 void *ctx, size_t *started);
/* cli_progress.c: monotonic seconds; is a progress bar wanted (stdout
 * and stderr terminals, no --json or --quiet); "[####  ] done/total
 * rate/s ETA" on stderr when it is. */
double cli_clock(void);
int cli_progress_on(const struct cli_ctx *c);
void cli_progress(struct cli_ctx *c, size_t done, size_t total, double t0);

/* Two per processor online, 1 to CLI_MAX_JOBS. */
int cli_jobs_default(void);
/* --jobs N (NULL: the default). */
enum kg_code cli_jobs(const char *s, int *out, struct kg_err *err);
/* No more workers than items, and at least one. */
int cli_jobs_for(int jobs, size_t items);

/*
 * An audit record for a token operation, and the strings it owns; for
 * batches that append a run of them at once. 0 (nothing filled) when k is
 * not a token key. cli_audit_rec_clear frees the strings.
 */
struct cli_audit_rec {
	struct kg_audit_rec r;
	char *subject, *serial;
	char *issuer, *issuer_spki; /* for a certificate: who signed it */
};
int cli_audit_fill(const struct cli_key *k, const char *op, const char *result,
                   const X509 *cert, const X509_NAME *subject, const void *out,
                   size_t len, const char *out_path, const char *detail,
                   struct cli_audit_rec *ar);
void cli_audit_rec_clear(struct cli_audit_rec *ar);
/* r: the record of a key made on t (id, its URI, the --type asked) */
/*
 * A record of a token change that is not a signature (an import, a
 * deletion, a PIN change): r as the caller filled it, t's serial and label
 * added, appended when --audit is given. A failed append is one stderr
 * line; the change stands (it was made).
 */
void cli_audit_token(struct cli_ctx *c, struct hsm_token *t,
                     struct kg_audit_rec *r);
void cli_audit_keygen(struct kg_audit_rec *r, struct hsm_token *t,
                      const unsigned char *id, size_t id_len, const char *uri,
                      const char *type);

/* cli_stage.c: outputs put in place with the audit log kept true */
/*
 * The output of token operation op (data, len) to out (NULL or "-":
 * stdout; write 0: nowhere, the JSON document carries it): staged and
 * fsync'ed, recorded, then renamed into place; a failed rename is
 * recorded as not-written. Without --audit (or for a software key) it is
 * simply written atomically.
 */
enum kg_code cli_record_out(struct cli_ctx *c, const char *op,
                            const struct cli_key *k, const X509 *cert,
                            const X509_NAME *subject, const void *data,
                            size_t len, const char *out, int write,
                            unsigned mode, int force, struct kg_err *err);
/* A record saying r's output was not put in place, and why. */
void cli_record_not_written(struct cli_ctx *c, const struct kg_audit_rec *r,
                            const char *why);
/* Removes (and records) temporaries a killed run left in where (a
 * directory if is_dir, else the directory of the file where). */
void cli_sweep_stale(struct cli_ctx *c, const char *where, int is_dir);

/*
 * One output of a batch on its way out (cli_pool.c): staged by a worker,
 * committed in order by cli_batch_commit.
 */
struct cli_staged {
	char *outp; /* where it goes (owned) */
	char *tmp;  /* staged, not yet in place */
	char *pem;
	size_t plen;
	enum kg_code rc;
	char *why; /* the failure, or NULL */
	struct cli_audit_rec rec[2];
	int nrec;
};
void cli_staged_fail(struct cli_staged *s, const struct kg_err *err);
/* Frees what s holds (a staged file that was never committed goes too). */
void cli_staged_clear(struct cli_staged *s);

/*
 * What cert sign --csr-dir and csr create --manifest share: items worked
 * on b->jobs worker threads (cli_pool_run), then committed in item order,
 * a run at a time (cli_batch_run), counted and reported.
 */
struct cli_batch {
	struct cli_ctx *c;
	const char *outd; /* where every output goes */
	int force;
	int jobs; /* workers */
	size_t n; /* items */
	size_t ok, nfail, started;
	int sig; /* the signal that stopped it, or 0 */
	double t0;
	json_t *fails, *done;
	void *ctx; /* the caller's, for the three below */
	struct cli_staged *(*at)(void *ctx, size_t i);
	void (*work)(void *ctx, int worker, size_t i); /* on a worker */
	/* after item i is committed: count it with cli_batch_item */
	void (*report)(struct cli_batch *b, size_t i);
};
/*
 * Runs the batch. Each run of finished items gets its audit records with
 * one write and one fsync, one syncfs for the files staged in outd, then
 * each file into place; an item that does not make it gets rc and why.
 * Sets started, sig and c->interrupted. Out of memory before any item is
 * KG_E_RUNTIME.
 */
enum kg_code cli_batch_run(struct cli_batch *b, struct kg_err *err);
/*
 * Counts one committed item: entry (new reference) joins done, or, with
 * "reason" set when it is an object, fails, with one line on stderr
 * naming what.
 */
void cli_batch_item(struct cli_batch *b, const struct cli_staged *s,
                    json_t *entry, const char *what);
/*
 * The end of the report: with --json, j (the caller's counts) gets
 * "failed", list (done), "jobs" and, if interrupted, "not_started", and is
 * printed; else the human line the caller began is finished.
 */
void cli_batch_report(struct cli_batch *b, json_t *j, const char *list);

/* key gen --type T into g (cli_token.c) */
enum kg_code cli_key_type(const char *t, struct hsm_keygen *g,
                          struct kg_err *err);

/* shared by csr create and cert selfsign (cli_naming.c) */
enum kg_code cli_naming(const struct cli_cmd *cmd, struct cli_args *a,
                        X509_NAME **subject, GENERAL_NAMES **san,
                        const EVP_MD **md, struct kg_err *err);
/* eng_san_parse, its errors prefixed with where the list came from
 * ("--san", a manifest's "san") (cli_naming.c) */
enum kg_code cli_san(const char *list, const char *where, GENERAL_NAMES **out,
                     struct kg_err *err);

/* A decoded object as JSON (cli_naming.c). New reference. */
struct eng_obj;
json_t *cli_obj_json(const struct eng_obj *o);

/* cli_input.c: a file of certificates, at most cap bytes (what: "a
 * truststore", for messages), or the certificates a token URI names; one
 * without any is KG_REFUSED. *out: sk_X509_pop_free(, X509_free). */
enum kg_code cli_read_certs(struct cli_ctx *c, const char *path,
                            const char *what, size_t cap,
                            STACK_OF(X509) * *out, struct kg_err *err);
/*
 * The certificate objects a token URI names (no login), as PEM one after
 * another in *buf (free()). None is KG_E_TOKEN; with one, more than one is
 * an error listing their URIs.
 */
enum kg_code cli_token_certs(struct cli_ctx *c, const char *uri, int one,
                             unsigned char **buf, size_t *len,
                             struct kg_err *err);
/* A certificate input: a token certificate URI (cli_token_certs) or a file
 * read whole, at most cap bytes. c NULL: a file only. */
enum kg_code cli_read_cert_input(struct cli_ctx *c, const char *path,
                                 size_t cap, const char *what, int one,
                                 unsigned char **buf, size_t *len,
                                 struct kg_err *err);

/* each command's options, in its own file */
extern const struct cli_opt cli_opts_token_list[];
extern const struct cli_opt cli_opts_token_init[];
extern const struct cli_opt cli_opts_key_gen[];
extern const struct cli_opt cli_opts_key_list[];
extern const struct cli_opt cli_opts_key_decrypt[];
extern const struct cli_opt cli_opts_key_pubkey[];
extern const struct cli_opt cli_opts_token_pin[];
extern const struct cli_opt cli_opts_key_delete[];
extern const struct cli_opt cli_opts_object_list[];
extern const struct cli_opt cli_opts_object_delete[];
extern const struct cli_opt cli_opts_cert_import[];
extern const struct cli_opt cli_opts_csr_create[];
extern const struct cli_opt cli_opts_cert_selfsign[];
extern const struct cli_opt cli_opts_cert_sign[];
extern const struct cli_opt cli_opts_bundle_check[];
extern const struct cli_opt cli_opts_bundle_export[];
extern const struct cli_opt cli_opts_bundle_fallback[];
extern const struct cli_opt cli_opts_bundle_assemble[];
extern const struct cli_opt cli_opts_mtls_check[];
extern const struct cli_opt cli_opts_chain_verify[];
extern const struct cli_opt cli_opts_ts_out[];
extern const struct cli_opt cli_opts_ts_remove[];
extern const struct cli_opt cli_opts_expiry[];

/* commands */
enum kg_code cli_token_list(struct cli_ctx *, const struct cli_cmd *,
                            struct cli_args *);
enum kg_code cli_token_init(struct cli_ctx *, const struct cli_cmd *,
                            struct cli_args *);
enum kg_code cli_key_gen(struct cli_ctx *, const struct cli_cmd *,
                         struct cli_args *);
enum kg_code cli_key_list(struct cli_ctx *, const struct cli_cmd *,
                          struct cli_args *);
enum kg_code cli_key_show(struct cli_ctx *, const struct cli_cmd *,
                          struct cli_args *);
enum kg_code cli_csr_create(struct cli_ctx *, const struct cli_cmd *,
                            struct cli_args *);
enum kg_code cli_csr_manifest(struct cli_ctx *, const struct cli_cmd *,
                              struct cli_args *);
enum kg_code cli_cert_selfsign(struct cli_ctx *, const struct cli_cmd *,
                               struct cli_args *);
enum kg_code cli_cert_show(struct cli_ctx *, const struct cli_cmd *,
                           struct cli_args *);

enum kg_code cli_key_pubkey(struct cli_ctx *, const struct cli_cmd *,
                            struct cli_args *);
enum kg_code cli_token_pin(struct cli_ctx *, const struct cli_cmd *,
                           struct cli_args *);
enum kg_code cli_key_delete(struct cli_ctx *, const struct cli_cmd *,
                            struct cli_args *);
enum kg_code cli_object_list(struct cli_ctx *, const struct cli_cmd *,
                             struct cli_args *);
enum kg_code cli_object_delete(struct cli_ctx *, const struct cli_cmd *,
                               struct cli_args *);
enum kg_code cli_cert_import(struct cli_ctx *, const struct cli_cmd *,
                             struct cli_args *);
enum kg_code cli_key_decrypt(struct cli_ctx *, const struct cli_cmd *,
                             struct cli_args *);
enum kg_code cli_bundle_check(struct cli_ctx *, const struct cli_cmd *,
                              struct cli_args *);
enum kg_code cli_bundle_export(struct cli_ctx *, const struct cli_cmd *,
                               struct cli_args *);
enum kg_code cli_bundle_fallback(struct cli_ctx *, const struct cli_cmd *,
                                 struct cli_args *);
enum kg_code cli_bundle_assemble(struct cli_ctx *, const struct cli_cmd *,
                                 struct cli_args *);
enum kg_code cli_truststore_lint(struct cli_ctx *, const struct cli_cmd *,
                                 struct cli_args *);
enum kg_code cli_mtls_check(struct cli_ctx *, const struct cli_cmd *,
                            struct cli_args *);
enum kg_code cli_chain_verify(struct cli_ctx *, const struct cli_cmd *,
                              struct cli_args *);
enum kg_code cli_truststore_merge(struct cli_ctx *, const struct cli_cmd *,
                                  struct cli_args *);
enum kg_code cli_truststore_remove(struct cli_ctx *, const struct cli_cmd *,
                                   struct cli_args *);
enum kg_code cli_cert_expiry(struct cli_ctx *, const struct cli_cmd *,
                             struct cli_args *);
enum kg_code cli_cert_sign(struct cli_ctx *, const struct cli_cmd *,
                           struct cli_args *);
enum kg_code cli_audit_verify(struct cli_ctx *, const struct cli_cmd *,
                              struct cli_args *);
/* cli_cmd_crl.c: revocation, CRLs, and the CA database in the log */
extern const struct cli_opt cli_opts_cert_revoke[];
extern const struct cli_opt cli_opts_crl_create[];
extern const struct cli_opt cli_opts_audit_show[];
enum kg_code cli_cert_revoke(struct cli_ctx *, const struct cli_cmd *,
                             struct cli_args *);
enum kg_code cli_crl_create(struct cli_ctx *, const struct cli_cmd *,
                            struct cli_args *);
enum kg_code cli_audit_show(struct cli_ctx *, const struct cli_cmd *,
                            struct cli_args *);
struct eng_findings;
enum kg_code cli_findings(struct cli_ctx *c, const char *what,
                          const struct eng_findings *f, json_t *extra);

extern const struct cli_cmd cli_cmds[];

#endif
