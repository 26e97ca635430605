/* Truststores, path validation and the mTLS decision. */
#include "engine/eng_trust.h"
#include "common/kg_time.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "engine/eng.h"
#include "engine/eng_pem.h"

#define MAX_PATH 4 /* API Gateway: at most four certificates on a path */

struct eng_trust_counts eng_trust_counts;

/*
 * Certificate blocks with the same bytes are decoded once and share one
 * X509 (a store of one certificate repeated costs one decoding): blocks
 * are sorted by a hash of their DER, and each block's DER is freed as
 * soon as it has been decoded.
 */
struct blk_ref {
	uint64_t h;
	struct eng_pem_block *b;
	size_t i;
	int aux; /* TRUSTED CERTIFICATE: d2i_X509_AUX */
};

static int blk_cmp(const void *pa, const void *pb)
{
	const struct blk_ref *a = pa, *b = pb;
	int c;

	eng_trust_counts.compare++;
	if (a->h != b->h)
		return a->h < b->h ? -1 : 1;
	if (a->b->der_len != b->b->der_len)
		return a->b->der_len < b->b->der_len ? -1 : 1;
	if (a->aux != b->aux)
		return a->aux - b->aux;
	c = memcmp(a->b->der, b->b->der, a->b->der_len);
	if (c != 0)
		return c;
	return a->i < b->i ? -1 : a->i > b->i;
}

static uint64_t fnv1a(const unsigned char *p, size_t n)
{
	uint64_t h = 14695981039346656037ULL;

	while (n--)
		h = (h ^ *p++) * 1099511628211ULL;
	return h;
}

static int same_der(const struct blk_ref *a, const struct blk_ref *b)
{
	return a->h == b->h && a->aux == b->aux &&
	       a->b->der_len == b->b->der_len &&
	       memcmp(a->b->der, b->b->der, a->b->der_len) == 0;
}

/* xs[i]: the certificate of block i, or NULL; each distinct DER decoded
 * once. 0 when out of memory. */
static int decode_blocks(struct eng_pem_scan *s, X509 **xs)
{
	struct blk_ref *r = OPENSSL_malloc((s->n ? s->n : 1) * sizeof(*r));
	size_t i, m = 0, a, b;

	if (r == NULL)
		return 0;
	for (i = 0; i < s->n; i++) {
		struct eng_pem_block *bl = &s->blocks[i];
		int plain = strcmp(bl->label, "CERTIFICATE") == 0;

		xs[i] = NULL;
		if (bl->bad || bl->der == NULL ||
		    (!plain && strcmp(bl->label, "TRUSTED CERTIFICATE") != 0))
			continue;
		r[m].h = fnv1a(bl->der, bl->der_len);
		r[m].b = bl;
		r[m].i = i;
		r[m].aux = !plain;
		m++;
	}
	qsort(r, m, sizeof(*r), blk_cmp);
	for (a = 0; a < m; a = b) {
		struct eng_pem_block *bl = r[a].b;
		const unsigned char *p = bl->der;
		X509 *x = r[a].aux ? d2i_X509_AUX(NULL, &p, (long)bl->der_len)
		                   : d2i_X509(NULL, &p, (long)bl->der_len);

		if (x != NULL && p != bl->der + bl->der_len) {
			/* bytes after the certificate inside its block */
			X509_free(x);
			x = NULL;
		}
		for (b = a + 1; b < m && same_der(&r[a], &r[b]); b++)
			;
		for (i = a; i < b; i++) {
			if (x != NULL && i > a)
				X509_up_ref(x);
			xs[r[i].i] = x;
		}
		for (i = a; i < b; i++) {
			OPENSSL_free(r[i].b->der);
			r[i].b->der = NULL;
		}
	}
	OPENSSL_free(r);
	return 1;
}

enum kg_code eng_certs_parse(const unsigned char *buf, size_t len,
                             const char *name, STACK_OF(X509) * *out,
                             struct eng_findings *f, struct kg_err *err)
{
	struct eng_pem_scan s;
	STACK_OF(X509) *sk = sk_X509_new_null();
	X509 **xs = NULL;
	size_t i;

