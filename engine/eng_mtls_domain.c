/* API Gateway's rules for a certificate on a mutual-TLS custom domain. */
#include "engine/eng_mtls_domain.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "common/kg_time.h"
#include "engine/eng.h"

/* ---- names ----------------------------------------------------------- */

int eng_dns_covers(const char *pattern, const char *name)
{
	const char *dot;

	if (pattern == NULL || name == NULL || *pattern == '\0')
		return 0;
	if (strcasecmp(pattern, name) == 0)
		return 1;
	/* "*." then two labels or more: "*.com" stands for no domain */
	if (strncmp(pattern, "*.", 2) != 0 || strchr(pattern + 2, '.') == NULL)
		return 0;
	if (name[0] == '*')
		return 0;
	dot = strchr(name, '.');
	if (dot == NULL || dot == name)
		return 0;
	return strcasecmp(pattern + 1, dot) == 0;
}

enum kg_code eng_mtls_domain_parse(const char *name, struct kg_err *err)
{
	char shown[128];

	if (name == NULL || *name == '\0')
		return kg_err_set(err, KG_E_USAGE,
		                  "--mtls-domain needs the custom domain name "
		                  "(example: api.example.com)");
	if (!eng_text_ok(name, strlen(name)) || !eng_is_domain(name))
		return kg_err_set(err, KG_E_USAGE,
		                  "--mtls-domain '%s' is not a domain name "
		                  "(example: api.example.com)",
		                  eng_text_shown(name, shown, sizeof(shown)));
	return KG_OK;
}

/* s as UTF-8, new (OPENSSL_free), or NULL if it holds a NUL or control */
static char *utf8_of(const ASN1_STRING *s)
{
	unsigned char *u = NULL;
	int n = ASN1_STRING_to_UTF8(&u, s);

	if (n < 0 || !eng_text_ok((const char *)u, (size_t)n)) {
		OPENSSL_free(u);
		ERR_clear_error();
		return NULL;
	}
	return (char *)u;
}

int eng_issuer_is_amazon(const X509_NAME *issuer)
{
	int i = -1, found = 0;

	while (!found && (i = X509_NAME_get_index_by_NID(
	                          issuer, NID_organizationName, i)) >= 0) {
		char *o = utf8_of(X509_NAME_ENTRY_get_data(
		        X509_NAME_get_entry(issuer, i)));

		found = o != NULL && strcmp(o, "Amazon") == 0;
		OPENSSL_free(o);
	}
	return found;
}

/* A certificate's names, lower-cased: its CNs and its DNS SANs. */
struct names {
	char **v;
	int n;
};

static void names_add(struct names *ns, char *s)
{
	char **nv;
	char *p;

	if (s == NULL)
		return;
	if (*s == '\0' || strlen(s) > 253 ||
	    (nv = OPENSSL_realloc(ns->v, (size_t)(ns->n + 1) * sizeof(*nv))) ==
	            NULL) {
		OPENSSL_free(s);
		return;
	}
	for (p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	ns->v = nv;
	ns->v[ns->n++] = s;
}

static void names_free(struct names *ns)
{
	int i;

	for (i = 0; i < ns->n; i++)
		OPENSSL_free(ns->v[i]);
	OPENSSL_free(ns->v);
	ns->v = NULL;
	ns->n = 0;
}

static void names_of(X509 *x, struct names *cn, struct names *dns)
{
	const X509_NAME *sn = X509_get_subject_name(x);
	GENERAL_NAMES *g =
	        X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int i = -1;

	while ((i = X509_NAME_get_index_by_NID(sn, NID_commonName, i)) >= 0)
		names_add(cn, utf8_of(X509_NAME_ENTRY_get_data(
		                      X509_NAME_get_entry(sn, i))));
	for (i = 0; g != NULL && i < sk_GENERAL_NAME_num(g); i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(g, i);

		if (gn->type == GEN_DNS)
			names_add(dns, utf8_of(gn->d.dNSName));
	}
	GENERAL_NAMES_free(g);
	ERR_clear_error();
}

/* Does a name of ns cover name? */
static int any_covers(const struct names *ns, const char *name)
{
	int i;

	for (i = 0; i < ns->n; i++)
		if (eng_dns_covers(ns->v[i], name))
			return 1;
	return 0;
}

/* "pfx a, pfx b, ..." into buf; "none" when both are empty */
static const char *join(const struct names *a, const char *pa,
                        const struct names *b, const char *pb, char *buf,
                        size_t cap)
{
	size_t at = 0;
	int i, k;

	buf[0] = '\0';
	for (k = 0; k < 2; k++) {
		const struct names *ns = k == 0 ? a : b;

		for (i = 0; ns != NULL && i < ns->n && at < cap; i++)
			at += (size_t)snprintf(buf + at, cap - at, "%s%s%s",
			                       at ? ", " : "", k ? pb : pa,
			                       ns->v[i]);
	}
	if (at >= cap && cap > 4)
		memcpy(buf + cap - 4, "...", 4);
	return at ? buf : "none";
}

static const char *when(const ASN1_TIME *t, char out[KG_TIME_LEN])
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(out, KG_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, KG_TIME_LEN, "(unreadable)");
	ERR_clear_error();
	return out;
}

