/* EC keys as tokens give them: curve parameters and points. */
#include "hsm/hsm_int.h"

#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>

/* The EC point in an CKA_EC_POINT value (DER OCTET STRING, or raw). */
int hsm_ec_point(const unsigned char *v, size_t len, size_t want,
                 const unsigned char **pt, size_t *ptlen)
{
	const unsigned char *p = v;
	ASN1_OCTET_STRING *os = d2i_ASN1_OCTET_STRING(NULL, &p, (long)len);
	int ok = 0;

	if (os != NULL && p == v + len &&
	    (size_t)ASN1_STRING_length(os) == want) {
		/* the point sits at the end of the DER value */
		*pt = v + len - want;
		*ptlen = want;
		ok = 1;
	} else if (len == want) {
		*pt = v;
		*ptlen = len;
		ok = 1;
	}
	ASN1_OCTET_STRING_free(os);
	return ok;
}

int hsm_ec_curve(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	ASN1_OBJECT *o = d2i_ASN1_OBJECT(NULL, &p, (long)len);
	ASN1_PRINTABLESTRING *ps = NULL;
	int nid = o ? OBJ_obj2nid(o) : NID_undef;

	ASN1_OBJECT_free(o);
	if (nid != NID_undef)
		return nid;
	/* PKCS#11 3.0 also names Edwards curves by a PrintableString */
	p = der;
	ps = d2i_ASN1_PRINTABLESTRING(NULL, &p, (long)len);
	if (ps != NULL && ASN1_STRING_length(ps) == 12 &&
	    memcmp(ASN1_STRING_get0_data(ps), "edwards25519", 12) == 0)
		nid = NID_ED25519;
	else if (ps != NULL && ASN1_STRING_length(ps) == 10 &&
	         memcmp(ASN1_STRING_get0_data(ps), "edwards448", 10) == 0)
		nid = NID_ED448;
	ASN1_PRINTABLESTRING_free(ps);
	return nid;
}

size_t hsm_ed_len(int nid)
{
	return nid == NID_ED25519 ? 32 : nid == NID_ED448 ? 57 : 0;
}

int hsm_ec_bits(int nid)
{
	switch (nid) {
	case NID_X9_62_prime256v1:
		return 256;
	case NID_secp384r1:
		return 384;
	case NID_secp521r1:
		return 521;
	case NID_ED25519:
		return 256;
	case NID_ED448:
		return 456;
	default:
		return 0;
	}
}
