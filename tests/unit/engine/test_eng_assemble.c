/* engine/eng_assemble.c: bundle assemble finds, orders and re-encodes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/pem.h>

#include "engine/eng_gate.h"
#include "tests/unit/fx/fx.h"

/* the subjects of the certificates in pem, as "A,B," */
static void subjects(const char *pem, char *out, size_t cap)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	X509 *x;

	out[0] = '\0';
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		char cn[64];

		X509_NAME_get_text_by_NID(X509_get_subject_name(x),
		                          NID_commonName, cn, sizeof(cn));
		strncat(out, cn, cap - strlen(out) - 2);
		strncat(out, ",", cap - strlen(out) - 1);
		X509_free(x);
	}
	BIO_free(b);
}

static void in(struct eng_input *i, const char *name, const char *s)
{
	memset(i, 0, sizeof(*i));
	i->name = name;
	i->buf = (const unsigned char *)s;
	i->len = strlen(s);
}

static void test_order(void **state)
{
	EVP_PKEY *rk = fx_key("rsa2048"), *ik = fx_key("rsa2048"),
	         *lk = fx_key("rsa2048"), *ok = fx_key("ec");
	X509 *root =
	        fx_cert(&(struct fx_cert){.cn = "Root", .key = rk, .ca = 1});
	X509 *inter = fx_cert(&(struct fx_cert){
	        .cn = "Int", .key = ik, .issuer = root, .ikey = rk, .ca = 1});
	X509 *leaf = fx_cert(&(struct fx_cert){.cn = "api.example.com",
	                                       .key = lk,
	                                       .issuer = inter,
	                                       .ikey = ik,
	                                       .san = "DNS:api.example.com"});
	X509 *other =
	        fx_cert(&(struct fx_cert){.cn = "Other", .key = ok, .ca = 1});
	/* the leaf and its key in one file; the chain shuffled, with an
	 * unrelated root and the leaf again */
	X509 *c1[] = {leaf, NULL}, *c2[] = {root, other, leaf, inter, NULL};
	char cert[8192], chain[16384], names[256];
	char *co = NULL, *ko = NULL, *cho = NULL;
	struct eng_acm_req r;
	struct eng_findings f = {0};
	struct kg_err err;
	EVP_PKEY *back;
	BIO *kb;

	fx_pem(c1, lk, cert, sizeof(cert));
	fx_pem(c2, NULL, chain, sizeof(chain));
	memset(&r, 0, sizeof(r));
	in(&r.cert, "in.pem", cert);
	in(&r.key, "in.pem", cert);
	in(&r.chain, "chain.pem", chain);
	r.target = ENG_TARGET_ACM_INTEGRATED;
	r.at = time(NULL);
	assert_int_equal(eng_acm_assemble(&r, &co, &ko, &cho, &f, &err),
	                 KG_OK);
	if (eng_findings_errors(&f) != 0)
		fail_msg("assembled bundle fails: %s %s", f.v[0].code,
		         f.v[0].message);
	subjects(co, names, sizeof(names));
	assert_string_equal(names, "api.example.com,");
	subjects(cho, names, sizeof(names));
	assert_string_equal(names, "Int,Root,");
	kb = BIO_new_mem_buf(ko, -1);
	back = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
	assert_non_null(back);
	assert_int_equal(EVP_PKEY_eq(back, lk), 1);
	assert_non_null(strstr(ko, "-----BEGIN PRIVATE KEY-----"));
	EVP_PKEY_free(back);
	BIO_free(kb);
	OPENSSL_free(co);
	OPENSSL_clear_free(ko, strlen(ko));
	OPENSSL_free(cho);
	eng_findings_free(&f);
	X509_free(root);
	X509_free(inter);
	X509_free(leaf);
	X509_free(other);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(lk);
	EVP_PKEY_free(ok);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
