/* engine/eng_mtls_domain.c: domain coverage, and each mtls-* rule's
 * trigger and non-trigger. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "engine/eng.h"
#include "engine/eng_gate.h"
#include "engine/eng_mtls_domain.h"
#include "tests/unit/fx/fx.h"

static void test_covers(void **state)
{
	static const struct {
		const char *pattern, *name;
		int want;
	} cases[] = {
	        {"api.example.com", "api.example.com", 1},
	        {"API.Example.com", "api.EXAMPLE.com", 1},
	        {"api.example.com", "www.example.com", 0},
	        {"api.example.com", "example.com", 0},
	        {"*.example.com", "a.example.com", 1},
	        {"*.EXAMPLE.com", "A.example.COM", 1},
	        {"*.example.com", "example.com", 0},
	        {"*.example.com", "a.b.example.com", 0},
	        {"*.example.com", ".example.com", 0},
	        {"*.example.com", "a.example.org", 0},
	        {"*.example.com", "a.example.com.evil", 0},
	        {"*.example.com", "*.example.com", 1},
	        {"a.example.com", "*.example.com", 0},
	        {"*.a.example.com", "*.example.com", 0},
	        {"*.a.example.com", "x.a.example.com", 1},
	        {"*.com", "example.com", 0},
	        {"a*.example.com", "ab.example.com", 0},
	        {"*a.example.com", "ba.example.com", 0},
	        {"api.*.com", "api.example.com", 0},
	        {"", "example.com", 0},
	        {NULL, "example.com", 0},
	        {"example.com", NULL, 0},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (eng_dns_covers(cases[i].pattern, cases[i].name) !=
		    cases[i].want)
			fail_msg("case %zu: '%s' covers '%s': want %d", i,
			         cases[i].pattern ? cases[i].pattern
			                          : "(null)",
			         cases[i].name ? cases[i].name : "(null)",
			         cases[i].want);
}

static void test_domain_parse(void **state)
{
	static const struct {
		const char *name;
		enum kg_code want;
	} cases[] = {
	        {"api.example.com", KG_OK},
	        {"*.example.com", KG_OK},
	        {"xn--bcher-kva.example", KG_OK},
	        {NULL, KG_E_USAGE},
	        {"", KG_E_USAGE},
	        {"localhost", KG_E_USAGE},
	        {"a..example.com", KG_E_USAGE},
	        {"example.com.", KG_E_USAGE},
	        {"-a.example.com", KG_E_USAGE},
	        {"a b.example.com", KG_E_USAGE},
	        {"10.0.0.1", KG_E_USAGE},
	        {"api.example.com\n", KG_E_USAGE},
	        {"a.*.example.com", KG_E_USAGE},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kg_err err;

		if (eng_mtls_domain_parse(cases[i].name, &err) !=
		    cases[i].want)
			fail_msg("case %zu: '%s': want %d", i,
			         cases[i].name ? cases[i].name : "(null)",
			         cases[i].want);
	}
}

static void test_amazon(void **state)
{
	static const struct {
		const char *dn;
		int want;
	} cases[] = {
	        {"CN=Amazon RSA 2048 M01,O=Amazon,C=US", 1},
	        {"CN=Amazon Root CA 1,O=Amazon,C=US", 1},
	        {"CN=Amazon RSA 2048 M01,O=Example,C=US", 0},
	        {"CN=Amazon RSA 2048 M01,C=US", 0},
	        {"CN=x,O=Amazon Web Services,C=US", 0},
	        {"CN=x,O=Example,O=Amazon", 1},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		X509_NAME *n = NULL;
		struct kg_err err;

		assert_int_equal(eng_dn_parse(cases[i].dn, &n, &err), KG_OK);
		if (eng_issuer_is_amazon(n) != cases[i].want)
			fail_msg("case %zu: '%s': want %d", i, cases[i].dn,
			         cases[i].want);
		X509_NAME_free(n);
	}
}

/* x with its issuer name set to dn (the signature no longer verifies:
 * these rules never look at it) */
static X509 *reissued(X509 *x, const char *dn)
{
	X509_NAME *n = NULL;
	struct kg_err err;

	assert_int_equal(eng_dn_parse(dn, &n, &err), KG_OK);
	assert_int_equal(X509_set_issuer_name(x, n), 1);
	X509_NAME_free(n);
	return x;
}

/* the findings' codes, sorted by the table's order, comma-joined */
static const char *codes_of(const struct eng_findings *f, char *buf,
                            size_t cap)
{
	size_t i, j, at = 0;

	buf[0] = '\0';
	for (i = 0; i < eng_ncodes; i++)
		for (j = 0; j < f->n; j++)
			if (strcmp(f->v[j].code, eng_codes[i].code) == 0) {
				at += (size_t)snprintf(
				        buf + at, cap - at, "%s%s%s",
				        at ? "," : "", f->v[j].code,
				        f->v[j].sev == ENG_SEV_WARNING ? "(w)"
				                                       : "");
				break;
			}
	return buf;
}

