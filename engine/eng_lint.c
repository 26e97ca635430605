/* truststore lint: API Gateway's mutual-TLS truststore rules. */
#include "engine/eng_trust.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "common/kg_time.h"
#include "engine/eng.h"

/* ---- lint ------------------------------------------------------------ */

/*
 * The lint works on sorted indexes, never pairwise, so that a 100 000
 * certificate truststore takes seconds and a hostile one (thousands of
 * certificates under one name, one certificate repeated) no longer:
 * certificates sorted by subject name (issuer lookup, subject conflicts),
 * by subject name and key identifier (issuer lookup by authority key
 * identifier) and by SHA-256 (duplicates); each issuer search capped and
 * each path length computed once.
 */
struct ts_ent {
	X509 *x;
	int idx;
	unsigned long subj, iss; /* X509_NAME hashes */
	unsigned char fp[32];
	const ASN1_OCTET_STRING *skid, *akid; /* key identifiers, or NULL */
	int first;    /* the first certificate with the same fingerprint */
	int self_ok;  /* self-signature verifies: 1, 0, or -1 not yet known */
	int issuer;   /* index of the verified issuer, -1 none, -2 unknown */
	int named;    /* an issuer matched by name but not by signature */
	int gaveup;   /* the caps ended the search: candidates there were */
	int examined; /* ... and how many of them it examined */
	int len;      /* certificates from it to its root, 0 = not yet */
};

struct ts_idx {
	struct ts_ent *v;
	struct ts_ent **s; /* by subject name, then index */
	struct ts_ent **k; /* by subject name, key identifier, index */
	size_t n;
};

static int name_cmp(const X509_NAME *a, const X509_NAME *b)
{
	eng_trust_counts.compare++;
	return X509_NAME_cmp(a, b);
}

/* NULL first, then by length and bytes */
static int kid_cmp(const ASN1_OCTET_STRING *a, const ASN1_OCTET_STRING *b)
{
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	return ASN1_OCTET_STRING_cmp(a, b);
}

/* (subject hash, subject) against (h, nm) */
static int subj_vs(const struct ts_ent *e, unsigned long h,
                   const X509_NAME *nm)
{
	if (e->subj != h)
		return e->subj < h ? -1 : 1;
	return name_cmp(X509_get_subject_name(e->x), nm);
}

static int by_subj(const void *a, const void *b)
{
	const struct ts_ent *x = *(struct ts_ent *const *)a,
	                    *y = *(struct ts_ent *const *)b;
	int c = subj_vs(x, y->subj, X509_get_subject_name(y->x));

	return c ? c : x->idx - y->idx;
}

static int by_subj_kid(const void *a, const void *b)
{
	const struct ts_ent *x = *(struct ts_ent *const *)a,
	                    *y = *(struct ts_ent *const *)b;
	int c = subj_vs(x, y->subj, X509_get_subject_name(y->x));

	if (c == 0)
		c = kid_cmp(x->skid, y->skid);
	return c ? c : x->idx - y->idx;
}

static int by_fp(const void *a, const void *b)
{
	const struct ts_ent *x = *(struct ts_ent *const *)a,
	                    *y = *(struct ts_ent *const *)b;
	int c;

	eng_trust_counts.compare++;
	c = memcmp(x->fp, y->fp, 32);
	return c ? c : x->idx - y->idx;
}

/*
 * First position in t (sorted by subject, then key identifier when
 * use_kid) that is not below (h, nm[, kid]).
 */
