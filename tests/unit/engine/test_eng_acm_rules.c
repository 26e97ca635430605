/* engine/eng_acm_rules.c: the ACM import gate, one case per finding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <openssl/pem.h>

#include "engine/eng_gate.h"
#include "tests/unit/fx/fx.h"

static void in(struct eng_input *i, const char *name, const char *s)
{
	memset(i, 0, sizeof(*i));
	i->name = name;
	i->buf = (const unsigned char *)s;
	i->len = s ? strlen(s) : 0;
}

static void test_gate(void **state)
{
	time_t now = time(NULL);
	EVP_PKEY *rk = fx_key("rsa2048"), *ik = fx_key("rsa2048"),
	         *lk = fx_key("rsa2048"), *other = fx_key("rsa2048"),
	         *eck = fx_key("ec");
	X509 *root =
	        fx_cert(&(struct fx_cert){.cn = "Root", .key = rk, .ca = 1});
	X509 *in1 = fx_cert(&(struct fx_cert){
	        .cn = "Int", .key = ik, .issuer = root, .ikey = rk, .ca = 1});
	X509 *leaf = fx_cert(&(struct fx_cert){.cn = "api.example.com",
	                                       .key = lk,
	                                       .issuer = in1,
	                                       .ikey = ik,
	                                       .san = "DNS:api.example.com"});
	X509 *old = fx_cert(&(struct fx_cert){.cn = "api.example.com",
	                                      .key = lk,
	                                      .issuer = in1,
	                                      .ikey = ik,
	                                      .san = "DNS:api.example.com",
	                                      .not_after = now - 60});
	X509 *ecleaf = fx_cert(&(struct fx_cert){.cn = "ec.example.com",
	                                         .key = eck,
	                                         .issuer = in1,
	                                         .ikey = ik,
	                                         .san = "DNS:ec.example.com"});
	static char c1[8192], c2[8192], k1[8192], k2[8192], k3[8192],
	        ch1[16384], ch2[16384], c3[8192], c4[8192];
	X509 *l1[] = {leaf, NULL}, *l2[] = {old, NULL}, *l3[] = {ecleaf, NULL},
	     *two[] = {leaf, leaf, NULL}, *good[] = {in1, root, NULL},
	     *bad[] = {root, in1, NULL};
	const struct {
		const char *cert, *key, *chain;
		enum eng_target t;
		const char *want; /* NULL: passes */
	} cases[] = {
	        {fx_pem(l1, NULL, c1, sizeof(c1)),
	         fx_pem(NULL, lk, k1, sizeof(k1)),
	         fx_pem(good, NULL, ch1, sizeof(ch1)),
	         ENG_TARGET_ACM_INTEGRATED, NULL},
	        {c1, fx_pem(NULL, other, k2, sizeof(k2)), ch1,
	         ENG_TARGET_ACM_INTEGRATED, "key-mismatch"},
	        {c1, k1, NULL, ENG_TARGET_ACM_INTEGRATED, "chain-missing"},
	        {c1, k1, fx_pem(bad, NULL, ch2, sizeof(ch2)),
	         ENG_TARGET_ACM_INTEGRATED, "chain-order"},
	        {fx_pem(l2, NULL, c2, sizeof(c2)), k1, ch1,
	         ENG_TARGET_ACM_INTEGRATED, "cert-expired"},
	        {fx_pem(l3, NULL, c3, sizeof(c3)),
	         fx_pem(NULL, eck, k3, sizeof(k3)), ch1,
	         ENG_TARGET_ACM_INTEGRATED, "key-algorithm"},
	        {c3, k3, ch1, ENG_TARGET_ACM, NULL},
	        {fx_pem(two, NULL, c4, sizeof(c4)), k1, ch1,
	         ENG_TARGET_ACM_INTEGRATED, "cert-multiple"},
	        {"not pem", k1, ch1, ENG_TARGET_ACM_INTEGRATED, "pem-invalid"},
	};
	size_t i, j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct eng_acm_req r;
		struct eng_findings f = {0};
		struct kg_err err;
		int found = 0;

		memset(&r, 0, sizeof(r));
		in(&r.cert, "cert.pem", cases[i].cert);
		in(&r.key, "key.pem", cases[i].key);
		in(&r.chain, cases[i].chain ? "chain.pem" : NULL,
		   cases[i].chain);
		if (cases[i].chain == NULL)
			r.chain.buf = NULL;
		r.target = cases[i].t;
		r.at = now;
		assert_int_equal(eng_acm_check(&r, &f, &err), KG_OK);
		for (j = 0; j < f.n; j++)
			found |= cases[i].want &&
			         strcmp(f.v[j].code, cases[i].want) == 0;
		if (cases[i].want == NULL && eng_findings_errors(&f) != 0)
			fail_msg("case %zu: want a pass, got %s: %s", i,
			         f.v[0].code, f.v[0].message);
		if (cases[i].want != NULL && !found)
			fail_msg("case %zu: want %s, got %zu findings%s%s", i,
			         cases[i].want, f.n, f.n ? ", first " : "",
			         f.n ? f.v[0].code : "");
		eng_findings_free(&f);
	}
	X509 *all[] = {root, in1, leaf, old, ecleaf};
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		X509_free(all[i]);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(lk);
	EVP_PKEY_free(other);
	EVP_PKEY_free(eck);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_gate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
