/* Requests and certificates from software keys: the engine's own path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "engine/eng.h"
#include "engine/eng_gate.h"

static EVP_PKEY *rsa, *ec;

static int setup(void **state)
{
	rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	return rsa && ec ? 0 : -1;
}

static int teardown(void **state)
{
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	return 0;
}

static void test_csr_copies_cn(void **state)
{
	X509_NAME *n = NULL;
	X509_REQ *req = NULL;
	struct kg_err err;
	struct eng_request r = {0};
	STACK_OF(X509_EXTENSION) * exts;
	GENERAL_NAMES *g;
	int i;

	assert_int_equal(eng_dn_parse("CN=api.example.com,O=Ex", &n, &err),
	                 KG_OK);
	r.subject = n;
	assert_int_equal(eng_digest(NULL, &r.md, &err), KG_OK);
	assert_int_equal(eng_csr_build(&r, ec, &req, &err), KG_OK);
	assert_int_equal(X509_REQ_verify(req, ec), 1);
	exts = X509_REQ_get_extensions(req);
	i = X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1);
	assert_true(i >= 0);
	g = X509V3_EXT_d2i(X509v3_get_ext(exts, i));
	assert_int_equal(sk_GENERAL_NAME_num(g), 1);
	GENERAL_NAMES_free(g);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(req);
	X509_NAME_free(n);
}

static void test_selfsign_profiles(void **state)
{
	static const struct {
		enum eng_profile p;
		int ca, eku_nid;
		const char *digest;
		int signid;
	} cases[] = {
	        {ENG_PROFILE_SERVER, 0, NID_server_auth, "sha256",
	         NID_sha256WithRSAEncryption},
	        {ENG_PROFILE_CLIENT, 0, NID_client_auth, "sha384",
	         NID_sha384WithRSAEncryption},
	        {ENG_PROFILE_CA, 1, NID_undef, "sha512",
	         NID_sha512WithRSAEncryption},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		X509_NAME *n = NULL;
		X509 *x = NULL;
		struct kg_err err;
		struct eng_request r = {0};
		EXTENDED_KEY_USAGE *eku;
		const ASN1_INTEGER *serial;
		time_t now = 1767225600; /* 2026-01-01 */

		assert_int_equal(eng_dn_parse("CN=t.example", &n, &err),
		                 KG_OK);
		r.subject = n;
		assert_int_equal(eng_digest(cases[i].digest, &r.md, &err),
		                 KG_OK);
		assert_int_equal(eng_cert_selfsign(&r, cases[i].p, 365, now,
		                                   rsa, &x, &err),
		                 KG_OK);
		assert_int_equal(X509_get_version(x), X509_VERSION_3);
		assert_int_equal(X509_verify(x, rsa), 1);
		assert_int_equal(X509_check_ca(x) != 0, cases[i].ca);
		assert_int_equal(X509_get_signature_nid(x), cases[i].signid);
		assert_int_equal(
		        X509_cmp_time(X509_get0_notAfter(x),
		                      &(time_t){now + 365 * 86400 + 1}),
		        -1);
		serial = X509_get0_serialNumber(x);
		assert_int_equal(ASN1_STRING_length(serial) >= 16, 1);
		eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
		if (cases[i].eku_nid == NID_undef) {
			assert_null(eku);
		} else {
			assert_int_equal(
			        OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)),
			        cases[i].eku_nid);
			EXTENDED_KEY_USAGE_free(eku);
		}
		assert_non_null(X509_get0_subject_key_id(x));
		X509_free(x);
		X509_NAME_free(n);
	}
}

