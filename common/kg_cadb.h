/*
 * kg_cadb: the CA database that an audit log holds. cert sign appends a
 * "cert-issue" record per certificate, cert revoke a "cert-revoke" record,
 * crl create a "crl" record with the CRL's number; the hash chain makes
 * the whole of it tamper-evident. This reads a log (already checked with
 * kg_audit_check: the reader trusts no field and refuses a record it
 * needs that is malformed) into what one CA, or every CA, issued and
 * revoked.
 */
#ifndef KG_CADB_H
#define KG_CADB_H

#include <stddef.h>

#include "common/kg_err.h"

/* Room for a normalised serial: 20 octets as hex, and the NUL. */
#define KG_SERIAL_LEN 41

/*
 * Which CA: records that carry issuer fields match on both; records
 * written before they existed (cert-issue without "issuer_spki_sha256")
 * match on the CA key's token serial and CKA_ID instead.
 */
struct kg_ca_id {
	const char *issuer;       /* the CA certificate's subject, RFC 2253 */
	const char *issuer_spki;  /* SHA-256 of its SubjectPublicKeyInfo */
	const char *token_serial; /* the CA key's token (may be NULL) */
	const char *key_id;       /* the CA key's CKA_ID, hex (may be NULL) */
};

struct kg_cadb_issued {
	char *serial; /* normalised (kg_cadb_serial) */
	char *subject, *issuer, *issuer_spki, *time, *out; /* may be NULL */
	long long when;
	size_t line;
	int revoked; /* a cert-revoke record of the same CA names it */
};

struct kg_cadb_revoked {
	char *serial, *reason, *revoked_at;
	char *subject, *issuer, *issuer_spki; /* may be NULL */
	long long when;                       /* revoked_at */
	size_t line;
};

struct kg_cadb_crl {
	unsigned long long number;
	char *issuer, *time, *result, *out; /* may be NULL */
	size_t line;
};

struct kg_cadb {
	struct kg_cadb_issued *issued;
	size_t nissued;
	struct kg_cadb_revoked *revoked;
	size_t nrevoked;
	struct kg_cadb_crl *crls;
	size_t ncrls;
	unsigned long long crl_number; /* the highest on record, 0: none */
	size_t records;                /* lines read */
};

/*
 * Reads the log buf[0..len) into *out (kg_cadb_free): the issuances
 * ("cert-issue", result ok), revocations ("cert-revoke", ok) and CRLs
 * ("crl", any result: a number once used is never used again) of the CA
 * id, or of every CA when id is NULL. A line that is not a JSON object,
 * or a matching record whose serial, reason, time or CRL number does not
 * parse, is KG_REFUSED naming the line.
 */
enum kg_code kg_cadb_read(const char *buf, size_t len,
                          const struct kg_ca_id *id, struct kg_cadb **out,
                          struct kg_err *err);
void kg_cadb_free(struct kg_cadb *db); /* NULL-safe */

/* Borrowed from db, or NULL. serial normalised. */
const struct kg_cadb_issued *kg_cadb_find_issued(const struct kg_cadb *db,
                                                 const char *serial);
const struct kg_cadb_revoked *kg_cadb_find_revoked(const struct kg_cadb *db,
                                                   const char *serial);

/*
 * A certificate serial in hex as openssl prints it ("0A1B", "0a:1b",
 * "0x000A1B") normalised into out (KG_SERIAL_LEN bytes) the way openssl
 * prints it: upper case, whole octets, no colons or leading zero octets
 * ("0A1B"). Returns 1, or 0 for anything else (empty, not hex, a sign,
 * more than 20 octets).
 */
int kg_cadb_serial(const char *in, char out[KG_SERIAL_LEN]);

/* "YYYY-MM-DDTHH:MM:SSZ" (as kg_time_str writes) into *out. 1, or 0. */
int kg_cadb_time(const char *s, long long *out);

#endif
