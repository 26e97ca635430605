/* Certificate and CRL files: every block decoded, each distinct one once. */
#include "engine/eng_trust.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "common/kg_hex.h"
#include "engine/eng_pem.h"

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

enum kg_code eng_fp_parse(const char *s, unsigned char fp[32],
                          struct kg_err *err)
{
	size_t n;

	if (s == NULL || !kg_unhex(s, fp, 32, &n) || n != 32)
		return kg_err_set(err, KG_E_USAGE,
		                  "'%s' is not a SHA-256 fingerprint (64 hex "
		                  "digits, colons allowed; keygate cert show "
		                  "prints it)",
		                  s ? s : "");
	return KG_OK;
}

STACK_OF(X509) * eng_certs_without(STACK_OF(X509) * sk,
                                   const unsigned char fp[32], int *removed)
{
	STACK_OF(X509) *keep = sk_X509_new_reserve(NULL, sk_X509_num(sk) + 1);
	unsigned char got[32];
	unsigned int len;
	int i;

	*removed = 0;
	for (i = 0; keep != NULL && i < sk_X509_num(sk); i++) {
		X509 *x = sk_X509_value(sk, i);

		if (!X509_digest(x, EVP_sha256(), got, &len)) {
			sk_X509_pop_free(keep, X509_free);
			return NULL;
		}
		if (memcmp(got, fp, 32) == 0) {
			(*removed)++;
			continue;
		}
		sk_X509_push(keep, x); /* reserved: cannot fail */
		X509_up_ref(x);
	}
	return keep;
}
