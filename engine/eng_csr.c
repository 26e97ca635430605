/*
 * PKCS#10 requests as cert sign reads them. OpenSSL 3.0's d2i_X509_REQ
 * decodes the request's public key eagerly through a decoder context whose
 * set-up costs more than the token's ECDSA signature (about a quarter of
 * a batch certificate's work). The request is read here with OpenSSL's
 * ASN.1 templates, the key kept as algorithm + BIT STRING and turned into
 * an EVP_PKEY by import (kg_pub_to_pkey), and the signature checked over
 * the request info exactly as it was received (ASN1_SEQUENCE_enc).
 */
#include "engine/eng.h"

#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/kg_pub.h"

typedef struct {
	X509_ALGOR *algor;
	ASN1_BIT_STRING *public_key;
} KG_SPKI;

ASN1_SEQUENCE(KG_SPKI) =
        {
                ASN1_SIMPLE(KG_SPKI, algor, X509_ALGOR),
                ASN1_SIMPLE(KG_SPKI, public_key, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(KG_SPKI)

                typedef struct {
	ASN1_ENCODING enc; /* the bytes the signature covers */
	ASN1_INTEGER *version;
	X509_NAME *subject;
	KG_SPKI *pubkey;
	STACK_OF(X509_ATTRIBUTE) * attributes;
} KG_REQ_INFO;

/* attributes optional, as OpenSSL's own X509_REQ_INFO allows */
ASN1_SEQUENCE_enc(KG_REQ_INFO, enc, NULL) =
        {
                ASN1_SIMPLE(KG_REQ_INFO, version, ASN1_INTEGER),
                ASN1_SIMPLE(KG_REQ_INFO, subject, X509_NAME),
                ASN1_SIMPLE(KG_REQ_INFO, pubkey, KG_SPKI),
                ASN1_IMP_SET_OF_OPT(KG_REQ_INFO, attributes, X509_ATTRIBUTE,
                                    0),
} static_ASN1_SEQUENCE_END_ref(KG_REQ_INFO, KG_REQ_INFO)

                typedef struct {
	KG_REQ_INFO *info;
	X509_ALGOR *sig_alg;
	ASN1_BIT_STRING *signature;
} KG_REQ;

ASN1_SEQUENCE(KG_REQ) =
        {
                ASN1_SIMPLE(KG_REQ, info, KG_REQ_INFO),
                ASN1_SIMPLE(KG_REQ, sig_alg, X509_ALGOR),
                ASN1_SIMPLE(KG_REQ, signature, ASN1_BIT_STRING),
} static_ASN1_SEQUENCE_END(KG_REQ)

                struct eng_csr {
	KG_REQ *req;
	X509_PUBKEY *spki; /* the request's key as it came, no EVP_PKEY */
	EVP_PKEY *pub;     /* the same, imported */
	STACK_OF(X509_EXTENSION) * exts; /* extensionRequest, or NULL */
};

void eng_csr_free(struct eng_csr *c)
{
	if (c == NULL)
		return;
	ASN1_item_free((ASN1_VALUE *)c->req, ASN1_ITEM_rptr(KG_REQ));
	X509_PUBKEY_free(c->spki);
	EVP_PKEY_free(c->pub);
	sk_X509_EXTENSION_pop_free(c->exts, X509_EXTENSION_free);
	OPENSSL_free(c);
}

const X509_NAME *eng_csr_subject(const struct eng_csr *c)
{
	return c->req->info->subject;
}

const X509_PUBKEY *eng_csr_spki(const struct eng_csr *c)
{
	return c->spki;
}

EVP_PKEY *eng_csr_pubkey(const struct eng_csr *c)
{
	return c->pub;
}

const STACK_OF(X509_EXTENSION) * eng_csr_extensions(const struct eng_csr *c)
{
	return c->exts;
}

int eng_csr_verify(const struct eng_csr *c)
{
	return ASN1_item_verify_ex(ASN1_ITEM_rptr(KG_REQ_INFO),
	                           c->req->sig_alg, c->req->signature,
	                           c->req->info, NULL, c->pub, NULL,
	                           NULL) == 1;
}

/* The extensionRequest attribute (or Microsoft's), as X509_EXTENSIONS. */
static int read_extensions(struct eng_csr *c)
{
	static const int nids[] = {NID_ext_req, NID_ms_ext_req};
	STACK_OF(X509_ATTRIBUTE) *attrs = c->req->info->attributes;
	const unsigned char *p;
	ASN1_TYPE *t;
	size_t k;
	int i;

	for (k = 0; k < sizeof(nids) / sizeof(nids[0]); k++) {
		i = X509at_get_attr_by_NID(attrs, nids[k], -1);
		if (i < 0)
			continue;
		t = X509_ATTRIBUTE_get0_type(X509at_get_attr(attrs, i), 0);
		if (t == NULL || t->type != V_ASN1_SEQUENCE)
			return 0;
		p = t->value.sequence->data;
		c->exts = d2i_X509_EXTENSIONS(NULL, &p,
		                              t->value.sequence->length);
		return c->exts != NULL &&
		       p == t->value.sequence->data +
		                       t->value.sequence->length;
	}
	return 1; /* none asked for */
}

enum kg_code eng_csr_parse(const unsigned char *buf, size_t len,
                           const char *name, struct eng_csr **out,
                           struct kg_err *err)
{
	unsigned char *der = NULL;
	char *pem_name = NULL;
	long der_len = 0;
	const unsigned char *p;
	struct eng_csr *c;
	BIO *b;
	int ok = 0;

	*out = NULL;
	c = OPENSSL_zalloc(sizeof(*c));
	if (c == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	b = BIO_new_mem_buf(buf, (int)len);
	if (b != NULL &&
	    PEM_bytes_read_bio(&der, &der_len, &pem_name, PEM_STRING_X509_REQ,
	                       b, NULL, NULL) == 1) {
		p = der;
		c->req = (KG_REQ *)ASN1_item_d2i(NULL, &p, der_len,
		                                 ASN1_ITEM_rptr(KG_REQ));
	} else {
		/* DER: the whole input, nothing after it */
		p = buf;
		c->req = (KG_REQ *)ASN1_item_d2i(NULL, &p, (long)len,
		                                 ASN1_ITEM_rptr(KG_REQ));
		if (c->req != NULL && p != buf + len) {
			ASN1_item_free((ASN1_VALUE *)c->req,
			               ASN1_ITEM_rptr(KG_REQ));
			c->req = NULL;
		}
	}
	BIO_free(b);
	OPENSSL_free(der);
	OPENSSL_free(pem_name);
	if (c->req != NULL && (c->spki = X509_PUBKEY_new()) != NULL) {
		const KG_SPKI *k = c->req->info->pubkey;
		X509_ALGOR *alg = X509_ALGOR_dup(k->algor);
		unsigned char *bits = NULL;
		int nbytes = ASN1_STRING_length(k->public_key);

		if (alg != NULL && nbytes > 0 &&
		    (bits = OPENSSL_memdup(
		             ASN1_STRING_get0_data(k->public_key),
		             (size_t)nbytes)) != NULL) {
			ASN1_OBJECT *o = NULL;
			int pt;
			const void *pv;

			X509_ALGOR_get0((const ASN1_OBJECT **)&o, &pt, &pv,
			                alg);
			/* RSA: NULL or absent parameters; EC: a named curve */
			if (pt == V_ASN1_OBJECT || pt == V_ASN1_NULL ||
			    pt == V_ASN1_UNDEF) {
				ASN1_OBJECT *curve = pt == V_ASN1_OBJECT
				                             ? OBJ_dup(pv)
				                             : NULL;

				/* set0 takes the algorithm's parts and bytes
				 */
				ok = (pt != V_ASN1_OBJECT || curve != NULL) &&
				     X509_PUBKEY_set0_param(
				             c->spki, OBJ_dup(o), pt, curve,
				             bits, nbytes);
				if (!ok)
					ASN1_OBJECT_free(curve);
			}
		}
		if (!ok)
			OPENSSL_free(bits);
		X509_ALGOR_free(alg);
	}
	ERR_clear_error();
	if (c->req == NULL) {
		eng_csr_free(c);
		return kg_err_set(err, KG_REFUSED,
		                  "'%s' holds no certificate request (PEM or "
		                  "DER PKCS#10)",
		                  name);
	}
	if (!ok || (c->pub = kg_pub_to_pkey(c->spki)) == NULL) {
		eng_csr_free(c);
		ERR_clear_error();
		return kg_err_set(err, KG_REFUSED,
		                  "the request in '%s' is for a key keygate "
		                  "does not certify: RSA, EC (P-256, P-384, "
		                  "P-521), Ed25519 and Ed448 only",
		                  name);
	}
	if (!read_extensions(c)) {
		eng_csr_free(c);
		ERR_clear_error();
		return kg_err_set(err, KG_REFUSED,
		                  "the request in '%s' has an extension "
		                  "request that does not parse",
		                  name);
	}
	*out = c;
	return KG_OK;
}