	*out = NULL;
	if (sk == NULL || !eng_pem_scan(buf, len, &s)) {
		sk_X509_free(sk);
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	}
	xs = OPENSSL_malloc((s.n ? s.n : 1) * sizeof(*xs));
	if (xs == NULL || !sk_X509_reserve(sk, (int)s.n) ||
	    !decode_blocks(&s, xs)) {
		OPENSSL_free(xs);
		eng_pem_scan_free(&s);
		sk_X509_free(sk);
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	}
	if (s.binary || s.n == 0) {
		/* one DER certificate, as openssl reads it */
		const unsigned char *p = buf;
		X509 *x = len ? d2i_X509(NULL, &p, (long)len) : NULL;

		if (x != NULL && p == buf + len) {
			sk_X509_push(sk, x);
		} else {
			X509_free(x);
			if (f == NULL) {
				OPENSSL_free(xs);
				eng_pem_scan_free(&s);
				sk_X509_free(sk);
				ERR_clear_error();
				return kg_err_set(err, KG_REFUSED,
				                  "'%s' holds no certificate "
				                  "(neither PEM nor DER)",
				                  name);
			}
			eng_finding_add(f, "pem-invalid", name, -1, NULL, NULL,
			                "%s is %s", name,
			                len == 0 ? "empty"
			                         : "neither PEM nor DER");
		}
	}
	for (i = 0; i < s.n; i++) {
		const struct eng_pem_block *b = &s.blocks[i];
		X509 *x = xs[i];

		xs[i] = NULL;
		if (x == NULL) {
			if (f == NULL) {
				/* b points into s: read it before s is freed
				 */
				int line = b->begin_line;
				size_t j;

				for (j = i + 1; j < s.n; j++)
					X509_free(xs[j]);
				OPENSSL_free(xs);
				eng_pem_scan_free(&s);
				sk_X509_pop_free(sk, X509_free);
				ERR_clear_error();
				return kg_err_set(
				        err, KG_REFUSED,
				        "'%s' block %zu (line %d) is "
				        "not a valid certificate",
				        name, i, line);
			}
			eng_finding_add(
			        f, "pem-invalid", name, (int)i, NULL, NULL,
			        "%s block %zu (line %d) is not a valid "
			        "certificate",
			        name, i, b->begin_line);
			continue;
		}
		sk_X509_push(sk, x); /* reserved: cannot fail */
	}
	ERR_clear_error();
	OPENSSL_free(xs);
	eng_pem_scan_free(&s);
	*out = sk;
	return KG_OK;
}

/* ---- algorithm policy ------------------------------------------------ */

const char *eng_weak_signature(const X509 *x)
{
	int md = NID_undef, pk = NID_undef, bits = 0;
	uint32_t flags = 0;

	if (!X509_get_signature_info((X509 *)x, &md, &pk, &bits, &flags)) {
		ERR_clear_error();
		return "an unknown signature algorithm";
	}
	if (md == NID_md5 || md == NID_md4 || md == NID_md2 ||
	    md == NID_sha1 || md == NID_sha224 ||
	    (md != NID_undef && bits > 0 && bits < 128))
		return OBJ_nid2ln(X509_get_signature_nid(x));
	return NULL;
}

const char *eng_weak_key(const X509 *x)
{
	EVP_PKEY *k = X509_get0_pubkey(x);
	int bits;

	if (k == NULL)
		return "an unreadable key";
	bits = EVP_PKEY_get_bits(k);
	if (EVP_PKEY_is_a(k, "RSA") || EVP_PKEY_is_a(k, "RSA-PSS"))
		return bits < 2048 ? "an RSA key below 2048 bits" : NULL;
	if (EVP_PKEY_is_a(k, "EC"))
		return bits < 256 ? "an EC key below 256 bits" : NULL;
	return "a key type other than RSA or EC";
}

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
		if (len > MAX_PATH)
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

/* ---- keygate's policy on top of OpenSSL's path ----------------------- */

/* RFC 5280 says "inclusive" for notAfter; OpenSSL treats it as exclusive. */
static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
	X509 *x;
	int days = 0, secs = 0;
	time_t at;
	ASN1_TIME *t;

	if (ok || X509_STORE_CTX_get_error(ctx) != X509_V_ERR_CERT_HAS_EXPIRED)
		return ok;
	x = X509_STORE_CTX_get_current_cert(ctx);
	at = X509_VERIFY_PARAM_get_time(X509_STORE_CTX_get0_param(ctx));
	t = ASN1_TIME_set(NULL, at);
	if (x != NULL && t != NULL &&
	    ASN1_TIME_diff(&days, &secs, t, X509_get0_notAfter(x)) &&
	    days == 0 && secs == 0) {
		ASN1_TIME_free(t);
		X509_STORE_CTX_set_error(ctx, X509_V_OK);
		return 1;
	}
	ASN1_TIME_free(t);
	return ok;
}

