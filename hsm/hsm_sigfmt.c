/*
 * What a token signs and what it gives back, in X.509's forms: RSA signs a
 * PKCS#1 v1.5 DigestInfo (CKM_RSA_PKCS), EC the bare hash (CKM_ECDSA),
 * whose r || s becomes an ECDSA-Sig-Value.
 */
#include "hsm/hsm_int.h"

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

int hsm_sig_digest_info(const EVP_MD *md, const unsigned char *h,
                        unsigned int hlen, unsigned char **out)
{
	X509_SIG *sig = X509_SIG_new();
	X509_ALGOR *alg;
	ASN1_OCTET_STRING *dig;
	int len = -1;

	*out = NULL;
	if (sig == NULL)
		return -1;
	X509_SIG_getm(sig, &alg, &dig);
	if (X509_ALGOR_set0(alg, OBJ_nid2obj(EVP_MD_get_type(md)), V_ASN1_NULL,
	                    NULL) &&
	    ASN1_OCTET_STRING_set(dig, h, (int)hlen))
		len = i2d_X509_SIG(sig, out);
	X509_SIG_free(sig);
	return len;
}

int hsm_sig_ecdsa_der(const unsigned char *raw, size_t rawlen,
                      unsigned char *out, size_t cap, size_t *outlen)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *p = out;
	int half, len, ok = 0;

	if (rawlen == 0 || rawlen % 2 != 0 || rawlen > 2 * 66)
		return 0;
	half = (int)rawlen / 2;
	es = ECDSA_SIG_new();
	r = BN_bin2bn(raw, half, NULL);
	s = BN_bin2bn(raw + half, half, NULL);
	if (es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s))
		goto out;
	r = s = NULL; /* es holds them */
	len = i2d_ECDSA_SIG(es, NULL);
	if (len <= 0 || (size_t)len > cap)
		goto out;
	len = i2d_ECDSA_SIG(es, &p);
	*outlen = (size_t)len;
	ok = 1;
out:
	ECDSA_SIG_free(es);
	BN_free(r);
	BN_free(s);
	return ok;
}
