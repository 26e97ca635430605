/*
 * kg_pub: SubjectPublicKeyInfo from raw public key components, with
 * OpenSSL's ASN.1 only. OpenSSL 3.0's encoders and decoders enumerate every
 * provider's implementations on each use, which costs more per process than
 * a token's C_Sign; these paths need neither.
 */
#ifndef KG_PUB_H
#define KG_PUB_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* New X509_PUBKEY (X509_PUBKEY_free), or NULL. */
X509_PUBKEY *kg_pub_rsa(const BIGNUM *n, const BIGNUM *e);
X509_PUBKEY *kg_pub_ec(int curve_nid, const unsigned char *point, size_t len);
/* Ed25519 or Ed448 (nid), from the raw public key (RFC 8410). */
X509_PUBKEY *kg_pub_ed(int nid, const unsigned char *key, size_t len);

/*
 * The public key of any EVP_PKEY whose provider gives its components as
 * parameters ("n" and "e", or "group" and "encoded-pub-key"), or NULL.
 */
X509_PUBKEY *kg_pub_from_pkey(const EVP_PKEY *k);

/* Sets dst (e.g. a request's own X509_PUBKEY) to a copy of src. */
int kg_pub_copy(X509_PUBKEY *dst, const X509_PUBKEY *src);

/*
 * A software EVP_PKEY (default provider) holding only src's public key,
 * built by import, not by a decoder. New, or NULL.
 */
EVP_PKEY *kg_pub_to_pkey(const X509_PUBKEY *src);

#endif