/* A dNSName as the web PKI allows it: LDH labels, "*" only as a whole
 * leftmost label. */
static int dns_ok(const ASN1_IA5STRING *s)
{
	char buf[256];
	int len = ASN1_STRING_length(s);

	if (len <= 0 || len >= (int)sizeof(buf))
		return 0;
	memcpy(buf, ASN1_STRING_get0_data(s), (size_t)len);
	buf[len] = '\0';
	return memchr(buf, '\0', (size_t)len) == NULL &&
	       eng_is_dns_name(buf, 1);
}

static int email_ok(const ASN1_IA5STRING *s)
{
	const char *p = (const char *)ASN1_STRING_get0_data(s);
	int len = ASN1_STRING_length(s), at = -1, i;

	for (i = 0; i < len; i++) {
		if (p[i] == '@') {
			if (at >= 0)
				return 0;
			at = i;
		} else if (p[i] <= ' ' || p[i] == '<' || p[i] == '>') {
			return 0;
		}
	}
	return at > 0 && at < len - 1;
}

#define FAIL(...)                                                             \
	do {                                                                  \
		snprintf(why, cap, __VA_ARGS__);                              \
		ret = 0;                                                      \
		goto out;                                                     \
	} while (0)

/* RFC 5280 structure, for every purpose. 1 passes; 0 fails with why. */
static int rfc5280_rules(STACK_OF(X509) * path, char *why, size_t cap)
{
	int n = sk_X509_num(path), i, j, ret = 1;
	NAME_CONSTRAINTS *nc = NULL;

	for (i = 0; i < n; i++) {
		X509 *x = sk_X509_value(path, i);
		const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
		BIGNUM *bn = ASN1_INTEGER_to_BN(sn, NULL);
		int idx;

		if (i < n - 1 &&
		    (bn == NULL || BN_is_zero(bn) || BN_is_negative(bn) ||
		     BN_num_bytes(bn) > 20)) {
			BN_free(bn);
			FAIL("serial number of the certificate at depth %d is "
			     "not a positive integer of at most 20 octets",
			     i);
		}
		BN_free(bn);
		for (j = 0; j < X509_get_ext_count(x); j++) {
			X509_EXTENSION *e = X509_get_ext(x, j);
			void *d;

			if (X509V3_EXT_get(e) == NULL)
				continue;
			d = X509V3_EXT_d2i(e);
			if (d == NULL)
				FAIL("the certificate at depth %d has a "
				     "malformed %s extension",
				     i,
				     OBJ_nid2sn(OBJ_obj2nid(
				             X509_EXTENSION_get_object(e))));
			{
				const X509V3_EXT_METHOD *m = X509V3_EXT_get(e);

				if (m->it != NULL)
					ASN1_item_free(d,
					               ASN1_ITEM_ptr(m->it));
				else if (m->ext_free != NULL)
					m->ext_free(d);
			}
		}
		idx = X509_get_ext_by_NID(x, NID_name_constraints, -1);
		if (idx >= 0) {
			if (i == 0 && X509_check_ca(x) == 0)
				FAIL("name constraints in an end-entity "
				     "certificate");
			if (!X509_EXTENSION_get_critical(X509_get_ext(x, idx)))
				FAIL("name constraints at depth %d are not "
				     "critical",
				     i);
			nc = X509_get_ext_d2i(x, NID_name_constraints, NULL,
			                      NULL);
			if (nc != NULL &&
			    sk_GENERAL_SUBTREE_num(nc->permittedSubtrees) <=
			            0 &&
			    sk_GENERAL_SUBTREE_num(nc->excludedSubtrees) <= 0)
				FAIL("name constraints at depth %d are empty",
				     i);
			NAME_CONSTRAINTS_free(nc);
			nc = NULL;
		}
		idx = X509_get_ext_by_NID(x, NID_policy_constraints, -1);
		if (idx >= 0 &&
		    !X509_EXTENSION_get_critical(X509_get_ext(x, idx)))
			FAIL("policy constraints at depth %d are not critical",
			     i);
	}
out:
	NAME_CONSTRAINTS_free(nc);
	ERR_clear_error();
	return ret;
}