static void test_bad_days_and_digest(void **state)
{
	X509_NAME *n = NULL;
	X509 *x = NULL;
	struct kg_err err;
	struct eng_request r = {0};
	enum eng_profile p;

	assert_int_equal(eng_digest("md5", &r.md, &err), KG_E_USAGE);
	assert_int_equal(eng_digest("sha1", &r.md, &err), KG_E_USAGE);
	assert_int_equal(eng_profile_parse("root", &p, &err), KG_E_USAGE);
	assert_int_equal(eng_profile_parse("intermediate", &p, &err), KG_OK);
	assert_int_equal(p, ENG_PROFILE_INTERMEDIATE);
	assert_int_equal(eng_dn_parse("CN=x", &n, &err), KG_OK);
	r.subject = n;
	assert_int_equal(eng_digest("sha256", &r.md, &err), KG_OK);
	assert_int_equal(eng_cert_selfsign(&r, ENG_PROFILE_SERVER, 0,
	                                   time(NULL), ec, &x, &err),
	                 KG_E_USAGE);
	assert_null(x);
	/* an intermediate is issued by a CA, never self-signed */
	assert_int_equal(eng_cert_selfsign(&r, ENG_PROFILE_INTERMEDIATE, 365,
	                                   time(NULL), ec, &x, &err),
	                 KG_E_USAGE);
	assert_null(x);
	X509_NAME_free(n);
}

/* A CA certificate for key, self-signed, valid from nb for days. */
static X509 *make_ca(EVP_PKEY *key, enum eng_profile p, time_t nb, int days)
{
	unsigned char *der = NULL;
	const unsigned char *p8;
	int len;
	struct eng_request r = {0};
	X509_NAME *n = NULL;
	X509 *x = NULL;
	struct kg_err err;

	assert_int_equal(eng_dn_parse("CN=Unit CA", &n, &err), KG_OK);
	r.subject = n;
	r.md = EVP_sha256();
	assert_int_equal(eng_cert_selfsign(&r, p, days, nb, key, &x, &err),
	                 KG_OK);
	X509_NAME_free(n);
	/* as cert sign gets it: from a file */
	len = i2d_X509(x, &der);
	assert_true(len > 0);
	X509_free(x);
	p8 = der;
	x = d2i_X509(NULL, &p8, len);
	assert_non_null(x);
	OPENSSL_free(der);
	return x;
}

/* A request for key; with flip, one byte of its subject changed. */
static struct eng_csr *make_csr(EVP_PKEY *key, const char *cn, int flip)
{
	struct eng_csr *c = NULL;
	unsigned char *der = NULL;
	int len;
	struct eng_request r = {0};
	X509_NAME *n = NULL;
	X509_REQ *req = NULL;
	struct kg_err err;

	assert_int_equal(eng_dn_parse(cn, &n, &err), KG_OK);
	r.subject = n;
	r.md = EVP_sha256();
	assert_int_equal(eng_csr_build(&r, key, &req, &err), KG_OK);
	X509_NAME_free(n);
	/* as cert sign gets it: from the wire */
	len = i2d_X509_REQ(req, &der);
	assert_true(len > 0);
	X509_REQ_free(req);
	if (flip) {
		unsigned char *at = memmem(der, (size_t)len, "leaf", 4);

		assert_non_null(at);
		at[0] = 'l' ^ 'L' ^ at[0]; /* "Leaf": signature now broken */
	}
	assert_int_equal(eng_csr_parse(der, (size_t)len, "t", &c, &err),
	                 KG_OK);
	OPENSSL_free(der);
	return c;
}

/* The CA-level checks a batch makes once, and the issue that relies on
 * them: each refusal named, and ca_checked skipping only those. */
