/*
 * eng_policy: keygate's rules on top of OpenSSL's path building (engine
 * internal; eng_verify.c applies them). Each returns 1 if the path (or
 * the CRLs) pass, else 0 with why (cap bytes) saying what broke.
 */
#ifndef ENG_POLICY_H
#define ENG_POLICY_H

#include <stddef.h>

#include <openssl/x509_vfy.h>

/* X509_STORE_CTX callback: notAfter is inclusive (RFC 5280). */
int eng_verify_cb(int ok, X509_STORE_CTX *ctx);
/* RFC 5280 structure, for every purpose. */
int eng_rfc5280_rules(STACK_OF(X509) * path, char *why, size_t cap);
/* The web PKI's rules for a TLS server certificate's path. */
int eng_webpki_rules(STACK_OF(X509) * path, char *why, size_t cap);
/* RFC 5280 5.2.3: a conforming CRL carries its number. */
int eng_crl_rules(STACK_OF(X509_CRL) * crls, char *why, size_t cap);

#endif
