/* engine/eng_lint.c: truststore lint, one case per finding code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "engine/eng_trust.h"
#include "tests/unit/fx/fx.h"

static EVP_PKEY *ec, *ec2, *rsa1024;
static X509 *root;

static int setup(void **state)
{
	(void)state;
	ec = fx_key("ec");
	ec2 = fx_key("ec");
	rsa1024 = fx_key("rsa1024");
	root = fx_cert(&(struct fx_cert){.cn = "Root", .key = ec, .ca = 1});
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	X509_free(root);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ec2);
	EVP_PKEY_free(rsa1024);
	return 0;
}

/* the codes lint found for certs, as " code code " */
static void lint(X509 **certs, int n, char *codes, size_t cap)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	struct eng_findings f = {0};
	size_t i;
	int k;

	for (k = 0; k < n; k++)
		sk_X509_push(sk, certs[k]);
	eng_ts_lint(sk, "ts.pem", time(NULL), &f);
	snprintf(codes, cap, " ");
	for (i = 0; i < f.n; i++) {
		strncat(codes, f.v[i].code, cap - strlen(codes) - 2);
		strncat(codes, " ", cap - strlen(codes) - 1);
	}
	assert_int_equal(f.lost, 0);
	eng_findings_free(&f);
	sk_X509_free(sk);
}

static void test_codes(void **state)
{
	time_t now = time(NULL);
	X509 *expired = fx_cert(&(struct fx_cert){
	        .cn = "Old", .key = ec2, .ca = 1, .not_after = now - 86400});
	X509 *future = fx_cert(&(struct fx_cert){.cn = "Future",
	                                         .key = ec2,
	                                         .ca = 1,
	                                         .not_before = now + 86400});
	X509 *sha1 = fx_cert(&(struct fx_cert){
	        .cn = "Sha1", .key = ec2, .ca = 1, .md = "sha1"});
	X509 *weak = fx_cert(
	        &(struct fx_cert){.cn = "Weak", .key = rsa1024, .ca = 1});
	X509 *leaf = fx_cert(&(struct fx_cert){
	        .cn = "Leaf", .key = ec2, .issuer = root, .ikey = ec});
	X509 *orphan = fx_cert(&(struct fx_cert){
	        .cn = "Orphan",
	        .key = ec2,
	        .issuer = expired,
	        .ikey = ec,
	        .ca = 1}); /* names Old, signed by another key */
	const struct {
		X509 *certs[3];
		int n;
		const char *want, *not ;
	} cases[] = {
	        {{root}, 1, NULL, " ts-"},
	        {{expired}, 1, " ts-expired ", NULL},
	        {{future}, 1, " ts-not-yet-valid ", NULL},
	        {{sha1}, 1, " ts-weak-signature ", NULL},
	        {{weak}, 1, " ts-weak-key ", NULL},
	        {{root, leaf}, 2, " ts-not-ca ", " ts-chain-incomplete "},
	        {{leaf}, 1, " ts-chain-incomplete ", NULL},
	        {{root, root}, 2, " ts-duplicate ", NULL},
	        {{expired, orphan}, 2, " ts-signature ", NULL},
	        {{NULL}, 0, " ts-empty ", NULL},
	};
	char codes[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		lint((X509 **)cases[i].certs, cases[i].n, codes,
		     sizeof(codes));
		if (cases[i].want != NULL &&
		    strstr(codes, cases[i].want) == NULL)
			fail_msg("case %zu: want%sgot%s", i, cases[i].want,
			         codes);
		if (cases[i].not != NULL &&
		    strstr(codes, cases[i].not ) != NULL)
			fail_msg("case %zu: not%sgot%s", i, cases[i].not,
			         codes);
	}
	X509_free(expired);
	X509_free(future);
	X509_free(sha1);
	X509_free(weak);
	X509_free(leaf);
	X509_free(orphan);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_codes),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
