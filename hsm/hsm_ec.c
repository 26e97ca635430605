/* EC keys as tokens give them: curve parameters and points. */
#include "hsm/hsm_int.h"

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
	int nid = o ? OBJ_obj2nid(o) : NID_undef;

	ASN1_OBJECT_free(o);
	return nid;
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
	default:
		return 0;
	}
}
