/* engine/eng_policy.c: algorithm floors and keygate's rules on a path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "engine/eng_policy.h"
#include "engine/eng_trust.h"
#include "tests/unit/fx/fx.h"

static void test_floors(void **state)
{
	EVP_PKEY *ec = fx_key("ec"), *r1 = fx_key("rsa1024"),
	         *r2 = fx_key("rsa2048");
	const struct {
		EVP_PKEY *k;
		const char *md;
		int weak_sig, weak_key;
	} cases[] = {
	        {ec, "sha256", 0, 0}, {r2, "sha256", 0, 0},
	        {r1, "sha256", 0, 1}, {ec, "sha1", 1, 0},
	        {r1, "sha1", 1, 1},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		X509 *x = fx_cert(&(struct fx_cert){
		        .cn = "x", .key = cases[i].k, .md = cases[i].md});

		assert_int_equal(eng_weak_signature(x) != NULL,
		                 cases[i].weak_sig);
		assert_int_equal(eng_weak_key(x) != NULL, cases[i].weak_key);
		X509_free(x);
	}
	EVP_PKEY_free(ec);
	EVP_PKEY_free(r1);
	EVP_PKEY_free(r2);
}

/* a well-formed root -> leaf path passes the RFC 5280 and web PKI rules */
static void test_rules(void **state)
{
	EVP_PKEY *rk = fx_key("ec"), *lk = fx_key("ec");
	X509 *root =
	        fx_cert(&(struct fx_cert){.cn = "Root", .key = rk, .ca = 1});
	X509 *leaf = fx_cert(&(struct fx_cert){.cn = "www.example.com",
	                                       .key = lk,
	                                       .issuer = root,
	                                       .ikey = rk,
	                                       .san = "DNS:www.example.com"});
	STACK_OF(X509) *path = sk_X509_new_null();
	char why[256] = "";

	sk_X509_push(path, leaf);
	sk_X509_push(path, root);
	if (!eng_rfc5280_rules(path, why, sizeof(why)))
		fail_msg("rfc5280: %s", why);
	assert_int_equal(eng_crl_rules(NULL, why, sizeof(why)), 1);
	sk_X509_free(path);
	X509_free(root);
	X509_free(leaf);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(lk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_floors),
	        cmocka_unit_test(test_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
