/*
 * eng_mtls_domain: API Gateway's rules for an imported (or private-CA)
 * certificate on a mutual-TLS custom domain (bundle check --mtls-domain).
 * Broken, they do not refuse the upload: the domain goes to
 * PENDING_CERTIFICATE_REIMPORT or PENDING_OWNERSHIP_VERIFICATION and every
 * later change to it is locked. Pure functions over X509, a time and
 * names; findings as SPEC.md's mtls-* codes.
 */
#ifndef ENG_MTLS_DOMAIN_H
#define ENG_MTLS_DOMAIN_H

#include <time.h>

#include <openssl/x509.h>

#include "common/kg_err.h"
#include "engine/eng_finding.h"

/*
 * 1 if a certificate's DNS name pattern covers name, as RFC 6125 6.4.3
 * has it: any case; a "*" is a whole left-most label and stands for
 * exactly one label ("*.example.com" covers "a.example.com", not
 * "example.com" nor "a.b.example.com"). A wildcard name is covered only
 * by the same wildcard. Else 0.
 */
int eng_dns_covers(const char *pattern, const char *name);

/* KG_OK if name can be an mTLS custom domain name (a domain name of two
 * labels or more, "*." first allowed), else KG_E_USAGE saying why. */
enum kg_code eng_mtls_domain_parse(const char *name, struct kg_err *err);

/* 1 if the issuer DN has O=Amazon, as the CAs ACM issues from do
 * ("CN=Amazon RSA 2048 M01,O=Amazon,C=US"). */
int eng_issuer_is_amazon(const X509_NAME *issuer);

struct eng_mtls_domain_req {
	const char *domain; /* --mtls-domain, valid (eng_mtls_domain_parse) */
	X509 *cert;         /* the certificate being checked */
	const char *cert_name; /* its input, for findings */
	X509 *old;             /* the certificate it replaces, or NULL */
	X509 *ownership;       /* the ownership verification certificate */
	const char *ownership_name;
	/* --ownership-cert was given (if ownership is NULL it did not parse,
	 * which its input's own finding says: no mtls-ownership-missing) */
	int ownership_given;
	time_t at;
};

/* Adds the mtls-* findings of r to f (SPEC.md "ACM import gate"). */
void eng_mtls_domain_rules(const struct eng_mtls_domain_req *r,
                           struct eng_findings *f);

#endif
