/* The CA database in an audit log: what a CA issued, revoked, published. */
#include "common/kg_cadb.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/kg_hex.h"

int kg_cadb_serial(const char *in, char out[KG_SERIAL_LEN])
{
	size_t n = 0;
	const char *p = in;
	int digits = 0;

	out[0] = '\0';
	if (in == NULL)
		return 0;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (; *p != '\0'; p++) {
		if (*p == ':' && digits > 0 && p[1] != '\0' && p[1] != ':')
			continue;
		if (kg_hexval((unsigned char)*p) < 0)
			return 0;
		digits++;
		if (n == 0 && *p == '0')
			continue; /* leading zero */
		if (n + 1 >= KG_SERIAL_LEN)
			return 0;
		out[n++] = (char)toupper((unsigned char)*p);
	}
	if (digits == 0)
		return 0;
	if (n % 2 == 1) { /* whole octets, as openssl prints them */
		if (n + 1 >= KG_SERIAL_LEN)
			return 0;
		memmove(out + 1, out, n++);
		out[0] = '0';
	}
	if (n == 0) {
		out[n++] = '0';
		out[n++] = '0';
	}
	out[n] = '\0';
	return 1;
}

int kg_cadb_time(const char *s, long long *out)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30,
	                            31, 31, 30, 31, 30, 31};
	int Y, M, D, h, m, sec, n = -1, leap;
	struct tm tm;

	/* digits exactly where they belong: sscanf alone takes "-1" and
	 * "+1" for two-digit fields, and timegm would make another instant
	 * of them */
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	size_t i;

	if (s == NULL || strlen(s) != 20)
		return 0;
	for (i = 0; i < 20; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i])
		                    : s[i] != shape[i])
			return 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &Y, &M, &D, &h, &m, &sec,
	           &n) != 6 ||
	    n != 20)
		return 0;
	leap = (Y % 4 == 0 && Y % 100 != 0) || Y % 400 == 0;
	if (Y < 1 || M < 1 || M > 12 || D < 1 ||
	    D > mdays[M - 1] + (M == 2 && leap) || h > 23 || m > 59 ||
	    sec > 60)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = Y - 1900;
	tm.tm_mon = M - 1;
	tm.tm_mday = D;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	*out = (long long)timegm(&tm);
	return 1;
}

