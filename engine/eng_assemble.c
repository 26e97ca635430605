/* bundle assemble: certificates found, ordered, and re-encoded. */
#include "engine/eng_gate.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/kg_pub.h"
#include "common/kg_time.h"
#include "engine/eng.h"
#include "engine/eng_acm.h"
#include "engine/eng_pem.h"

/* ---- assemble -------------------------------------------------------- */

enum kg_code eng_pem_private(EVP_PKEY *k, char **out, size_t *len,
                             struct kg_err *err)
{
	BIO *b = BIO_new(BIO_s_secmem());

	*out = NULL;
	if (b == NULL ||
	    !PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)) {
		BIO_free(b);
		return eng_ossl_err(err, KG_E_RUNTIME,
		                    "cannot write the private key");
	}
	*out = eng_bio_str(b, len);
	BIO_free(b); /* a secure-memory BIO: cleansed on free */
	return *out ? KG_OK : kg_err_set(err, KG_E_RUNTIME, "out of memory");
}

/* Adds the certificates of a lenient scan to pool, skipping duplicates. */
static void pool_add(STACK_OF(X509) * pool, const struct eng_pem_scan *s)
{
	size_t i;
	int j, dup;

	for (i = 0; i < s->n; i++) {
		const struct eng_pem_block *b = &s->blocks[i];
		const unsigned char *p = b->der;
		X509 *x;

		if (b->bad || strcmp(b->label, "CERTIFICATE") != 0)
			continue;
		x = d2i_X509(NULL, &p, (long)b->der_len);
		if (x == NULL)
			continue;
		for (dup = 0, j = 0; j < sk_X509_num(pool) && !dup; j++)
			dup = X509_cmp(sk_X509_value(pool, j), x) == 0;
		if (dup || !sk_X509_push(pool, x))
			X509_free(x);
	}
	ERR_clear_error();
}

static int append_pem(BIO *b, X509 *x)
{
	return PEM_write_bio_X509(b, x);
}

enum kg_code eng_acm_assemble(const struct eng_acm_req *r, char **cert_out,
                              char **key_out, char **chain_out,
                              struct eng_findings *f, struct kg_err *err)
{
	struct eng_pem_scan sc = {0}, sk = {0}, sch = {0};
	STACK_OF(X509) *pool = sk_X509_new_null();
	const struct eng_pem_block *kb = NULL;
	EVP_PKEY *key = NULL;
	X509 *leaf = NULL, *cur;
	BIO *bc = BIO_new(BIO_s_mem()), *bch = BIO_new(BIO_s_mem());
	struct eng_acm_req check = *r;
	char *cert = NULL, *chain = NULL, *kpem = NULL;
	size_t clen = 0, chlen = 0, klen = 0, i;
	enum kg_code rc = KG_OK;
	int j, *used = NULL;