static void test_issuer_checks(void **state)
{
	time_t now = 1795359600; /* 2026-11-22 */
	X509 *ca = make_ca(ec, ENG_PROFILE_CA, now - 86400, 30);
	X509 *leafca = make_ca(rsa, ENG_PROFILE_SERVER, now - 86400, 30);
	X509 *old = make_ca(ec, ENG_PROFILE_CA, now - 40 * 86400, 30);
	struct eng_csr *csr = make_csr(rsa, "CN=leaf.example.com", 0);
	struct eng_csr *broken = make_csr(rsa, "CN=leaf.example.com", 1);
	struct eng_issue in = {0};
	struct kg_err err;
	X509 *x = NULL;
	int capped = 0;

	in.csr = csr;
	in.ca_cert = ca;
	in.ca_key = ec;
	in.profile = ENG_PROFILE_SERVER;
	in.days = 365;
	in.now = now;
	in.md = EVP_sha256();
	in.capped = &capped;
	assert_int_equal(eng_issuer_check(&in, &err), KG_OK);
	assert_int_equal(eng_cert_issue(&in, &x, &err), KG_OK);
	assert_int_equal(X509_verify(x, ec), 1);
	assert_int_equal(capped, 1); /* 365 days cut at the CA's 29 left */
	X509_free(x);

	in.ca_key = rsa; /* not the certificate's key */
	assert_int_equal(eng_issuer_check(&in, &err), KG_REFUSED);
	assert_non_null(strstr(err.msg, "not the CA certificate's key"));
	assert_int_equal(eng_cert_issue(&in, &x, &err), KG_REFUSED);
	assert_null(x);

	in.ca_cert = leafca; /* CA:FALSE */
	assert_int_equal(eng_issuer_check(&in, &err), KG_REFUSED);
	assert_non_null(strstr(err.msg, "is not a CA"));

	in.ca_cert = old; /* expired ten days ago */
	in.ca_key = ec;
	assert_int_equal(eng_issuer_check(&in, &err), KG_REFUSED);
	assert_non_null(strstr(err.msg, "not valid now"));

	in.ca_cert = ca;
	in.profile = ENG_PROFILE_CA; /* roots are self-signed */
	assert_int_equal(eng_issuer_check(&in, &err), KG_E_USAGE);

	/* ca_checked: the per-request checks still run */
	in.profile = ENG_PROFILE_SERVER;
	in.ca_checked = 1;
	in.csr = broken;
	assert_int_equal(eng_cert_issue(&in, &x, &err), KG_REFUSED);
	assert_non_null(strstr(err.msg, "does not verify"));
	assert_null(x);

	eng_csr_free(csr);
	eng_csr_free(broken);
	X509_free(old);
	X509_free(leafca);
	X509_free(ca);
}

/* eng_csr_parse: PEM (both labels) and DER in, everything else out. */
static void test_csr_forms(void **state)
{
	EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	X509_REQ *req = X509_REQ_new();
	X509_NAME *n = X509_NAME_new();
	unsigned char *der = NULL, *der2;
	struct eng_csr *c = NULL;
	struct kg_err err;
	char *pem;
	BIO *b = BIO_new(BIO_s_mem());
	size_t plen;
	int len;

	/* a well-formed Ed25519 request: parsed, its key kept */
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	                           (unsigned char *)"ed.example", -1, -1, 0);
	X509_REQ_set_subject_name(req, n);
	X509_REQ_set_pubkey(req, ed);
	assert_true(X509_REQ_sign(req, ed, NULL) > 0);
	len = i2d_X509_REQ(req, &der);
	assert_true(len > 0);
	assert_int_equal(eng_csr_parse(der, (size_t)len, "ed.der", &c, &err),
	                 KG_OK);
	assert_true(EVP_PKEY_is_a(eng_csr_pubkey(c), "ED25519"));
	eng_csr_free(c);
	c = NULL;
	OPENSSL_free(der);
	der = NULL;
	/* one for an X25519 key (it cannot sign): refused for its key */
	{
		EVP_PKEY *x = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");

		X509_REQ_set_pubkey(req, x);
		assert_true(X509_REQ_sign(req, ed, NULL) > 0);
		len = i2d_X509_REQ(req, &der);
		assert_int_equal(
		        eng_csr_parse(der, (size_t)len, "x.der", &c, &err),
		        KG_REFUSED);
		assert_null(c);
		assert_non_null(strstr(err.msg, "Ed25519 and Ed448 only"));
		OPENSSL_free(der);
		der = NULL;
		EVP_PKEY_free(x);
	}

	/* an EC one: DER, PEM, the old PEM label; trailing bytes refused */
	X509_REQ_set_pubkey(req, ec);
	assert_true(X509_REQ_sign(req, ec, EVP_sha256()) > 0);
	len = i2d_X509_REQ(req, &der);
	assert_int_equal(eng_csr_parse(der, (size_t)len, "r.der", &c, &err),
	                 KG_OK);
	assert_true(eng_csr_verify(c));
	assert_int_equal(X509_NAME_cmp(eng_csr_subject(c), n), 0);
	assert_null(eng_csr_extensions(c));
	eng_csr_free(c);
	der2 = OPENSSL_malloc((size_t)len + 1);
	memcpy(der2, der, (size_t)len);
	der2[len] = 0;
	assert_int_equal(
	        eng_csr_parse(der2, (size_t)len + 1, "r.der", &c, &err),
	        KG_REFUSED);
	OPENSSL_free(der2);
	PEM_write_bio_X509_REQ(b, req);
	pem = eng_bio_str(b, &plen);
	assert_int_equal(
	        eng_csr_parse((unsigned char *)pem, plen, "r.pem", &c, &err),
	        KG_OK);
	eng_csr_free(c);
	BIO_reset(b);
	PEM_write_bio_X509_REQ_NEW(b, req);
	OPENSSL_free(pem);
	pem = eng_bio_str(b, &plen);
	assert_non_null(strstr(pem, "NEW CERTIFICATE REQUEST"));
	assert_int_equal(
	        eng_csr_parse((unsigned char *)pem, plen, "new.pem", &c, &err),
	        KG_OK);
	eng_csr_free(c);
	assert_int_equal(
	        eng_csr_parse((unsigned char *)"garbage", 7, "g", &c, &err),
	        KG_REFUSED);
	assert_non_null(strstr(err.msg, "holds no certificate request"));
	/* a certificate is not a request */
	assert_int_equal(
	        eng_csr_parse((unsigned char *)"", 0, "empty", &c, &err),
	        KG_REFUSED);
	OPENSSL_free(pem);
	OPENSSL_free(der);
	BIO_free(b);
	X509_NAME_free(n);
	X509_REQ_free(req);
	EVP_PKEY_free(ed);
}