/* Does a CN look like an IP address (dotted digits, 0x hex, or IPv6)? */
static int ip_like(const unsigned char *p, int len)
{
	int i, colon = 0, digits_dots = 1;

	if (len >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		return 1;
	for (i = 0; i < len; i++) {
		if (p[i] == ':')
			colon = 1;
		else if (!((p[i] >= '0' && p[i] <= '9') || p[i] == '.'))
			digits_dots = 0;
	}
	return colon || (digits_dots && len > 0);
}

/*
 * CABF BR 7.1.4.3: a CN, if present, repeats a subjectAltName value. It
 * is compared with the entries of its own kind only: an IP-looking CN with
 * the canonical text of the IP entries (RFC 5952 for IPv6, as inet_ntop
 * writes it), a DNS-looking CN byte for byte with the DNS entries -- when
 * there are DNS entries and none is a wildcard, which could not be judged.
 */
static int cn_in_san(X509 *leaf, GENERAL_NAMES *san)
{
	X509_NAME *nm = X509_get_subject_name(leaf);
	int loc = -1, j;

	while ((loc = X509_NAME_get_index_by_NID(nm, NID_commonName, loc)) >=
	       0) {
		const ASN1_STRING *cn =
		        X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, loc));
		const unsigned char *cp = ASN1_STRING_get0_data(cn);
		int cl = ASN1_STRING_length(cn), is_ip = ip_like(cp, cl);
		int found = 0, judged = 0, wildcard = 0;

		for (j = 0; san != NULL && j < sk_GENERAL_NAME_num(san); j++) {
			GENERAL_NAME *g = sk_GENERAL_NAME_value(san, j);
			char ip[INET6_ADDRSTRLEN];
			int il;

			if (g->type == GEN_DNS && !is_ip) {
				const ASN1_STRING *d = g->d.dNSName;

				judged = 1;
				wildcard |= ASN1_STRING_length(d) > 0 &&
				            ASN1_STRING_get0_data(d)[0] == '*';
				found |= ASN1_STRING_length(d) == cl &&
				         memcmp(ASN1_STRING_get0_data(d), cp,
				                (size_t)cl) == 0;
			} else if (g->type == GEN_IPADD && is_ip) {
				il = ASN1_STRING_length(g->d.iPAddress);
				judged = 1;
				if ((il == 4 || il == 16) &&
				    inet_ntop(il == 4 ? AF_INET : AF_INET6,
				              ASN1_STRING_get0_data(
				                      g->d.iPAddress),
				              ip, sizeof(ip)) != NULL)
					found |= strlen(ip) == (size_t)cl &&
					         memcmp(ip, cp, (size_t)cl) ==
					                 0;
			}
		}
		if (judged && !found && !wildcard)
			return 0;
	}
	return 1;
}

