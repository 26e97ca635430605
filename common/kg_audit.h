/*
 * kg_audit: the signing station's record. One compact JSON line per token
 * operation, appended with O_APPEND under an exclusive lock and fsync'ed
 * before the caller puts its output in place; each line carries the
 * SHA-256 of the line before it, so the log is a hash chain.
 */
#ifndef KG_AUDIT_H
#define KG_AUDIT_H

#include <stddef.h>

#include "common/kg_err.h"

struct kg_audit_rec {
	const char *op;     /* "key-gen", "csr", "cert-issue", "export", ... */
	const char *result; /* "ok" or "refused" */
	const char *token_serial, *token_label; /* may be NULL */
	const unsigned char *key_id;
	size_t key_id_len;
	const char *key;     /* the key's URI or file, may be NULL */
	const char *subject; /* may be NULL */
	const char *serial;  /* certificate serial (hex), may be NULL */
	const void *out;     /* what was written (hashed), may be NULL */
	size_t out_len;
	const char *out_path; /* may be NULL: stdout */
	const char *detail;   /* a refusal's reason, may be NULL */
	/*
	 * The CA database (cert-issue, cert-revoke, crl records). Each is
	 * written only when set, so other records keep their shape and logs
	 * without them stay readable.
	 */
	const char *issuer;      /* the CA's subject (RFC 2253) */
	const char *issuer_spki; /* SHA-256 of the CA key's SPKI, hex */
	const char *reason;      /* cert-revoke: RFC 5280 CRLReason name */
	const char *revoked_at;  /* cert-revoke: RFC 3339 */
	const char *crl_number;  /* crl: decimal */
};

/* Appends one record to path (mode 0600 when created). */
enum kg_code kg_audit_append(const char *path, const struct kg_audit_rec *r,
                             struct kg_err *err);

/*
 * Appends n records, chained in order, with one write and one fsync (a
 * batch's group commit). All of them or none: a failed write is cut back.
 */
enum kg_code kg_audit_append_many(const char *path,
                                  const struct kg_audit_rec *recs, size_t n,
                                  struct kg_err *err);

/*
 * Checks the chain. On a break *bad is the 1-based line that does not
 * follow its predecessor (0 when the chain holds) and why says what is
 * wrong; *lines is the number of records read.
 */
enum kg_code kg_audit_verify(const char *path, size_t *lines, size_t *bad,
                             char *why, size_t cap, struct kg_err *err);

/*
 * Checks the chain of a log held in buf[0..len), as kg_audit_verify does
 * for a file; returns *bad (0 when the chain holds).
 */
size_t kg_audit_check(const char *buf, size_t len, size_t *lines, char *why,
                      size_t cap);

/*
 * A log opened for a decision that must not race another writer (cert
 * revoke, crl create): the lock is held from kg_audit_open, while the
 * log is read and checked, through kg_audit_log_append, until
 * kg_audit_close. The log must exist (an absent path is KG_E_USAGE).
 */
struct kg_audit_log;
enum kg_code kg_audit_open(const char *path, struct kg_audit_log **out,
                           struct kg_err *err);
/* The log's contents when it was opened (borrowed; NUL-terminated). */
const char *kg_audit_log_data(const struct kg_audit_log *l, size_t *len);
/* Appends n records (as kg_audit_append_many) under the held lock. */
enum kg_code kg_audit_log_append(struct kg_audit_log *l,
                                 const struct kg_audit_rec *recs, size_t n,
                                 struct kg_err *err);
void kg_audit_close(struct kg_audit_log *l); /* NULL-safe; drops the lock */

#endif
