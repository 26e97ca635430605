#include "engine/eng.h"

#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

enum kg_code eng_ossl_err(struct kg_err *err, enum kg_code code,
                          const char *what)
{
	unsigned long e, first = 0;
	const char *data = NULL, *first_data = NULL;
	int flags;
	char detail[200] = "";
	const char *why;

	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		if (first == 0) {
			first = e; /* the earliest is the root cause */
			if ((flags & ERR_TXT_STRING) && data && *data) {
				first_data = data;
				snprintf(detail, sizeof(detail), " (%s)",
				         first_data);
			}
		}
	}
	why = first ? ERR_reason_error_string(first) : NULL;
	return kg_err_set(err, code, "%s: %s%s", what,
	                  why ? why : "libcrypto error", detail);
}

char *eng_name_str(const X509_NAME *n)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *s = NULL;

	if (b == NULL)
		return NULL;
	if (X509_NAME_print_ex(b, n, 0,
	                       XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0)
		s = eng_bio_str(b, NULL);
	BIO_free(b);
	return s;
}

char *eng_bio_str(BIO *b, size_t *len)
{
	char *p = NULL, *s;
	long n = BIO_get_mem_data(b, &p);

	if (n < 0)
		n = 0;
	s = OPENSSL_malloc((size_t)n + 1);
	if (s == NULL)
		return NULL;
	if (n > 0) /* an empty memory BIO gives no pointer at all */
		memcpy(s, p, (size_t)n);
	s[n] = '\0';
	if (len != NULL)
		*len = (size_t)n;
	return s;
}

static enum kg_code bio_take(BIO *b, char **out, size_t *len,
                             struct kg_err *err)
{
	*out = eng_bio_str(b, len);
	return *out ? KG_OK : kg_err_set(err, KG_E_RUNTIME, "out of memory");
}

enum kg_code eng_pem_req(X509_REQ *r, char **out, size_t *len,
                         struct kg_err *err)
{
	BIO *b = BIO_new(BIO_s_mem());
	enum kg_code rc;

	*out = NULL;
	if (b == NULL || !PEM_write_bio_X509_REQ(b, r))
		rc = eng_ossl_err(err, KG_E_RUNTIME, "cannot write request");
	else
		rc = bio_take(b, out, len, err);
	BIO_free(b);
	return rc;
}

enum kg_code eng_pem_cert(X509 *x, char **out, size_t *len, struct kg_err *err)
{
	BIO *b = BIO_new(BIO_s_mem());
	enum kg_code rc;

	*out = NULL;
	if (b == NULL || !PEM_write_bio_X509(b, x))
		rc = eng_ossl_err(err, KG_E_RUNTIME,
		                  "cannot write certificate");
	else
		rc = bio_take(b, out, len, err);
	BIO_free(b);
	return rc;
}

enum kg_code eng_pem_public(const EVP_PKEY *k, char **out, size_t *len,
                            struct kg_err *err)
{
	BIO *b = BIO_new(BIO_s_mem());
	enum kg_code rc;

	*out = NULL;
	if (b == NULL || !PEM_write_bio_PUBKEY(b, k))
		rc = eng_ossl_err(err, KG_E_RUNTIME,
		                  "cannot write the public key");
	else
		rc = bio_take(b, out, len, err);
	BIO_free(b);
	return rc;
}

void eng_subject_str(const X509 *x, char *buf, size_t cap)
{
	char *s = eng_name_str(X509_get_subject_name(x));

	snprintf(buf, cap, "%s", s ? s : "");
	OPENSSL_free(s);
}

int eng_key_is_rsa(const EVP_PKEY *k)
{
	BIGNUM *n = NULL;
	int rsa = EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n);

	BN_free(n);
	ERR_clear_error();
	return rsa;
}

enum kg_code eng_cert_der(X509 *x, struct eng_cert_der *d, struct kg_err *err)
{
	int a, b, c, e;

	memset(d, 0, sizeof(*d));
	a = i2d_X509(x, &d->cert);
	b = i2d_X509_NAME(X509_get_subject_name(x), &d->subject);
	c = i2d_X509_NAME(X509_get_issuer_name(x), &d->issuer);
	e = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &d->serial);
	if (a <= 0 || b <= 0 || c <= 0 || e <= 0) {
		eng_cert_der_free(d);
		return kg_err_set(err, KG_E_RUNTIME,
		                  "cannot encode the certificate");
	}
	d->cert_len = (size_t)a;
	d->subject_len = (size_t)b;
	d->issuer_len = (size_t)c;
	d->serial_len = (size_t)e;
	return KG_OK;
}

void eng_cert_der_free(struct eng_cert_der *d)
{
	OPENSSL_free(d->cert);
	OPENSSL_free(d->subject);
	OPENSSL_free(d->issuer);
	OPENSSL_free(d->serial);
	memset(d, 0, sizeof(*d));
}

int eng_cert_key_match(X509 *x, const EVP_PKEY *k)
{
	EVP_PKEY *p = X509_get0_pubkey(x);

	return p != NULL && k != NULL && EVP_PKEY_eq(p, k) == 1;
}
