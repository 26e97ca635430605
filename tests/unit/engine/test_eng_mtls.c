/* engine/eng_mtls.c: API Gateway's mTLS decision, one case per reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "engine/eng_trust.h"
#include "tests/unit/fx/fx.h"

static void test_reasons(void **state)
{
	time_t now = time(NULL);
	EVP_PKEY *rk = fx_key("ec"), *ik = fx_key("ec"), *lk = fx_key("ec"),
	         *other = fx_key("ec"), *weak = fx_key("rsa1024");
	X509 *root =
	        fx_cert(&(struct fx_cert){.cn = "Root", .key = rk, .ca = 1});
	X509 *in1 = fx_cert(&(struct fx_cert){
	        .cn = "I1", .key = ik, .issuer = root, .ikey = rk, .ca = 1});
	X509 *in2 = fx_cert(&(struct fx_cert){
	        .cn = "I2", .key = ik, .issuer = in1, .ikey = ik, .ca = 1});
	X509 *in3 = fx_cert(&(struct fx_cert){
	        .cn = "I3", .key = ik, .issuer = in2, .ikey = ik, .ca = 1});
	X509 *leaf = fx_cert(&(struct fx_cert){
	        .cn = "Leaf", .key = lk, .issuer = root, .ikey = rk});
	X509 *deep = fx_cert(&(struct fx_cert){
	        .cn = "Deep", .key = lk, .issuer = in3, .ikey = ik});
	X509 *three = fx_cert(&(struct fx_cert){
	        .cn = "Three", .key = lk, .issuer = in2, .ikey = ik});
	X509 *old = fx_cert(&(struct fx_cert){.cn = "Old",
	                                      .key = lk,
	                                      .issuer = root,
	                                      .ikey = rk,
	                                      .not_after = now - 86400});
	X509 *early = fx_cert(&(struct fx_cert){.cn = "Early",
	                                        .key = lk,
	                                        .issuer = root,
	                                        .ikey = rk,
	                                        .not_before = now + 86400});
	X509 *forged = fx_cert(&(struct fx_cert){
	        .cn = "Forged", .key = lk, .issuer = root, .ikey = other});
	X509 *stranger =
	        fx_cert(&(struct fx_cert){.cn = "Stranger", .key = other});
	X509 *weakleaf = fx_cert(&(struct fx_cert){
	        .cn = "Weak", .key = weak, .issuer = root, .ikey = rk});
	const struct {
		X509 *sent[4];
		int n;
		const char *reason; /* NULL: allow */
	} cases[] = {
	        {{leaf}, 1, NULL},
	        {{three, in2, in1}, 3, NULL}, /* four with the root */
	        {{deep, in3, in2, in1}, 4, "chain-too-long"},
	        {{old}, 1, "expired"},
	        {{early}, 1, "not-yet-valid"},
	        {{forged}, 1, "bad-signature"},
	        {{stranger}, 1, "untrusted"},
	        {{weakleaf}, 1, "unsupported-algorithm"},
	};
	STACK_OF(X509) *ts = sk_X509_new_null();
	size_t i;
	int k;

	sk_X509_push(ts, root);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		STACK_OF(X509) *sent = sk_X509_new_null();
		struct eng_mtls_res res;
		struct kg_err err;

		for (k = 0; k < cases[i].n; k++)
			sk_X509_push(sent, cases[i].sent[k]);
		assert_int_equal(eng_mtls_check(ts, sent, now, &res, &err),
		                 KG_OK);
		if (cases[i].reason == NULL) {
			if (!res.allow)
				fail_msg("case %zu: denied: %s %s", i,
				         res.reason, res.detail);
			assert_int_equal(res.status, 200);
		} else {
			assert_int_equal(res.allow, 0);
			assert_int_equal(res.status, 403);
			if (res.reason == NULL ||
			    strcmp(res.reason, cases[i].reason) != 0)
				fail_msg("case %zu: want %s, got %s (%s)", i,
				         cases[i].reason,
				         res.reason ? res.reason : "-",
				         res.detail);
		}
		eng_mtls_res_free(&res);
		sk_X509_free(sent);
	}
	sk_X509_free(ts);
	X509 *all[] = {root,  in1, in2,   in3,    leaf,     deep,
	               three, old, early, forged, stranger, weakleaf};
	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		X509_free(all[i]);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(lk);
	EVP_PKEY_free(other);
	EVP_PKEY_free(weak);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_reasons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