static void test_rules(void **state)
{
	time_t now = time(NULL), day = 86400;
	EVP_PKEY *ck = fx_key("ec"), *ok = fx_key("ec"), *lk = fx_key("ec");
	X509 *ca = fx_cert(&(struct fx_cert){.cn = "Test CA",
	                                     .key = ck,
	                                     .ca = 1,
	                                     .not_after = now + 3650 * day});
	X509 *other =
	        fx_cert(&(struct fx_cert){.cn = "Other CA",
	                                  .key = ok,
	                                  .ca = 1,
	                                  .not_after = now + 3650 * day});
#define LEAF(CN, SAN, ISS, IK)                                                \
	fx_cert(&(struct fx_cert){.cn = (CN),                                 \
	                          .key = lk,                                  \
	                          .issuer = (ISS),                            \
	                          .ikey = (IK),                               \
	                          .san = (SAN),                               \
	                          .not_after = now + 365 * day})
	X509 *api = LEAF("api.example.com", "DNS:api.example.com", ca, ck);
	X509 *wild = LEAF("*.example.com", "DNS:*.example.com", ca, ck);
	X509 *multi =
	        LEAF("api.example.com",
	             "DNS:api.example.com,DNS:extra.example.org", ca, ck);
	X509 *cnonly = LEAF("api.example.com", NULL, ca, ck);
	X509 *nosan_other = LEAF("Just A Name", NULL, ca, ck);
	X509 *newca =
	        LEAF("api.example.com", "DNS:api.example.com", other, ok);
#undef LEAF
#define OWN(SAN, NB, NA)                                                      \
	reissued(fx_cert(&(struct fx_cert){.cn = "api.example.com",           \
	                                   .key = lk,                         \
	                                   .issuer = other,                   \
	                                   .ikey = ok,                        \
	                                   .san = (SAN),                      \
	                                   .not_before = (NB),                \
	                                   .not_after = (NA)}),               \
	         "CN=Amazon RSA 2048 M01,O=Amazon,C=US")
	X509 *own = OWN("DNS:api.example.com", now - day, now + 730 * day);
	X509 *ownwild = OWN("DNS:*.example.com", now - day, now + 730 * day);
	X509 *ownshort = OWN("DNS:api.example.com", now - day, now + 30 * day);
	X509 *ownold = OWN("DNS:api.example.com", now - 60 * day, now - day);
	X509 *ownlater =
	        OWN("DNS:api.example.com", now + day, now + 730 * day);
	X509 *ownnosan = OWN(NULL, now - day, now + 730 * day);
#undef OWN
	X509 *ownother =
	        fx_cert(&(struct fx_cert){.cn = "api.example.com",
	                                  .key = lk,
	                                  .issuer = other,
	                                  .ikey = ok,
	                                  .san = "DNS:api.example.com",
	                                  .not_after = now + 730 * day});
	const struct {
		X509 *cert, *old, *own;
		int own_given;
		const char *domain;
		const char *want; /* codes in table order; (w): a warning */
	} cases[] = {
	        /* passes */
	        {api, NULL, own, 1, "api.example.com", ""},
	        {api, NULL, own, 1, "API.EXAMPLE.COM", ""},
	        {wild, NULL, ownwild, 1, "a.example.com", ""},
	        {api, NULL, ownwild, 1, "api.example.com", ""},
	        {api, api, own, 1, "api.example.com", ""},
	        /* the domain not covered, wildcards one label deep */
	        {api, NULL, own, 1, "www.example.com",
	         "mtls-domain-not-covered"},
	        {wild, NULL, ownwild, 1, "example.com",
	         "mtls-domain-not-covered"},
	        {wild, NULL, ownwild, 1, "a.b.example.com",
	         "mtls-domain-not-covered"},
	        /* a CN covers the domain; with no DNS SAN the CN is what the
	         * ownership certificate must cover */
	        {cnonly, NULL, own, 1, "api.example.com", ""},
	        {nosan_other, NULL, own, 1, "api.example.com",
	         "mtls-domain-not-covered"},
	        /* the ownership certificate */
	        {api, NULL, NULL, 0, "api.example.com",
	         "mtls-ownership-missing(w)"},
	        {api, NULL, NULL, 1, "api.example.com", ""},
	        {multi, NULL, own, 1, "api.example.com",
	         "mtls-ownership-not-covered"},
	        {multi, NULL, ownwild, 1, "api.example.com",
	         "mtls-ownership-not-covered"},
	        {wild, NULL, own, 1, "api.example.com",
	         "mtls-ownership-not-covered"},
	        {api, NULL, ownnosan, 1, "api.example.com", ""},
	        {api, NULL, ownshort, 1, "api.example.com",
	         "mtls-ownership-expired(w)"},
	        {api, NULL, ownold, 1, "api.example.com",
	         "mtls-ownership-expired"},
	        {api, NULL, ownlater, 1, "api.example.com",
	         "mtls-ownership-expired"},
	        {api, NULL, ownother, 1, "api.example.com",
	         "mtls-ownership-not-acm(w)"},
	        {api, NULL, api, 1, "api.example.com",
	         "mtls-ownership-not-acm(w),mtls-ownership-reused"},
	        /* a reimport keeps the issuer */
	        {newca, api, own, 1, "api.example.com",
	         "mtls-reimport-issuer"},
	        {api, newca, own, 1, "api.example.com",
	         "mtls-reimport-issuer"},
	        {newca, newca, own, 1, "api.example.com", ""},
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct eng_mtls_domain_req r = {0};
		struct eng_findings f = {0};
		char got[512];
		size_t j;

		r.domain = cases[i].domain;
		r.cert = cases[i].cert;
		r.cert_name = "cert.pem";
		r.old = cases[i].old;
		r.ownership = cases[i].own;
		r.ownership_name = "own.pem";
		r.ownership_given = cases[i].own_given;
		r.at = now;
		eng_mtls_domain_rules(&r, &f);
		codes_of(&f, got, sizeof(got));
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu (%s): got '%s', want '%s'%s%s", i,
			         cases[i].domain, got, cases[i].want,
			         f.n ? ": " : "", f.n ? f.v[0].message : "");
		/* every finding names the domain and, where API Gateway
		 * takes it, the status it would show */
		for (j = 0; j < f.n; j++) {
			assert_non_null(
			        strstr(f.v[j].message, cases[i].domain));
			assert_non_null(f.v[j].hint);
			if (strcmp(f.v[j].code, "mtls-ownership-expired") == 0)
				assert_non_null(strstr(
				        f.v[j].message,
				        "PENDING_OWNERSHIP_VERIFICATION"));
			if (strstr(f.v[j].code, "covered") != NULL ||
			    strcmp(f.v[j].code, "mtls-reimport-issuer") == 0)
				assert_non_null(strstr(
				        f.v[j].message,
				        "PENDING_CERTIFICATE_REIMPORT"));
		}
		assert_int_equal(f.lost, 0);
		eng_findings_free(&f);
	}
	X509 *all[] = {ca,       other,       api,      wild,     multi,
	               cnonly,   nosan_other, newca,    own,      ownwild,
	               ownshort, ownold,      ownlater, ownnosan, ownother};
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		X509_free(all[i]);
	EVP_PKEY_free(ck);
	EVP_PKEY_free(ok);
	EVP_PKEY_free(lk);
}