/* The web PKI's rules for a TLS server certificate's path. */
static int webpki_rules(STACK_OF(X509) * path, char *why, size_t cap)
{
	int n = sk_X509_num(path), i, j, ret = 1, idx;
	X509 *leaf = sk_X509_value(path, 0);
	GENERAL_NAMES *san = NULL;
	EXTENDED_KEY_USAGE *eku = NULL;
	AUTHORITY_KEYID *aki = NULL;

	for (i = 0; i < n; i++) {
		X509 *x = sk_X509_value(path, i);
		EVP_PKEY *k = X509_get0_pubkey(x);
		int bits = k ? EVP_PKEY_get_bits(k) : 0;

		if (k == NULL)
			FAIL("unreadable key at depth %d", i);
		if (EVP_PKEY_is_a(k, "RSA")) {
			if (bits < 2048 || bits % 8 != 0)
				FAIL("RSA-%d key at depth %d (the web PKI "
				     "takes 2048+ in whole bytes)",
				     bits, i);
		} else if (EVP_PKEY_is_a(k, "EC")) {
			char g[64];
			size_t gl;

			if (!EVP_PKEY_get_utf8_string_param(
			            k, OSSL_PKEY_PARAM_GROUP_NAME, g,
			            sizeof(g), &gl) ||
			    (strcmp(g, "prime256v1") != 0 &&
			     strcmp(g, "secp384r1") != 0 &&
			     strcmp(g, "secp521r1") != 0))
				FAIL("EC key at depth %d is not on P-256, "
				     "P-384 "
				     "or P-521",
				     i);
		} else {
			FAIL("a %s key at depth %d (the web PKI takes RSA "
			     "and EC)",
			     EVP_PKEY_get0_type_name(k), i);
		}
		aki = X509_get_ext_d2i(x, NID_authority_key_identifier, NULL,
		                       NULL);
		if (aki != NULL && aki->keyid == NULL)
			FAIL("authority key identifier at depth %d has no "
			     "keyIdentifier",
			     i);
		AUTHORITY_KEYID_free(aki);
		aki = NULL;
		if (i == n - 1 && i > 0 &&
		    X509_get_ext_by_NID(x, NID_ext_key_usage, -1) >= 0)
			FAIL("the root has an extended key usage");
	}
	if (X509_get_version(leaf) != X509_VERSION_3)
		FAIL("the end-entity certificate is not X.509 v3");
	if (X509_get_extension_flags(leaf) & EXFLAG_CA)
		FAIL("the end-entity certificate is a CA (basicConstraints "
		     "cA)");
	idx = X509_get_ext_by_NID(leaf, NID_ext_key_usage, -1);
	if (idx < 0)
		FAIL("the end-entity certificate has no extended key usage");
	if (X509_EXTENSION_get_critical(X509_get_ext(leaf, idx)))
		FAIL("the end-entity certificate's extended key usage is "
		     "critical");
	eku = X509_get_ext_d2i(leaf, NID_ext_key_usage, NULL, NULL);
	for (j = 0; eku != NULL && j < sk_ASN1_OBJECT_num(eku); j++)
		if (OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, j)) ==
		    NID_anyExtendedKeyUsage)
			FAIL("the end-entity certificate allows any extended "
			     "key usage");
	idx = X509_get_ext_by_NID(leaf, NID_subject_alt_name, -1);
	if (idx < 0)
		FAIL("the end-entity certificate has no subjectAltName");
	if (X509_EXTENSION_get_critical(X509_get_ext(leaf, idx)) &&
	    X509_NAME_entry_count(X509_get_subject_name(leaf)) > 0)
		FAIL("subjectAltName is critical while the subject is not "
		     "empty");
	san = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	for (j = 0; san != NULL && j < sk_GENERAL_NAME_num(san); j++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(san, j);

		if (g->type == GEN_DNS && !dns_ok(g->d.dNSName))
			FAIL("subjectAltName holds an invalid DNS name");
		if (g->type == GEN_EMAIL && !email_ok(g->d.rfc822Name))
			FAIL("subjectAltName holds an invalid e-mail address");
	}
	if (!cn_in_san(leaf, san))
		FAIL("the end-entity certificate's CN is not one of its "
		     "subjectAltName entries");
out:
	GENERAL_NAMES_free(san);
	EXTENDED_KEY_USAGE_free(eku);
	AUTHORITY_KEYID_free(aki);
	ERR_clear_error();
	return ret;
}

/* RFC 5280 5.2.3: a conforming CRL carries its number. */
static int crl_rules(STACK_OF(X509_CRL) * crls, char *why, size_t cap)
{
	int i;

	for (i = 0; crls != NULL && i < sk_X509_CRL_num(crls); i++) {
		if (X509_CRL_get_ext_by_NID(sk_X509_CRL_value(crls, i),
		                            NID_crl_number, -1) < 0) {
			snprintf(why, cap, "CRL %d has no CRL number", i);
			return 0;
		}
	}
	return 1;
}

/* ---- path validation ------------------------------------------------- */

void eng_verify_res_free(struct eng_verify_res *res)
{
	sk_X509_pop_free(res->path, X509_free);
	memset(res, 0, sizeof(*res));
}

struct cert_ref {
	X509 *x;
	int i;
};

static int by_cert(const void *a, const void *b)
{
	const struct cert_ref *x = a, *y = b;
	int c;

	eng_trust_counts.compare++;
	c = x->x == y->x ? 0 : X509_cmp(x->x, y->x);
	return c ? c : x->i - y->i;
}

static int by_index(const void *a, const void *b)
{
	return ((const struct cert_ref *)a)->i -
	       ((const struct cert_ref *)b)->i;
}