/* ---- the rules ------------------------------------------------------- */

/* The finding just added is a warning, whatever the table's default. */
static void as_warning(struct eng_findings *f, int added)
{
	if (added && f->n > 0)
		f->v[f->n - 1].sev = ENG_SEV_WARNING;
}

static void reimport_issuer(const struct eng_mtls_domain_req *r,
                            const char *subj, struct eng_findings *f)
{
	char *now, *was;

	if (X509_NAME_cmp(X509_get_issuer_name(r->cert),
	                  X509_get_issuer_name(r->old)) == 0)
		return;
	now = eng_name_str(X509_get_issuer_name(r->cert));
	was = eng_name_str(X509_get_issuer_name(r->old));
	eng_finding_add(f, "mtls-reimport-issuer", r->cert_name, 0, subj,
	                "reimport a certificate from the same CA, or import "
	                "it as a new certificate and point the domain at it",
	                "the new certificate's issuer '%s' is not the issuer "
	                "'%s' of the certificate it replaces; a certificate "
	                "re-imported into ACM for the mTLS domain %s must "
	                "keep its issuer, or API Gateway puts the domain in "
	                "PENDING_CERTIFICATE_REIMPORT",
	                now ? now : "?", was ? was : "?", r->domain);
	OPENSSL_free(now);
	OPENSSL_free(was);
}

static void ownership_validity(const struct eng_mtls_domain_req *r,
                               struct eng_findings *f)
{
	const ASN1_TIME *na = X509_get0_notAfter(r->ownership),
	                *nb = X509_get0_notBefore(r->ownership);
	char osubj[512], t1[KG_TIME_LEN], t2[KG_TIME_LEN], at[KG_TIME_LEN];
	static const char renew[] =
	        "renew it in ACM (or request a new one) and update the "
	        "domain's ownershipVerificationCertificateArn";
	time_t now = r->at;

	eng_subject_str(r->ownership, osubj, sizeof(osubj));
	kg_time_str(r->at, at);
	if (X509_cmp_time(na, &now) < 0)
		eng_finding_add(
		        f, "mtls-ownership-expired", r->ownership_name, 0,
		        osubj, renew,
		        "the ownership verification certificate "
		        "expired on %s (before %s): API Gateway puts "
		        "the mTLS domain %s in "
		        "PENDING_OWNERSHIP_VERIFICATION and locks every "
		        "change to it",
		        when(na, t1), at, r->domain);
	else if (X509_cmp_time(nb, &now) > 0)
		eng_finding_add(
		        f, "mtls-ownership-expired", r->ownership_name, 0,
		        osubj, renew,
		        "the ownership verification certificate is not "
		        "valid until %s (at %s): API Gateway cannot "
		        "verify ownership of the mTLS domain %s "
		        "(PENDING_OWNERSHIP_VERIFICATION)",
		        when(nb, t1), at, r->domain);
	else if (ASN1_TIME_compare(na, X509_get0_notAfter(r->cert)) < 0)
		as_warning(
		        f,
		        eng_finding_add(
		                f, "mtls-ownership-expired", r->ownership_name,
		                0, osubj,
		                "keep ACM's managed renewal of it working "
		                "(or renew it) before it expires",
		                "the ownership verification certificate "
		                "expires on %s, before the certificate "
		                "(%s); it must stay valid for the domain's "
		                "lifetime, or API Gateway puts the mTLS "
		                "domain %s in PENDING_OWNERSHIP_VERIFICATION",
		                when(na, t1),
		                when(X509_get0_notAfter(r->cert), t2),
		                r->domain));
	ERR_clear_error();
}

