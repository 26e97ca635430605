/* CRLs from software keys: reasons, entries, numbers, AKI, refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include <openssl/x509v3.h>

#include "engine/eng.h"
#include "tests/unit/fx/fx.h"

static EVP_PKEY *ca_key, *rsa_key, *other_key;
static X509 *ca, *rsa_ca, *leaf;

static int setup(void **state)
{
	struct fx_cert c = {0};

	ca_key = fx_key("ec");
	rsa_key = fx_key("rsa2048");
	other_key = fx_key("ec");
	c.cn = "Test CA";
	c.key = ca_key;
	c.ca = 1;
	ca = fx_cert(&c);
	c.cn = "RSA CA";
	c.key = rsa_key;
	rsa_ca = fx_cert(&c);
	c.cn = "leaf";
	c.key = other_key;
	c.ca = 0;
	c.issuer = ca;
	c.ikey = ca_key;
	leaf = fx_cert(&c);
	return 0;
}

static int teardown(void **state)
{
	X509_free(ca);
	X509_free(rsa_ca);
	X509_free(leaf);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(other_key);
	return 0;
}

static void test_reasons(void **state)
{
	static const struct {
		const char *in;
		enum kg_code want;
		int code;
		const char *name;
	} cases[] = {
	        {NULL, KG_OK, CRL_REASON_UNSPECIFIED, "unspecified"},
	        {"unspecified", KG_OK, CRL_REASON_UNSPECIFIED, "unspecified"},
	        {"keyCompromise", KG_OK, CRL_REASON_KEY_COMPROMISE,
	         "keyCompromise"},
	        {"KEYCOMPROMISE", KG_OK, CRL_REASON_KEY_COMPROMISE,
	         "keyCompromise"},
	        {"CACompromise", KG_OK, CRL_REASON_CA_COMPROMISE,
	         "cACompromise"},
	        {"affiliationChanged", KG_OK, CRL_REASON_AFFILIATION_CHANGED,
	         "affiliationChanged"},
	        {"superseded", KG_OK, CRL_REASON_SUPERSEDED, "superseded"},
	        {"cessationOfOperation", KG_OK,
	         CRL_REASON_CESSATION_OF_OPERATION, "cessationOfOperation"},
	        {"privilegeWithdrawn", KG_OK, CRL_REASON_PRIVILEGE_WITHDRAWN,
	         "privilegeWithdrawn"},
	        {"certificateHold", KG_E_USAGE, 0, NULL},
	        {"removeFromCRL", KG_E_USAGE, 0, NULL},
	        {"", KG_E_USAGE, 0, NULL},
	        {"key compromise", KG_E_USAGE, 0, NULL},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kg_err err;
		int code = -99;

		assert_int_equal(
		        eng_crl_reason_parse(cases[i].in, &code, &err),
		        cases[i].want);
		if (cases[i].want != KG_OK)
			continue;
		assert_int_equal(code, cases[i].code);
		assert_string_equal(eng_crl_reason_name(code), cases[i].name);
	}
	assert_null(eng_crl_reason_name(CRL_REASON_CERTIFICATE_HOLD));
}

/* An ASN1_TIME as seconds since the epoch (-1 if it does not parse). */
static long long secs(const ASN1_TIME *t)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(t, &tm))
		return -1;
	return (long long)timegm(&tm);
}

/* The reason code of entry r, or -1 without the extension. */
static int entry_reason(X509_REVOKED *r)
{
	ASN1_ENUMERATED *e =
	        X509_REVOKED_get_ext_d2i(r, NID_crl_reason, NULL, NULL);
	int v = e ? (int)ASN1_ENUMERATED_get(e) : -1;

	ASN1_ENUMERATED_free(e);
	return v;
}

