/*
 * The work an encrypted private key asks of whoever decrypts it. PKCS#8
 * lets the file choose its key derivation's cost (PBKDF2 or PKCS#12
 * iterations, scrypt's N, r and p): a key someone sent could ask for hours
 * of CPU or gigabytes of memory before the passphrase is even checked.
 * keygate derives only within bounds far above what tools write.
 */
#include "engine/eng.h"
#include "engine/eng_pem.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

/* What an ASN1_INTEGER holds, or UINT64_MAX if negative or huge. */
static uint64_t uint_of(const ASN1_INTEGER *a)
{
	uint64_t v;

	if (a == NULL)
		return 0;
	if (!ASN1_INTEGER_get_uint64(&v, a)) {
		ERR_clear_error();
		return UINT64_MAX;
	}
	return v;
}

/* a*b, or UINT64_MAX where it would not fit */
static uint64_t mul(uint64_t a, uint64_t b)
{
	return a != 0 && b > UINT64_MAX / a ? UINT64_MAX : a * b;
}

static enum kg_code too_costly(struct kg_err *err, const char *name,
                               const char *what, uint64_t got, uint64_t max)
{
	return kg_err_set(err, KG_E_USAGE,
	                  "private key '%s' asks for %llu %s to decrypt, "
	                  "keygate allows at most %llu (a key you trust: "
	                  "decrypt it with openssl pkcs8 and encrypt it anew "
	                  "with a lower cost)",
	                  name, (unsigned long long)got, what,
	                  (unsigned long long)max);
}

static enum kg_code check_pbkdf2(const X509_ALGOR *kf, const char *name,
                                 struct kg_err *err)
{
	PBKDF2PARAM *p = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM),
	                                           kf->parameter);
	uint64_t iter;

	if (p == NULL) {
		ERR_clear_error();
		return KG_OK; /* OpenSSL will not decrypt it either */
	}
	iter = uint_of(p->iter);
	PBKDF2PARAM_free(p);
	if (iter > ENG_KDF_MAX_ITER)
		return too_costly(err, name, "PBKDF2 iterations", iter,
		                  ENG_KDF_MAX_ITER);
	return KG_OK;
}

static enum kg_code check_scrypt(const X509_ALGOR *kf, const char *name,
                                 struct kg_err *err)
{
	SCRYPT_PARAMS *p = ASN1_TYPE_unpack_sequence(
	        ASN1_ITEM_rptr(SCRYPT_PARAMS), kf->parameter);
	uint64_t n, r, q;

	if (p == NULL) {
		ERR_clear_error();
		return KG_OK;
	}
	n = uint_of(p->costParameter);
	r = uint_of(p->blockSize);
	q = uint_of(p->parallelizationParameter);
	SCRYPT_PARAMS_free(p);
	/* memory: 128 r N bytes; work: N r p block mixes */
	if (mul(mul(128, r), n) > ENG_KDF_MAX_SCRYPT_MEM)
		return too_costly(err, name, "bytes of scrypt memory",
		                  mul(mul(128, r), n), ENG_KDF_MAX_SCRYPT_MEM);
	if (mul(mul(n, r), q) > ENG_KDF_MAX_SCRYPT_WORK)
		return too_costly(err, name, "scrypt block mixes (N*r*p)",
		                  mul(mul(n, r), q), ENG_KDF_MAX_SCRYPT_WORK);
	return KG_OK;
}

/* One EncryptedPrivateKeyInfo's algorithm. */
static enum kg_code check_alg(const X509_ALGOR *alg, const char *name,
                              struct kg_err *err)
{
	PBE2PARAM *p2;
	PBEPARAM *p1;
	enum kg_code rc = KG_OK;
	uint64_t iter;

	if (OBJ_obj2nid(alg->algorithm) != NID_pbes2) {
		/* PBES1 and PKCS#12's PBEs: salt and iterations */
		p1 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM),
		                               alg->parameter);
		if (p1 == NULL) {
			ERR_clear_error();
			return KG_OK;
		}
		iter = uint_of(p1->iter);
		PBEPARAM_free(p1);
		if (iter > ENG_KDF_MAX_ITER)
			return too_costly(err, name, "PBE iterations", iter,
			                  ENG_KDF_MAX_ITER);
		return KG_OK;
	}
	p2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM),
	                               alg->parameter);
	if (p2 == NULL) {
		ERR_clear_error();
		return KG_OK;
	}
	switch (OBJ_obj2nid(p2->keyfunc->algorithm)) {
	case NID_id_pbkdf2:
		rc = check_pbkdf2(p2->keyfunc, name, err);
		break;
	case NID_id_scrypt:
		rc = check_scrypt(p2->keyfunc, name, err);
		break;
	default:
		break; /* OpenSSL knows no other */
	}
	PBE2PARAM_free(p2);
	return rc;
}

/* der, if it is an EncryptedPrivateKeyInfo */
static enum kg_code check_der(const unsigned char *der, size_t len,
                              const char *name, struct kg_err *err)
{
	const unsigned char *p = der;
	const X509_ALGOR *alg = NULL;
	X509_SIG *sig;
	enum kg_code rc;

	if (len > LONG_MAX)
		return KG_OK;
	sig = d2i_X509_SIG(NULL, &p, (long)len);
	if (sig == NULL) {
		ERR_clear_error();
		return KG_OK;
	}
	X509_SIG_get0(sig, &alg, NULL);
	rc = alg != NULL ? check_alg(alg, name, err) : KG_OK;
	X509_SIG_free(sig);
	return rc;
}

enum kg_code eng_key_kdf_check(const unsigned char *buf, size_t len,
                               const char *name, struct kg_err *err)
{
	struct eng_pem_scan s;
	enum kg_code rc = KG_OK;
	size_t i;

	if (memchr(buf, '\0', len) != NULL || len < 11 ||
	    memmem(buf, len, "-----BEGIN ", 11) == NULL)
		return check_der(buf, len, name, err);
	if (!eng_pem_scan(buf, len, &s))
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	/* every block the decoder might take, whatever its label says */
	for (i = 0; i < s.n && rc == KG_OK; i++)
		if (s.blocks[i].der != NULL)
			rc = check_der(s.blocks[i].der, s.blocks[i].der_len,
			               name, err);
	eng_pem_scan_free(&s);
	return rc;
}