STACK_OF(X509) * eng_certs_unique(STACK_OF(X509) * sk, int *dropped)
{
	int n = sk_X509_num(sk), i, m = 0;
	struct cert_ref *r =
	        OPENSSL_malloc((n > 0 ? (size_t)n : 1) * sizeof(*r));
	STACK_OF(X509) *out = sk_X509_new_reserve(NULL, n > 0 ? n : 1);

	*dropped = 0;
	if (r == NULL || out == NULL) {
		OPENSSL_free(r);
		sk_X509_free(out);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		r[i].x = sk_X509_value(sk, i);
		r[i].i = i;
	}
	qsort(r, (size_t)n, sizeof(*r), by_cert);
	for (i = 0; i < n; i++)
		if (m == 0 || (r[i].x != r[m - 1].x &&
		               X509_cmp(r[i].x, r[m - 1].x) != 0))
			r[m++] = r[i];
	qsort(r, (size_t)m, sizeof(*r), by_index);
	for (i = 0; i < m; i++) {
		sk_X509_push(out, r[i].x); /* reserved: cannot fail */
		X509_up_ref(r[i].x);
	}
	*dropped = n - m;
	OPENSSL_free(r);
	return out;
}

enum kg_code eng_verify(const struct eng_verify_req *r,
                        struct eng_verify_res *res, struct kg_err *err)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *vp;
	unsigned long flags = r->strict ? X509_V_FLAG_X509_STRICT : 0;
	int rv, dropped;
	/* each anchor once: sorted, not compared pairwise */
	STACK_OF(X509) *trusted = eng_certs_unique(r->trusted, &dropped);

	memset(res, 0, sizeof(*res));
	if (store == NULL || ctx == NULL || trusted == NULL)
		goto oom;
	if (!X509_STORE_CTX_init(ctx, store, r->leaf, r->untrusted))
		goto oom;
	/*
	 * The anchors as a stack, not added to the store one by one: the
	 * store re-sorts itself on every add and compares each new one with
	 * all of the same name (quadratic in a store of one subject). The
	 * stack is searched once per step of the path.
	 */
	X509_STORE_CTX_set0_trusted_stack(ctx, trusted);
	vp = X509_STORE_CTX_get0_param(ctx);
	if (r->purpose != ENG_PURPOSE_ANY)
		X509_STORE_CTX_set_purpose(ctx,
		                           r->purpose == ENG_PURPOSE_SERVER
		                                   ? X509_PURPOSE_SSL_SERVER
		                                   : X509_PURPOSE_SSL_CLIENT);
	if (r->host != NULL) {
		if (eng_is_ip(r->host))
			X509_VERIFY_PARAM_set1_ip_asc(vp, r->host);
		else
			X509_VERIFY_PARAM_set1_host(vp, r->host, 0);
	}
	if (r->max_depth >= 0)
		X509_VERIFY_PARAM_set_depth(vp, r->max_depth);
	if (r->crls != NULL) {
		X509_STORE_CTX_set0_crls(ctx, r->crls);
		flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
	}
	if (r->check_time)
		X509_VERIFY_PARAM_set_time(vp, r->at);
	else
		flags |= X509_V_FLAG_NO_CHECK_TIME;
	X509_VERIFY_PARAM_set_flags(vp, flags);
	/* names match subjectAltName only: the CN is no hostname */
	X509_VERIFY_PARAM_set_hostflags(vp,
	                                X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
	X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
	rv = X509_verify_cert(ctx);
	res->path = X509_STORE_CTX_get1_chain(ctx);
	if (rv == 1 &&
	    ((r->strict &&
	      !rfc5280_rules(res->path, res->reason, sizeof(res->reason))) ||
	     (r->purpose == ENG_PURPOSE_SERVER &&
	      !webpki_rules(res->path, res->reason, sizeof(res->reason))) ||
	     !crl_rules(r->crls, res->reason, sizeof(res->reason)))) {
		res->error = -1; /* keygate's policy */
	} else if (rv == 1) {
		res->ok = 1;
	} else {
		res->error = X509_STORE_CTX_get_error(ctx);
		res->error_depth = X509_STORE_CTX_get_error_depth(ctx);
		snprintf(res->reason, sizeof(res->reason), "%s (at depth %d)",
		         X509_verify_cert_error_string(res->error),
		         res->error_depth);
	}
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_pop_free(trusted, X509_free);
	return KG_OK;
oom:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_pop_free(trusted, X509_free);
	return kg_err_set(err, KG_E_RUNTIME, "out of memory");
}

/* ---- mTLS ------------------------------------------------------------ */

