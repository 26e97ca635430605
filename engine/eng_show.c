/* Decoding certificates, requests and keys; loading software keys. */
#include "engine/eng.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

/* ---- keys ------------------------------------------------------------ */

void eng_key_describe(const EVP_PKEY *k, char *buf, size_t len)
{
	char group[64] = "";
	size_t glen = 0;

	if (EVP_PKEY_is_a(k, "RSA") || EVP_PKEY_is_a(k, "KG-RSA")) {
		snprintf(buf, len, "RSA %d", EVP_PKEY_get_bits(k));
	} else if (EVP_PKEY_is_a(k, "EC") || EVP_PKEY_is_a(k, "KG-EC")) {
		if (EVP_PKEY_get_utf8_string_param(
		            k, OSSL_PKEY_PARAM_GROUP_NAME, group,
		            sizeof(group), &glen)) {
			int nid = OBJ_sn2nid(group);
			const char *nist = nid ? EC_curve_nid2nist(nid) : NULL;

			snprintf(buf, len, "EC %s", nist ? nist : group);
		} else {
			snprintf(buf, len, "EC %d", EVP_PKEY_get_bits(k));
		}
	} else if (EVP_PKEY_is_a(k, "ED25519") ||
	           EVP_PKEY_is_a(k, "KG-ED25519")) {
		snprintf(buf, len, "Ed25519");
	} else if (EVP_PKEY_is_a(k, "ED448") || EVP_PKEY_is_a(k, "KG-ED448")) {
		snprintf(buf, len, "Ed448");
	} else {
		snprintf(buf, len, "%s %d",
		         EVP_PKEY_get0_type_name(k)
		                 ? EVP_PKEY_get0_type_name(k)
		                 : "unknown",
		         EVP_PKEY_get_bits(k));
	}
}

static int no_passphrase(char *buf, size_t size, size_t *len,
                         const OSSL_PARAM params[], void *arg)
{
	return 0; /* never prompt from engine/ */
}

/* Is this PEM text an encrypted private key? */
/* 1 if the len bytes at buf hold needle; buf need not end in a NUL. */
static int has(const unsigned char *buf, size_t len, const char *needle)
{
	return memmem(buf, len, needle, strlen(needle)) != NULL;
}

static int pem_encrypted(const unsigned char *buf, size_t len)
{
	if (memchr(buf, '\0', len) != NULL)
		return 0;
	return has(buf, len, "-----BEGIN ENCRYPTED PRIVATE KEY-----") ||
	       (has(buf, len, "PRIVATE KEY-----") &&
	        has(buf, len, "Proc-Type: 4,ENCRYPTED"));
}

int eng_key_encrypted(const unsigned char *buf, size_t len)
{
	return pem_encrypted(buf, len);
}

enum kg_code eng_key_load(const unsigned char *buf, size_t len,
                          const char *name, const char *pass, EVP_PKEY **out,
                          struct kg_err *err)
{
	OSSL_DECODER_CTX *dc;
	const unsigned char *p = buf;
	size_t left = len;
	EVP_PKEY *pk = NULL;

	*out = NULL;
	if (pass == NULL && pem_encrypted(buf, len))
		return kg_err_set(err, KG_E_USAGE,
		                  "private key '%s' is encrypted: give "
		                  "--passphrase-source, or decrypt it with "
		                  "keygate key decrypt",
		                  name);
	if (pass != NULL) {
		enum kg_code rc = eng_key_kdf_check(buf, len, name, err);

		if (rc != KG_OK)
			return rc;
	}
	dc = OSSL_DECODER_CTX_new_for_pkey(&pk, NULL, NULL, NULL,
	                                   EVP_PKEY_KEYPAIR, NULL, NULL);
	if (dc == NULL)
		return eng_ossl_err(err, KG_E_RUNTIME, "no key decoder");
	if (pass != NULL)
		OSSL_DECODER_CTX_set_passphrase(
		        dc, (const unsigned char *)pass, strlen(pass));
	else
		OSSL_DECODER_CTX_set_passphrase_cb(dc, no_passphrase, NULL);
	if (!OSSL_DECODER_from_data(dc, &p, &left) || pk == NULL) {
		OSSL_DECODER_CTX_free(dc);
		ERR_clear_error();
		if (pass != NULL && pem_encrypted(buf, len))
			return kg_err_set(err, KG_REFUSED,
			                  "cannot decrypt private key '%s': "
			                  "wrong passphrase?",
			                  name);
		return kg_err_set(err, KG_E_USAGE,
		                  "'%s' holds no private key keygate can read "
		                  "(PEM or DER, PKCS#8, PKCS#1 or SEC1)",
		                  name);
	}
	OSSL_DECODER_CTX_free(dc);
	*out = pk;
	return KG_OK;
}

/* ---- decoding for cert show ------------------------------------------ */

static char *time_str(const ASN1_TIME *t)
{
	struct tm tm;
	char buf[32];

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return NULL;
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return OPENSSL_strdup(buf);
}