/* A string member, or NULL when absent or not a string. */
static const char *str(json_t *j, const char *key)
{
	return json_string_value(json_object_get(j, key));
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Is record j one of CA id's? */
static int of_ca(json_t *j, const struct kg_ca_id *id)
{
	const char *spki = str(j, "issuer_spki_sha256");

	if (id == NULL)
		return 1;
	if (spki != NULL)
		return same(spki, id->issuer_spki) &&
		       same(str(j, "issuer"), id->issuer);
	/* a record from before the issuer fields: the CA key itself */
	return same(str(json_object_get(j, "token"), "serial"),
	            id->token_serial) &&
	       same(str(j, "key_id"), id->key_id);
}

static int grow(void **arr, size_t n, size_t size)
{
	void *p;

	if ((n & (n - 1)) != 0 && n != 0)
		return 1; /* room left: capacities are powers of two */
	p = realloc(*arr, (n ? 2 * n : 1) * size);
	if (p == NULL)
		return 0;
	*arr = p;
	return 1;
}

static enum kg_code bad_rec(struct kg_err *err, size_t line, const char *op,
                            const char *what)
{
	return kg_err_set(err, KG_REFUSED,
	                  "line %zu of the audit log: a %s record with %s; "
	                  "keygate did not write it so, check the log",
	                  line, op, what);
}

static enum kg_code add_issued(struct kg_cadb *db, json_t *j, size_t line,
                               struct kg_err *err)
{
	struct kg_cadb_issued *e;
	char serial[KG_SERIAL_LEN];
	long long when = 0;

	if (!kg_cadb_serial(str(j, "serial"), serial))
		return bad_rec(err, line, "cert-issue", "no valid serial");
	(void)kg_cadb_time(str(j, "time"), &when);
	if (!grow((void **)&db->issued, db->nissued, sizeof(*e)))
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	e = &db->issued[db->nissued++];
	memset(e, 0, sizeof(*e));
	e->serial = strdup(serial);
	e->subject = dup_or_null(str(j, "subject"));
	e->issuer = dup_or_null(str(j, "issuer"));
	e->issuer_spki = dup_or_null(str(j, "issuer_spki_sha256"));
	e->time = dup_or_null(str(j, "time"));
	e->out = dup_or_null(str(j, "out"));
	e->when = when;
	e->line = line;
	if (e->serial == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	return KG_OK;
}

static enum kg_code add_revoked(struct kg_cadb *db, json_t *j, size_t line,
                                struct kg_err *err)
{
	struct kg_cadb_revoked *e;
	char serial[KG_SERIAL_LEN];
	long long when;

	if (!kg_cadb_serial(str(j, "serial"), serial))
		return bad_rec(err, line, "cert-revoke", "no valid serial");
	if (str(j, "reason") == NULL)
		return bad_rec(err, line, "cert-revoke", "no reason");
	if (!kg_cadb_time(str(j, "revoked_at"), &when))
		return bad_rec(err, line, "cert-revoke",
		               "no valid revocation time");
	if (!grow((void **)&db->revoked, db->nrevoked, sizeof(*e)))
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	e = &db->revoked[db->nrevoked++];
	memset(e, 0, sizeof(*e));
	e->serial = strdup(serial);
	e->reason = strdup(str(j, "reason"));
	e->revoked_at = strdup(str(j, "revoked_at"));
	e->subject = dup_or_null(str(j, "subject"));
	e->issuer = dup_or_null(str(j, "issuer"));
	e->issuer_spki = dup_or_null(str(j, "issuer_spki_sha256"));
	e->when = when;
	e->line = line;
	if (e->serial == NULL || e->reason == NULL || e->revoked_at == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	return KG_OK;
}

static enum kg_code add_crl(struct kg_cadb *db, json_t *j, size_t line,
                            struct kg_err *err)
{
	const char *s = str(j, "crl_number");
	struct kg_cadb_crl *e;
	unsigned long long v;
	char *end;

	if (s == NULL || s[0] < '1' || s[0] > '9')
		return bad_rec(err, line, "crl", "no valid CRL number");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || errno != 0 || v >= (1ull << 62))
		return bad_rec(err, line, "crl", "no valid CRL number");
	if (!grow((void **)&db->crls, db->ncrls, sizeof(*e)))
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	e = &db->crls[db->ncrls++];
	memset(e, 0, sizeof(*e));
	e->number = v;
	e->issuer = dup_or_null(str(j, "issuer"));
	e->time = dup_or_null(str(j, "time"));
	e->result = dup_or_null(str(j, "result"));
	e->out = dup_or_null(str(j, "out"));
	e->line = line;
	if (v > db->crl_number)
		db->crl_number = v;
	return KG_OK;
}

/* One line: what it adds to db, if it is one of the CA's. */
static enum kg_code read_line(struct kg_cadb *db, const char *p, size_t n,
                              size_t line, const struct kg_ca_id *id,
                              struct kg_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(p, n, 0, &je);
	const char *op, *result;
	enum kg_code rc = KG_OK;

	if (!json_is_object(j)) {
		json_decref(j);
		return kg_err_set(err, KG_REFUSED,
		                  "line %zu of the audit log is not a record; "
		                  "check it with keygate audit verify",
		                  line);
	}
	op = str(j, "op");
	result = str(j, "result");
	if (op != NULL && of_ca(j, id)) {
		if (strcmp(op, "cert-issue") == 0 && same(result, "ok"))
			rc = add_issued(db, j, line, err);
		else if (strcmp(op, "cert-revoke") == 0 && same(result, "ok"))
			rc = add_revoked(db, j, line, err);
		else if (strcmp(op, "crl") == 0)
			rc = add_crl(db, j, line, err);
	}
	json_decref(j);
	return rc;
}

/* Same serial, and the same CA where both records say which. */
static int same_cert(const struct kg_cadb_issued *i,
                     const struct kg_cadb_revoked *r)
{
	return strcmp(i->serial, r->serial) == 0 &&
	       (i->issuer_spki == NULL || r->issuer_spki == NULL ||
	        strcmp(i->issuer_spki, r->issuer_spki) == 0);
}

enum kg_code kg_cadb_read(const char *buf, size_t len,
                          const struct kg_ca_id *id, struct kg_cadb **out,
                          struct kg_err *err)
{
	struct kg_cadb *db = calloc(1, sizeof(*db));
	const char *p, *nl, *end = buf + len;
	enum kg_code rc = KG_OK;
	size_t line = 0, i, k;

	*out = NULL;
	if (db == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	for (p = buf; rc == KG_OK && p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		rc = read_line(db, p, (size_t)(nl - p), ++line, id, err);
	}
	db->records = line;
	for (i = 0; rc == KG_OK && i < db->nissued; i++)
		for (k = 0; k < db->nrevoked; k++)
			if (same_cert(&db->issued[i], &db->revoked[k]))
				db->issued[i].revoked = 1;
	if (rc != KG_OK) {
		kg_cadb_free(db);
		return rc;
	}
	*out = db;
	return KG_OK;
}

void kg_cadb_free(struct kg_cadb *db)
{
	size_t i;

	if (db == NULL)
		return;
	for (i = 0; i < db->nissued; i++) {
		struct kg_cadb_issued *e = &db->issued[i];

		free(e->serial);
		free(e->subject);
		free(e->issuer);
		free(e->issuer_spki);
		free(e->time);
		free(e->out);
	}
	for (i = 0; i < db->nrevoked; i++) {
		struct kg_cadb_revoked *e = &db->revoked[i];

		free(e->serial);
		free(e->reason);
		free(e->revoked_at);
		free(e->subject);
		free(e->issuer);
		free(e->issuer_spki);
	}
	for (i = 0; i < db->ncrls; i++) {
		free(db->crls[i].issuer);
		free(db->crls[i].time);
		free(db->crls[i].result);
		free(db->crls[i].out);
	}
	free(db->issued);
	free(db->revoked);
	free(db->crls);
	free(db);
}

const struct kg_cadb_issued *kg_cadb_find_issued(const struct kg_cadb *db,
                                                 const char *serial)
{
	size_t i;

	for (i = 0; i < db->nissued; i++)
		if (strcmp(db->issued[i].serial, serial) == 0)
			return &db->issued[i];
	return NULL;
}

const struct kg_cadb_revoked *kg_cadb_find_revoked(const struct kg_cadb *db,
                                                   const char *serial)
{
	size_t i;

	for (i = 0; i < db->nrevoked; i++)
		if (strcmp(db->revoked[i].serial, serial) == 0)
			return &db->revoked[i];
	return NULL;
}