	*cert_out = *key_out = *chain_out = NULL;
	/* what was not read whole is not assembled: only its size-limit */
	check.cert.size = check.key.size = check.chain.size = 0;
	if (r->cert.size || r->key.size || r->chain.size) {
		if (r->cert.size)
			eng_size_rule(&r->cert, ENG_ACM_CERT_MAX,
			              "certificate", f);
		if (r->key.size)
			eng_size_rule(&r->key, ENG_ACM_KEY_MAX, "private key",
			              f);
		if (r->chain.size)
			eng_size_rule(&r->chain, ENG_ACM_CHAIN_MAX, "chain",
			              f);
		goto out;
	}
	if (pool == NULL || bc == NULL || bch == NULL ||
	    !eng_pem_scan(r->cert.buf, r->cert.len, &sc) ||
	    !eng_pem_scan(r->key.buf, r->key.len, &sk) ||
	    (r->chain.buf &&
	     !eng_pem_scan(r->chain.buf, r->chain.len, &sch))) {
		rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
		goto out;
	}
	pool_add(pool, &sc);
	pool_add(pool, &sch);
	for (i = 0; i < sk.n && kb == NULL; i++)
		if (strstr(sk.blocks[i].label, "PRIVATE KEY") != NULL)
			kb = &sk.blocks[i];
	if (kb == NULL || kb->bad) {
		eng_finding_add(f, "pem-invalid", r->key.name, -1, NULL, NULL,
		                "%s holds no readable private key",
		                r->key.name);
		goto out;
	}
	if (kb->encrypted) {
		char hint[600];

		snprintf(hint, sizeof(hint),
		         "keygate key decrypt %s --out key-plain.pem",
		         r->key.name);
		eng_finding_add(f, "key-encrypted", r->key.name, -1, NULL,
		                hint,
		                "the private key is encrypted; ACM needs it "
		                "unencrypted");
		goto out;
	}
	if (eng_key_load(kb->der, kb->der_len, r->key.name, NULL, &key, err) !=
	    KG_OK) {
		eng_finding_add(f, "pem-invalid", r->key.name, -1, NULL, NULL,
		                "%s: the private key does not parse",
		                r->key.name);
		goto out;
	}
	if (sk_X509_num(pool) == 0) {
		eng_finding_add(f, "pem-invalid", r->cert.name, -1, NULL, NULL,
		                "no certificate found in %s%s%s", r->cert.name,
		                r->chain.buf ? " or " : "",
		                r->chain.buf ? r->chain.name : "");
		goto out;
	}
	/* the leaf is the key's certificate; else the first given */
	for (j = 0; j < sk_X509_num(pool) && leaf == NULL; j++)
		if (EVP_PKEY_eq(X509_get0_pubkey(sk_X509_value(pool, j)),
		                key) == 1)
			leaf = sk_X509_value(pool, j);
	if (leaf == NULL)
		leaf = sk_X509_value(pool, 0);
	ERR_clear_error();
	used = OPENSSL_zalloc((size_t)sk_X509_num(pool) * sizeof(int));
	if (used == NULL || !append_pem(bc, leaf)) {
		rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
		goto out;
	}
	for (j = 0; j < sk_X509_num(pool); j++)
		used[j] = sk_X509_value(pool, j) == leaf;
	/* the path leaf -> root; what is not on it is dropped */
	for (cur = leaf; !eng_self_issued(cur);) {
		int next = -1;

		for (j = 0; j < sk_X509_num(pool) && next < 0; j++)
			if (!used[j] &&
			    X509_check_issued(sk_X509_value(pool, j), cur) ==
			            X509_V_OK)
				next = j;
		if (next < 0)
			break;
		used[next] = 1;
		cur = sk_X509_value(pool, next);
		if (!append_pem(bch, cur)) {
			rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
			goto out;
		}
	}
	ERR_clear_error();
	cert = eng_bio_str(bc, &clen);
	chain = eng_bio_str(bch, &chlen);
	rc = eng_pem_private(key, &kpem, &klen, err);
	if (rc != KG_OK || cert == NULL || chain == NULL) {
		if (rc == KG_OK)
			rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
		goto out;
	}
	/* the result must pass the gate itself */
	check.cert.buf = (unsigned char *)cert;
	check.cert.len = clen;
	check.key.buf = (unsigned char *)kpem;
	check.key.len = klen;
	check.chain.buf = chlen ? (unsigned char *)chain : NULL;
	check.chain.len = chlen;
	rc = eng_acm_check(&check, f, err);
	if (rc != KG_OK)
		goto out;
	*cert_out = cert;
	*key_out = kpem;
	*chain_out = chain;
	cert = chain = kpem = NULL;
out:
	OPENSSL_free(cert);
	OPENSSL_free(chain);
	if (kpem != NULL)
		OPENSSL_clear_free(kpem, klen);
	OPENSSL_free(used);
	EVP_PKEY_free(key);
	BIO_free(bc);
	BIO_free(bch);
	sk_X509_pop_free(pool, X509_free);
	eng_pem_scan_free(&sc);
	eng_pem_scan_free(&sk);
	eng_pem_scan_free(&sch);
	return rc;
}