/* --sig-alg, and RSASSA-PSS signatures by a software key: salt = |md| */
static void test_sig_alg(void **state)
{
	static const struct {
		const char *in;
		enum kg_code rc;
		int pss;
	} cases[] = {
	        {NULL, KG_OK, 0},          {"pkcs1", KG_OK, 0},
	        {"RSA-PSS", KG_OK, 1},     {"pss", KG_OK, 1},
	        {"pss256", KG_E_USAGE, 0}, {"", KG_E_USAGE, 0},
	};
	EVP_PKEY *k_rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *k_ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	struct eng_request r = {0};
	X509_NAME *n = X509_NAME_new();
	X509_REQ *req = NULL;
	struct kg_err err;
	size_t i;
	int pss;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pss = -1;
		assert_int_equal(eng_sig_alg_parse(cases[i].in, &pss, &err),
		                 cases[i].rc);
		if (cases[i].rc == KG_OK)
			assert_int_equal(pss, cases[i].pss);
	}
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	                           (unsigned char *)"pss.example", -1, -1, 0);
	r.subject = n;
	r.md = EVP_sha384();
	r.pss = 1;
	assert_int_equal(eng_csr_build(&r, k_rsa, &req, &err), KG_OK);
	{
		const X509_ALGOR *alg;
		const ASN1_OBJECT *o;

		X509_REQ_get0_signature(req, NULL, &alg);
		X509_ALGOR_get0(&o, NULL, NULL, alg);
		assert_int_equal(OBJ_obj2nid(o), NID_rsassaPss);
		assert_int_equal(X509_REQ_verify(req, k_rsa), 1);
	}
	X509_REQ_free(req);
	req = NULL;
	/* not for an EC key */
	assert_int_equal(eng_csr_build(&r, k_ec, &req, &err), KG_E_USAGE);
	assert_non_null(strstr(err.msg, "needs an RSA key, not EC P-256"));
	assert_null(req);
	X509_NAME_free(n);
	EVP_PKEY_free(k_rsa);
	EVP_PKEY_free(k_ec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_sig_alg),
	        cmocka_unit_test(test_csr_copies_cn),
	        cmocka_unit_test(test_selfsign_profiles),
	        cmocka_unit_test(test_bad_days_and_digest),
	        cmocka_unit_test(test_issuer_checks),
	        cmocka_unit_test(test_csr_forms),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