static size_t lower(struct ts_ent **t, size_t n, unsigned long h,
                    const X509_NAME *nm, int use_kid,
                    const ASN1_OCTET_STRING *kid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = subj_vs(t[mid], h, nm);

		if (c == 0 && use_kid)
			c = kid_cmp(t[mid]->skid, kid);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* t[i] has subject (h, nm) (and key identifier kid, when use_kid)? */
static int at(struct ts_ent **t, size_t n, size_t i, unsigned long h,
              const X509_NAME *nm, int use_kid, const ASN1_OCTET_STRING *kid)
{
	return i < n && subj_vs(t[i], h, nm) == 0 &&
	       (!use_kid || kid_cmp(t[i]->skid, kid) == 0);
}

/*
 * The certificate that issued e and whose key verifies its signature: the
 * certificates with e's issuer's name (with an authority key identifier,
 * only those whose subject key identifier matches it or is absent), in
 * file order, at most ENG_TS_MAX_CANDIDATES of them examined and
 * ENG_TS_MAX_VERIFY distinct keys tried.
 */
static int ts_issuer(struct ts_idx *ix, struct ts_ent *e)
{
	const X509_NAME *in = X509_get_issuer_name(e->x);
	EVP_PKEY *tried[ENG_TS_MAX_VERIFY];
	size_t a, a1, b, b1, n = ix->n;
	int ntried = 0, examined = 0, total, t;
	struct ts_ent **run;

	if (e->issuer != -2)
		return e->issuer;
	if (e->first != e->idx) {
		/* the same certificate: the same answer */
		struct ts_ent *f = &ix->v[e->first];

		ts_issuer(ix, f);
		e->issuer = f->issuer;
		e->named = f->named;
		e->gaveup = f->gaveup;
		e->examined = f->examined;
		return e->issuer;
	}
	e->issuer = -1;
	if (e->akid != NULL) {
		/* two runs of k, each in file order: no identifier, and e's */
		run = ix->k;
		a = lower(run, n, e->iss, in, 1, NULL);
		for (a1 = a; at(run, n, a1, e->iss, in, 1, NULL); a1++)
			;
		b = lower(run, n, e->iss, in, 1, e->akid);
		for (b1 = b; at(run, n, b1, e->iss, in, 1, e->akid); b1++)
			;
	} else {
		run = ix->s;
		a = lower(run, n, e->iss, in, 0, NULL);
		for (a1 = a; at(run, n, a1, e->iss, in, 0, NULL); a1++)
			;
		b = b1 = a1;
	}
	total = (int)(a1 - a) + (int)(b1 - b);
	while (a < a1 || b < b1) {
		struct ts_ent *c;
		EVP_PKEY *key;

		if (b >= b1 || (a < a1 && run[a]->idx < run[b]->idx))
			c = run[a++];
		else
			c = run[b++];
		if (c == e) {
			total--;
			continue;
		}
		if (examined == ENG_TS_MAX_CANDIDATES ||
		    ntried == ENG_TS_MAX_VERIFY) {
			e->gaveup = total;
			e->examined = examined;
			break;
		}
		examined++;
		eng_trust_counts.candidates++;
		if (X509_check_issued(c->x, e->x) != X509_V_OK)
			continue;
		e->named = 1;
		key = X509_get0_pubkey(c->x);
		if (key == NULL)
			continue;
		/* a key tried already gives the same answer */
		for (t = 0; t < ntried && EVP_PKEY_eq(tried[t], key) != 1; t++)
			;
		if (t < ntried)
			continue;
		tried[ntried++] = key;
		eng_trust_counts.verify++;
		if (X509_verify(e->x, key) == 1) {
			e->issuer = c->idx;
			break;
		}
	}
	ERR_clear_error();
	return e->issuer;
}

/* Certificates from e up to its root (or as far as the file goes). */
static int ts_len(struct ts_idx *ix, struct ts_ent *e)
{
	struct ts_ent *v = ix->v, *cur = e;
	int steps = 0, up, total;

	/* walk up to a known length, a root, or a break (bounded: cycles) */
	while (cur->len == 0 && steps <= (int)ix->n) {
		if (X509_check_issued(cur->x, cur->x) == X509_V_OK ||
		    (up = ts_issuer(ix, cur)) < 0) {
			cur->len = 1;
			break;
		}
		cur = &v[up];
		steps++;
	}
	total = cur->len ? cur->len + steps : steps;
	/* fill in the lengths on the way */
	for (cur = e; cur->len == 0 && steps > 0; steps--) {
		cur->len = total--;
		cur = &v[cur->issuer];
	}
	return e->len ? e->len : total;
}

/* the subject of x, printed on first use in this iteration */
#define SUBJ()                                                                \
	(subj[0] ? subj : (eng_subject_str(x, subj, sizeof(subj)), subj))

/* Same subject, another issuer: a finding on each later certificate. */
static void ts_conflicts(struct ts_idx *ix, const char *name,
                         struct eng_findings *f)
{
	struct ts_ent **s = ix->s;
	size_t a, b, j, n = ix->n;
	char subj[512];

	for (a = 0; a < n; a = b) {
		struct ts_ent *f0 = s[a], *f1 = NULL;
		const X509_NAME *iss0 = X509_get_issuer_name(f0->x);

		/* s[a..b): one subject, in file order */
		for (b = a + 1;
		     b < n && subj_vs(s[b], f0->subj,
		                      X509_get_subject_name(f0->x)) == 0;
		     b++)
			;
		/* the first with another issuer than the first's */
		for (j = a + 1; j < b && f1 == NULL; j++)
			if (name_cmp(X509_get_issuer_name(s[j]->x), iss0) != 0)
				f1 = s[j];
		if (f1 == NULL)
			continue;
		/* each certificate names the first before it with another
		 * issuer: the group's first, or else f1 */
		for (j = a + 1; j < b; j++) {
			struct ts_ent *e = s[j], *w;

			if (e == f1 ||
			    name_cmp(X509_get_issuer_name(e->x), iss0) != 0)
				w = f0;
			else if (f1->idx < e->idx)
				w = f1;
			else
				continue;
			eng_subject_str(e->x, subj, sizeof(subj));
			eng_finding_add(
			        f, "ts-subject-conflict", name, e->idx, subj,
			        "clients may be matched to the wrong CA",
			        "index %d has the same subject and another "
			        "issuer",
			        w->idx);
		}
	}
}

void eng_ts_lint(STACK_OF(X509) * certs, const char *name, time_t at,
                 struct eng_findings *f)
{
	int n = sk_X509_num(certs), i;
	struct ts_ent *v = NULL, **s = NULL, **d = NULL, **k = NULL;
	struct ts_idx ix;
	EVP_MD *sha256 = NULL;
	char subj[512], when[KG_TIME_LEN];
	size_t j, first;

	kg_time_str(at, when);
	if (n == 0) {
		eng_finding_add(f, "ts-empty", name, -1, NULL,
		                "a truststore holds the CA certificates, "
		                "issuing CA to "
		                "root",
		                "%s holds no certificate", name);
		return;
	}
	v = OPENSSL_zalloc((size_t)n * sizeof(*v));
	s = OPENSSL_malloc((size_t)n * sizeof(*s));
	d = OPENSSL_malloc((size_t)n * sizeof(*d));
	k = OPENSSL_malloc((size_t)n * sizeof(*k));
	/* fetched once: EVP_sha256() would fetch again for every certificate
	 */
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (v == NULL || s == NULL || d == NULL || k == NULL || sha256 == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		unsigned int fl;

		v[i].x = sk_X509_value(certs, i);
		v[i].idx = i;
		v[i].subj = X509_NAME_hash_ex(X509_get_subject_name(v[i].x),
		                              NULL, NULL, NULL);
		v[i].iss = X509_NAME_hash_ex(X509_get_issuer_name(v[i].x),
		                             NULL, NULL, NULL);
		X509_digest(v[i].x, sha256, v[i].fp, &fl);
		v[i].skid = X509_get0_subject_key_id(v[i].x);
		v[i].akid = X509_get0_authority_key_id(v[i].x);
		v[i].issuer = -2;
		v[i].self_ok = -1;
		s[i] = d[i] = k[i] = &v[i];
	}
	ERR_clear_error();
	qsort(s, (size_t)n, sizeof(*s), by_subj);
	qsort(k, (size_t)n, sizeof(*k), by_subj_kid);
	qsort(d, (size_t)n, sizeof(*d), by_fp);
	ix.v = v;
	ix.s = s;
	ix.k = k;
	ix.n = (size_t)n;
	/* duplicates: the later copies, naming the first */
	for (j = 0, first = 0; j < (size_t)n; j++) {
		if (j == 0 || memcmp(d[first]->fp, d[j]->fp, 32) != 0) {
			first = j;
			d[j]->first = d[j]->idx;
			continue;
		}
		d[j]->first = d[first]->idx;
		eng_subject_str(d[j]->x, subj, sizeof(subj));
		eng_finding_add(f, "ts-duplicate", name, d[j]->idx, subj,
		                "keygate truststore merge removes duplicates",
		                "the same certificate as index %d",
		                d[first]->idx);
	}
	ts_conflicts(&ix, name, f);
	for (i = 0; i < n; i++) {
		X509 *x = v[i].x;
		const char *weak;
		int len;

		subj[0] = '\0'; /* printed only when a finding needs it */
		if (X509_cmp_time(X509_get0_notAfter(x), &at) < 0)
			eng_finding_add(
			        f, "ts-expired", name, i, SUBJ(),
			        "replace it with the CA's current certificate",
			        "expired before %s", when);
		if (X509_cmp_time(X509_get0_notBefore(x), &at) > 0)
			eng_finding_add(f, "ts-not-yet-valid", name, i, SUBJ(),
			                NULL, "not valid yet at %s", when);
		if ((weak = eng_weak_signature(x)) != NULL)
			eng_finding_add(
			        f, "ts-weak-signature", name, i, SUBJ(),
			        "API Gateway takes SHA-256 or stronger",
			        "signed with %s", weak);
		if ((weak = eng_weak_key(x)) != NULL)
			eng_finding_add(
			        f, "ts-weak-key", name, i, SUBJ(),
			        "API Gateway takes RSA 2048+ and EC 256+",
			        "it has %s", weak);
		if (X509_check_ca(x) == 0)
			eng_finding_add(
			        f, "ts-not-ca", name, i, SUBJ(),
			        "a truststore holds CA certificates (a "
			        "self-signed client certificate is the "
			        "exception)",
			        "not a CA certificate");
		/* chaining inside the file, and the length up to the root */
		if (X509_check_issued(x, x) == X509_V_OK) {
			struct ts_ent *e = &v[v[i].first];

			if (e->self_ok < 0) {
				eng_trust_counts.verify++;
				e->self_ok =
				        X509_verify(x, X509_get0_pubkey(x)) ==
				        1;
			}
			if (!e->self_ok)
				eng_finding_add(
				        f, "ts-signature", name, i, SUBJ(),
				        NULL,
				        "its self-signature does not verify");
			ERR_clear_error();
			continue;
		}
		if (ts_issuer(&ix, &v[i]) < 0) {
			char *iname = eng_name_str(X509_get_issuer_name(x));

			if (v[i].gaveup)
				eng_finding_add(
				        f, "ts-signature", name, i, SUBJ(),
				        "give the CA certificates key "
				        "identifiers, or fewer certificates "
				        "with one name",
				        "%d certificates are named as its "
				        "issuer '%s'; none of the %d examined "
				        "verifies its signature (keygate "
				        "examines no more)",
				        v[i].gaveup, iname ? iname : "",
				        v[i].examined);
			else if (v[i].named)
				eng_finding_add(f, "ts-signature", name, i,
				                SUBJ(), NULL,
				                "its signature does not "
				                "verify with the "
				                "key of its issuer '%s'",
				                iname ? iname : "");
			else
				eng_finding_add(
				        f, "ts-chain-incomplete", name, i,
				        SUBJ(),
				        "add the issuer's certificate, up to "
				        "the "
				        "root",
				        "its issuer '%s' is not in the "
				        "truststore",
				        iname ? iname : "");
			OPENSSL_free(iname);
			continue;
		}
		len = ts_len(&ix, &v[i]);
		if (len > ENG_MAX_PATH)
			eng_finding_add(
			        f, "ts-chain-too-long", name, i, SUBJ(),
			        "API Gateway takes at most 4 certificates "
			        "from a "
			        "client certificate's issuer to the root",
			        "%d certificates from it to its root", len);
	}
out:
	EVP_MD_free(sha256);
	OPENSSL_free(v);
	OPENSSL_free(s);
	OPENSSL_free(d);
	OPENSSL_free(k);
}