void eng_mtls_res_free(struct eng_mtls_res *res)
{
	sk_X509_pop_free(res->path, X509_free);
	memset(res, 0, sizeof(*res));
}

enum kg_code eng_mtls_check(STACK_OF(X509) * truststore, STACK_OF(X509) * sent,
                            time_t at, struct eng_mtls_res *res,
                            struct kg_err *err)
{
	struct eng_verify_req vr = {0};
	struct eng_verify_res v;
	STACK_OF(X509) *chain = NULL;
	enum kg_code rc;
	int i;

	memset(res, 0, sizeof(*res));
	if (sk_X509_num(sent) < 1)
		return kg_err_set(err, KG_E_USAGE, "no client certificate");
	chain = sk_X509_new_null();
	for (i = 1; chain != NULL && i < sk_X509_num(sent); i++)
		sk_X509_push(chain, sk_X509_value(sent, i));
	vr.trusted = truststore;
	vr.untrusted = chain;
	vr.leaf = sk_X509_value(sent, 0);
	vr.max_depth = -1;
	vr.check_time = 1;
	vr.at = at;
	rc = eng_verify(&vr, &v, err);
	sk_X509_free(chain);
	if (rc != KG_OK)
		return rc;
	res->path = v.path;
	v.path = NULL;
	res->status = 403;
	if (!v.ok) {
		switch (v.error) {
		case X509_V_ERR_CERT_HAS_EXPIRED:
			res->reason = "expired";
			break;
		case X509_V_ERR_CERT_NOT_YET_VALID:
			res->reason = "not-yet-valid";
			break;
		case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
			res->reason = "bad-signature";
			break;
		default:
			res->reason = "untrusted";
			break;
		}
		snprintf(res->detail, sizeof(res->detail), "%s", v.reason);
		return KG_OK;
	}
	/* API Gateway's policy on the path OpenSSL built */
	for (i = 0; i < sk_X509_num(res->path); i++) {
		X509 *x = sk_X509_value(res->path, i);
		const char *weak = eng_weak_signature(x);

		if (weak == NULL)
			weak = eng_weak_key(x);
		if (weak != NULL) {
			char subj[160];

			eng_subject_str(x, subj, sizeof(subj));
			res->reason = "unsupported-algorithm";
			snprintf(res->detail, sizeof(res->detail),
			         "%s (path position %d) uses %s", subj, i,
			         weak);
			return KG_OK;
		}
	}
	if (sk_X509_num(res->path) > MAX_PATH) {
		res->reason = "chain-too-long";
		snprintf(res->detail, sizeof(res->detail),
		         "%d certificates on the path; API Gateway takes at "
		         "most %d",
		         sk_X509_num(res->path), MAX_PATH);
		return KG_OK;
	}
	res->allow = 1;
	res->status = 200;
	return KG_OK;
}

enum kg_code eng_crls_parse(const unsigned char *buf, size_t len,
                            const char *name, STACK_OF(X509_CRL) * *out,
                            struct kg_err *err)
{
	struct eng_pem_scan s;
	STACK_OF(X509_CRL) *sk = sk_X509_CRL_new_null();
	enum kg_code rc = KG_OK;
	size_t i;

	*out = NULL;
	if (sk == NULL || !eng_pem_scan(buf, len, &s)) {
		sk_X509_CRL_free(sk);
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	}
	for (i = 0; i < s.n && rc == KG_OK; i++) {
		const unsigned char *p = s.blocks[i].der;
		X509_CRL *c = NULL;

		if (!s.blocks[i].bad &&
		    strcmp(s.blocks[i].label, "X509 CRL") == 0)
			c = d2i_X509_CRL(NULL, &p, (long)s.blocks[i].der_len);
		if (c == NULL || !sk_X509_CRL_push(sk, c)) {
			X509_CRL_free(c);
			rc = kg_err_set(
			        err, KG_REFUSED,
			        "'%s' block %zu is not a valid X509 CRL", name,
			        i);
		}
	}
	if (rc == KG_OK && sk_X509_CRL_num(sk) == 0)
		rc = kg_err_set(err, KG_REFUSED, "'%s' holds no X509 CRL",
		                name);
	eng_pem_scan_free(&s);
	ERR_clear_error();
	if (rc != KG_OK) {
		sk_X509_CRL_pop_free(sk, X509_CRL_free);
		return rc;
	}
	*out = sk;
	return KG_OK;
}