/* eng_acm_check reaches the rules: --mtls-domain with an ownership input */
static void test_gate(void **state)
{
	time_t now = time(NULL);
	EVP_PKEY *k = fx_key("rsa2048");
	X509 *self = fx_cert(&(struct fx_cert){.cn = "api.example.com",
	                                       .key = k,
	                                       .san = "DNS:api.example.com"});
	X509 *l1[] = {self, NULL};
	static char c[8192], kp[8192];
	const struct {
		const char *domain, *own;
		enum kg_code rc;
		const char *want; /* a code among the findings, or NULL */
	} cases[] = {
	        {NULL, NULL, KG_OK, NULL},
	        {"api.example.com", NULL, KG_OK, "mtls-ownership-missing"},
	        {"api.example.com", c, KG_OK, "mtls-ownership-reused"},
	        {"www.example.com", c, KG_OK, "mtls-domain-not-covered"},
	        {"api.example.com", "garbage", KG_OK, "pem-invalid"},
	        {"not a domain", NULL, KG_E_USAGE, NULL},
	};
	size_t i, j;

	(void)state;
	fx_pem(l1, NULL, c, sizeof(c));
	fx_pem(NULL, k, kp, sizeof(kp));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct eng_acm_req r;
		struct eng_findings f = {0};
		struct kg_err err;
		int found = 0, mtls = 0;

		memset(&r, 0, sizeof(r));
		r.cert = (struct eng_input){
		        "cert.pem", (const unsigned char *)c, strlen(c), 0};
		r.key = (struct eng_input){
		        "key.pem", (const unsigned char *)kp, strlen(kp), 0};
		r.target = ENG_TARGET_ACM;
		r.at = now;
		r.mtls_domain = cases[i].domain;
		if (cases[i].own != NULL)
			r.ownership = (struct eng_input){
			        "own.pem", (const unsigned char *)cases[i].own,
			        strlen(cases[i].own), 0};
		assert_int_equal(eng_acm_check(&r, &f, &err), cases[i].rc);
		for (j = 0; j < f.n; j++) {
			found |= cases[i].want &&
			         strcmp(f.v[j].code, cases[i].want) == 0;
			mtls |= strncmp(f.v[j].code, "mtls-", 5) == 0;
		}
		if (cases[i].want != NULL && !found)
			fail_msg("case %zu: want %s", i, cases[i].want);
		if (cases[i].domain == NULL && mtls)
			fail_msg("case %zu: mtls findings without a domain",
			         i);
		eng_findings_free(&f);
	}
	X509_free(self);
	EVP_PKEY_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_covers),
	        cmocka_unit_test(test_domain_parse),
	        cmocka_unit_test(test_amazon),
	        cmocka_unit_test(test_rules),
	        cmocka_unit_test(test_gate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