static void san_strings(const GENERAL_NAMES *gens, struct eng_obj *o)
{
	int i, n = gens ? sk_GENERAL_NAME_num(gens) : 0;

	if (n <= 0)
		return;
	o->san = OPENSSL_zalloc((size_t)n * sizeof(char *));
	if (o->san == NULL)
		return;
	for (i = 0; i < n; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		BIO *b = BIO_new(BIO_s_mem());

		if (b == NULL)
			continue;
		GENERAL_NAME_print(b, (GENERAL_NAME *)g);
		o->san[o->nsan++] = eng_bio_str(b, NULL);
		BIO_free(b);
	}
}

static void spki_hash(EVP_PKEY *pk, struct eng_obj *o)
{
	unsigned char *der = NULL;
	int len;

	if (pk == NULL)
		return;
	len = i2d_PUBKEY(pk, &der);
	if (len > 0) {
		unsigned int hl;

		EVP_Digest(der, (size_t)len, o->spki_sha256, &hl, EVP_sha256(),
		           NULL);
		o->has_spki = 1;
	}
	OPENSSL_free(der);
	eng_key_describe(pk, o->key, sizeof(o->key));
}

static int fill_cert(X509 *x, struct eng_obj *o)
{
	BIO *b = BIO_new(BIO_s_mem());
	BIGNUM *bn;
	GENERAL_NAMES *gens;
	unsigned int hl;
	uint32_t fl;

	if (b == NULL)
		return 0;
	o->kind = ENG_OBJ_CERT;
	o->kind_name = "certificate";
	X509_print_ex(b, x, XN_FLAG_ONELINE, 0);
	o->text = eng_bio_str(b, NULL);
	BIO_free(b);
	o->subject = eng_name_str(X509_get_subject_name(x));
	o->issuer = eng_name_str(X509_get_issuer_name(x));
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	o->serial = bn ? BN_bn2hex(bn) : NULL;
	BN_free(bn);
	o->not_before = time_str(X509_get0_notBefore(x));
	o->not_after = time_str(X509_get0_notAfter(x));
	o->sigalg = OPENSSL_strdup(OBJ_nid2ln(X509_get_signature_nid(x)));
	o->version = (int)X509_get_version(x) + 1;
	fl = X509_get_extension_flags(x);
	o->is_ca = X509_get_ext_by_NID(x, NID_basic_constraints, -1) < 0
	                   ? -1
	                   : !!(fl & EXFLAG_CA);
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	san_strings(gens, o);
	GENERAL_NAMES_free(gens);
	X509_digest(x, EVP_sha256(), o->sha256, &hl);
	spki_hash(X509_get0_pubkey(x), o);
	ERR_clear_error();
	return 1;
}

static int fill_csr(X509_REQ *r, struct eng_obj *o)
{
	BIO *b = BIO_new(BIO_s_mem());
	STACK_OF(X509_EXTENSION) * exts;
	unsigned int hl;

	if (b == NULL)
		return 0;
	o->kind = ENG_OBJ_CSR;
	o->kind_name = "certificate request";
	X509_REQ_print_ex(b, r, XN_FLAG_ONELINE, 0);
	o->text = eng_bio_str(b, NULL);
	BIO_free(b);
	o->subject = eng_name_str(X509_REQ_get_subject_name(r));
	o->sigalg = OPENSSL_strdup(OBJ_nid2ln(X509_REQ_get_signature_nid(r)));
	o->version = (int)X509_REQ_get_version(r) + 1;
	o->is_ca = -1;
	exts = X509_REQ_get_extensions(r);
	if (exts != NULL) {
		int i = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);

		if (i >= 0) {
			GENERAL_NAMES *g =
			        X509V3_EXT_d2i(X509v3_get_ext(exts, i));
			san_strings(g, o);
			GENERAL_NAMES_free(g);
		}
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	X509_REQ_digest(r, EVP_sha256(), o->sha256, &hl);
	spki_hash(X509_REQ_get0_pubkey(r), o);
	ERR_clear_error();
	return 1;
}

static int fill_key(EVP_PKEY *pk, int priv, struct eng_obj *o)
{
	BIO *b = BIO_new(BIO_s_mem());

	if (b == NULL)
		return 0;
	o->kind = priv ? ENG_OBJ_PRIVATE_KEY : ENG_OBJ_PUBLIC_KEY;
	o->kind_name = priv ? "private key" : "public key";
	o->is_ca = -1;
	/* only the public half is ever printed */
	EVP_PKEY_print_public(b, pk, 0, NULL);
	o->text = eng_bio_str(b, NULL);
	BIO_free(b);
	spki_hash(pk, o);
	return 1;
}

/* Decodes one DER object of a known or guessed kind into o. */
static int decode_der(const char *pem_name, const unsigned char *der, long len,
                      struct eng_obj *o)
{
	const unsigned char *p;
	int ok = 0, any = pem_name == NULL;