static void test_build(void **state)
{
	static const struct eng_crl_entry two[] = {
	        {"FF01", CRL_REASON_KEY_COMPROMISE, 1700000000},
	        {"1A", CRL_REASON_UNSPECIFIED, 1700000100},
	};
	static const struct {
		const char *what;
		int rsa;
		const struct eng_crl_entry *e;
		size_t n;
		unsigned long long number;
		int days, pss;
	} cases[] = {
	        {"empty, EC", 0, NULL, 0, 1, 30, 0},
	        {"two entries, EC", 0, two, 2, 7, 1, 0},
	        {"RSA-PSS", 1, two, 2, 4294967296ull, 365, 1},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct eng_crl_req r = {0};
		X509_CRL *crl = NULL;
		STACK_OF(X509_REVOKED) * rev;
		ASN1_INTEGER *num;
		AUTHORITY_KEYID *akid;
		struct kg_err err;
		uint64_t got;
		time_t t0 = 1750000000;
		char *pem = NULL;
		size_t plen = 0;

		r.ca_cert = cases[i].rsa ? rsa_ca : ca;
		r.ca_key = cases[i].rsa ? rsa_key : ca_key;
		r.entries = cases[i].e;
		r.n = cases[i].n;
		r.number = cases[i].number;
		r.this_update = t0;
		r.days = cases[i].days;
		r.pss = cases[i].pss;
		assert_int_equal(eng_digest(NULL, &r.md, &err), KG_OK);
		assert_int_equal(eng_crl_build(&r, &crl, &err), KG_OK);
		assert_int_equal(X509_CRL_get_version(crl),
		                 X509_CRL_VERSION_2);
		assert_int_equal(
		        X509_CRL_verify(crl, X509_get0_pubkey(r.ca_cert)), 1);
		assert_int_equal(
		        X509_NAME_cmp(X509_CRL_get_issuer(crl),
		                      X509_get_subject_name(r.ca_cert)),
		        0);
		assert_true(secs(X509_CRL_get0_lastUpdate(crl)) == t0);
		assert_true(secs(X509_CRL_get0_nextUpdate(crl)) ==
		            t0 + (long long)cases[i].days * 86400);
		num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
		assert_non_null(num);
		assert_int_equal(ASN1_INTEGER_get_uint64(&got, num), 1);
		assert_true(got == cases[i].number);
		ASN1_INTEGER_free(num);
		akid = X509_CRL_get_ext_d2i(crl, NID_authority_key_identifier,
		                            NULL, NULL);
		assert_non_null(akid);
		assert_int_equal(ASN1_OCTET_STRING_cmp(
		                         akid->keyid,
		                         X509_get0_subject_key_id(r.ca_cert)),
		                 0);
		AUTHORITY_KEYID_free(akid);
		rev = X509_CRL_get_REVOKED(crl);
		/* no entries: no list at all */
		assert_int_equal(rev ? sk_X509_REVOKED_num(rev) : 0,
		                 (int)cases[i].n);
		if (cases[i].n == 2) {
			/* sorted by serial: 0x1A first, with no reason code */
			X509_REVOKED *a = sk_X509_REVOKED_value(rev, 0);
			X509_REVOKED *b = sk_X509_REVOKED_value(rev, 1);

			assert_int_equal(
			        ASN1_INTEGER_get(
			                X509_REVOKED_get0_serialNumber(a)),
			        0x1A);
			assert_int_equal(entry_reason(a), -1);
			assert_true(secs(X509_REVOKED_get0_revocationDate(
			                    a)) == 1700000100);
			assert_true(secs(X509_REVOKED_get0_revocationDate(
			                    b)) == 1700000000);
			assert_int_equal(
			        ASN1_INTEGER_get(
			                X509_REVOKED_get0_serialNumber(b)),
			        0xFF01);
			assert_int_equal(entry_reason(b),
			                 CRL_REASON_KEY_COMPROMISE);
		}
		assert_int_equal(eng_pem_crl(crl, &pem, &plen, &err), KG_OK);
		assert_non_null(strstr(pem, "-----BEGIN X509 CRL-----"));
		OPENSSL_free(pem);
		X509_CRL_free(crl);
	}
}

static void test_refusals(void **state)
{
	static const struct eng_crl_entry bad_serial[] = {
	        {"12G4", CRL_REASON_SUPERSEDED, 1700000000},
	};
	static const struct eng_crl_entry neg_serial[] = {
	        {"-12", CRL_REASON_SUPERSEDED, 1700000000},
	};
	static const struct {
		const char *what;
		int mismatch;
		const struct eng_crl_entry *e;
		size_t n;
		unsigned long long number;
		int days;
		enum kg_code want;
	} cases[] = {
	        {"key not the certificate's", 1, NULL, 0, 1, 30, KG_REFUSED},
	        {"number 0", 0, NULL, 0, 0, 30, KG_E_USAGE},
	        {"0 days", 0, NULL, 0, 1, 0, KG_E_USAGE},
	        {"bad serial", 0, bad_serial, 1, 1, 30, KG_E_USAGE},
	        {"negative serial", 0, neg_serial, 1, 1, 30, KG_E_USAGE},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct eng_crl_req r = {0};
		X509_CRL *crl = (X509_CRL *)1;
		struct kg_err err;

		r.ca_cert = ca;
		r.ca_key = cases[i].mismatch ? other_key : ca_key;
		r.entries = cases[i].e;
		r.n = cases[i].n;
		r.number = cases[i].number;
		r.this_update = 1750000000;
		r.days = cases[i].days;
		r.md = EVP_sha256();
		assert_int_equal(eng_crl_build(&r, &crl, &err), cases[i].want);
		assert_null(crl);
	}
}

static void test_ca_check_and_ids(void **state)
{
	char a[65], b[65];
	struct kg_err err;

	assert_int_equal(eng_crl_ca_check(ca, ca_key, &err), KG_OK);
	assert_int_equal(eng_crl_ca_check(ca, other_key, &err), KG_REFUSED);
	assert_non_null(strstr(err.msg, "not the CA certificate's key"));
	/* a leaf is no CA, even with its own key */
	assert_int_equal(eng_crl_ca_check(leaf, other_key, &err), KG_REFUSED);
	/* the identity of the certificate and of its key agree */
	assert_int_equal(eng_spki_sha256(X509_get_X509_PUBKEY(ca), a), 1);
	assert_int_equal(eng_key_spki_sha256(ca_key, b), 1);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 64);
	assert_int_equal(eng_key_spki_sha256(other_key, b), 1);
	assert_string_not_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_reasons),
	        cmocka_unit_test(test_build),
	        cmocka_unit_test(test_refusals),
	        cmocka_unit_test(test_ca_check_and_ids),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