void eng_mtls_domain_rules(const struct eng_mtls_domain_req *r,
                           struct eng_findings *f)
{
	struct names cn = {0}, dns = {0}, ocn = {0}, odns = {0};
	const struct names *check;
	char subj[512], list[512];
	int i;

	if (r->cert == NULL || r->domain == NULL)
		return;
	eng_subject_str(r->cert, subj, sizeof(subj));
	names_of(r->cert, &cn, &dns);
	if (!any_covers(&cn, r->domain) && !any_covers(&dns, r->domain)) {
		char hint[400];

		snprintf(hint, sizeof(hint),
		         "reissue with DNS:%s in subjectAltName", r->domain);
		eng_finding_add(
		        f, "mtls-domain-not-covered", r->cert_name, 0, subj,
		        hint,
		        "neither the subject CN nor a DNS name of the "
		        "certificate (%s) covers the mTLS domain %s: "
		        "API Gateway puts the domain in "
		        "PENDING_CERTIFICATE_REIMPORT",
		        join(&cn, "CN=", &dns, "DNS:", list, sizeof(list)),
		        r->domain);
	}
	if (r->old != NULL)
		reimport_issuer(r, subj, f);
	if (!r->ownership_given) {
		char hint[400];

		snprintf(hint, sizeof(hint),
		         "request a public certificate for %s in ACM and give "
		         "it with --ownership-cert",
		         r->domain);
		eng_finding_add(
		        f, "mtls-ownership-missing", r->cert_name, 0, subj,
		        hint,
		        "no --ownership-cert: an imported or "
		        "private-CA certificate on the mTLS domain %s "
		        "needs an ownershipVerificationCertificate "
		        "issued by ACM; without it keygate cannot tell "
		        "whether API Gateway would put the domain in "
		        "PENDING_CERTIFICATE_REIMPORT",
		        r->domain);
		goto out;
	}
	if (r->ownership == NULL)
		goto out; /* did not parse: its input's finding says so */
	if (X509_cmp(r->cert, r->ownership) == 0)
		eng_finding_add(
		        f, "mtls-ownership-reused", r->ownership_name, 0, subj,
		        "give the ACM-issued certificate that proves "
		        "the right to the domain name, not the "
		        "certificate being imported",
		        "the ownership verification certificate is the "
		        "certificate being checked for the mTLS domain "
		        "%s: it only proves the right to the domain "
		        "name and cannot serve as the server "
		        "certificate of an mTLS domain",
		        r->domain);
	ownership_validity(r, f);
	if (!eng_issuer_is_amazon(X509_get_issuer_name(r->ownership))) {
		char osubj[512], *iss;

		eng_subject_str(r->ownership, osubj, sizeof(osubj));
		iss = eng_name_str(X509_get_issuer_name(r->ownership));
		as_warning(
		        f,
		        eng_finding_add(
		                f, "mtls-ownership-not-acm", r->ownership_name,
		                0, osubj,
		                "request a public certificate for the domain "
		                "in ACM and give that one",
		                "the ownership verification certificate was "
		                "issued by '%s', not by an Amazon CA "
		                "(O=Amazon "
		                "in the issuer): API Gateway needs one issued "
		                "by ACM for the mTLS domain %s",
		                iss ? iss : "?", r->domain));
		OPENSSL_free(iss);
	}
	/* every DNS name of the certificate (its CNs when it has none) */
	names_of(r->ownership, &ocn, &odns);
	check = dns.n > 0 ? &dns : &cn;
	for (i = 0; i < check->n; i++) {
		if (check == &cn && !eng_is_domain(check->v[i]))
			continue;
		if (any_covers(&odns, check->v[i]) ||
		    any_covers(&ocn, check->v[i]))
			continue;
		eng_finding_add(
		        f, "mtls-ownership-not-covered", r->cert_name, 0, subj,
		        "request an ACM certificate that covers every "
		        "name of the certificate, or drop the name",
		        "the certificate's name %s%s is not covered by "
		        "the ownership verification certificate (%s): "
		        "API Gateway puts the mTLS domain %s in "
		        "PENDING_CERTIFICATE_REIMPORT",
		        check == &dns ? "DNS:" : "CN=", check->v[i],
		        join(&ocn, "CN=", &odns, "DNS:", list, sizeof(list)),
		        r->domain);
	}
out:
	names_free(&cn);
	names_free(&dns);
	names_free(&ocn);
	names_free(&odns);
}