	if (any || strcmp(pem_name, "CERTIFICATE") == 0 ||
	    strcmp(pem_name, "X509 CERTIFICATE") == 0 ||
	    strcmp(pem_name, "TRUSTED CERTIFICATE") == 0) {
		X509 *x;

		p = der;
		x = pem_name && strcmp(pem_name, "TRUSTED CERTIFICATE") == 0
		            ? d2i_X509_AUX(NULL, &p, len)
		            : d2i_X509(NULL, &p, len);
		if (x != NULL && (!any || p == der + len))
			ok = fill_cert(x, o);
		X509_free(x);
		if (ok || !any)
			return ok;
	}
	if (any || strcmp(pem_name, "CERTIFICATE REQUEST") == 0 ||
	    strcmp(pem_name, "NEW CERTIFICATE REQUEST") == 0) {
		X509_REQ *r;

		p = der;
		r = d2i_X509_REQ(NULL, &p, len);
		if (r != NULL && (!any || p == der + len))
			ok = fill_csr(r, o);
		X509_REQ_free(r);
		if (ok || !any)
			return ok;
	}
	if (any || strcmp(pem_name, "PUBLIC KEY") == 0) {
		EVP_PKEY *pk;

		p = der;
		pk = d2i_PUBKEY(NULL, &p, len);
		if (pk != NULL && (!any || p == der + len))
			ok = fill_key(pk, 0, o);
		EVP_PKEY_free(pk);
		if (ok || !any)
			return ok;
	}
	if (any || strstr(pem_name, "PRIVATE KEY") != NULL) {
		EVP_PKEY *pk = NULL;
		struct kg_err e;

		if (eng_key_load(der, (size_t)len, "", NULL, &pk, &e) == KG_OK)
			ok = fill_key(pk, 1, o);
		EVP_PKEY_free(pk);
	}
	ERR_clear_error();
	return ok;
}

void eng_obj_free_array(struct eng_obj *o, size_t n)
{
	size_t i, j;

	if (o == NULL)
		return;
	for (i = 0; i < n; i++) {
		OPENSSL_free(o[i].text);
		OPENSSL_free(o[i].subject);
		OPENSSL_free(o[i].issuer);
		OPENSSL_free(o[i].serial);
		OPENSSL_free(o[i].not_before);
		OPENSSL_free(o[i].not_after);
		OPENSSL_free(o[i].sigalg);
		for (j = 0; j < o[i].nsan; j++)
			OPENSSL_free(o[i].san[j]);
		OPENSSL_free(o[i].san);
	}
	OPENSSL_free(o);
}

static struct eng_obj *grow(struct eng_obj **v, size_t *n)
{
	struct eng_obj *nv = OPENSSL_realloc(*v, (*n + 1) * sizeof(**v));

	if (nv == NULL)
		return NULL;
	*v = nv;
	memset(&nv[*n], 0, sizeof(nv[*n]));
	return &nv[(*n)++];
}

enum kg_code eng_decode_all(const unsigned char *buf, size_t len,
                            const char *name, struct eng_obj **out, size_t *n,
                            struct kg_err *err)
{
	struct eng_obj *v = NULL, *o;
	size_t cnt = 0, skipped = 0;
	char *pname = NULL, *header = NULL;
	unsigned char *data = NULL;
	long dlen = 0;
	BIO *b;
	int is_pem = len > 0 && memchr(buf, '\0', len) == NULL &&
	             has(buf, len, "-----BEGIN ");

	*out = NULL;
	*n = 0;
	if (len == 0)
		return kg_err_set(err, KG_REFUSED, "'%s' is empty", name);
	if (!is_pem) {
		o = grow(&v, &cnt);
		if (o == NULL || !decode_der(NULL, buf, (long)len, o)) {
			eng_obj_free_array(v, cnt);
			return kg_err_set(err, KG_REFUSED,
			                  "'%s' is neither PEM nor a DER "
			                  "certificate, request or key",
			                  name);
		}
		*out = v;
		*n = cnt;
		return KG_OK;
	}
	b = BIO_new_mem_buf(buf, (int)len);
	if (b == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	while (PEM_read_bio(b, &pname, &header, &data, &dlen)) {
		EVP_CIPHER_INFO ci;
		int encrypted = strcmp(pname, "ENCRYPTED PRIVATE KEY") == 0 ||
		                (PEM_get_EVP_CIPHER_INFO(header, &ci) &&
		                 ci.cipher != NULL);

		o = grow(&v, &cnt);
		if (o == NULL)
			break;
		if (encrypted) {
			o->kind = ENG_OBJ_ENCRYPTED_KEY;
			o->kind_name = "encrypted private key";
			o->is_ca = -1;
			o->text = OPENSSL_strdup(
			        "encrypted private key (not decrypted)\n");
		} else if (!decode_der(pname, data, dlen, o)) {
			cnt--; /* unreadable or unknown block */
			skipped++;
		}
		OPENSSL_free(pname);
		OPENSSL_free(header);
		OPENSSL_free(data);
		pname = header = NULL;
		data = NULL;
	}
	ERR_clear_error();
	BIO_free(b);
	if (cnt == 0) {
		eng_obj_free_array(v, cnt);
		return kg_err_set(err, KG_REFUSED,
		                  "'%s' holds no readable certificate, "
		                  "request or key (%zu PEM block%s could not "
		                  "be decoded)",
		                  name, skipped, skipped == 1 ? "" : "s");
	}
	*out = v;
	*n = cnt;
	return KG_OK;
}
