/* DN and SAN parsing: table-driven, good and bad. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/crypto.h>

#include "engine/eng.h"

static void test_dn(void **state)
{
	static const struct {
		const char *dn;
		enum kg_code want;
		const char
		        *rfc2253; /* as printed back (most specific first) */
	} cases[] = {
	        {"CN=api.example.com,O=Example", KG_OK,
	         "CN=api.example.com,O=Example"},
	        {"/O=Example/CN=api.example.com", KG_OK,
	         "CN=api.example.com,O=Example"},
	        {"CN=web01, O=Acme, C=US", KG_OK, "CN=web01,O=Acme,C=US"},
	        {"cn=lower,o=case", KG_OK, "CN=lower,O=case"},
	        {"CN=a\\,b,O=x", KG_OK, "CN=a\\,b,O=x"},
	        {"CN=a\\2Cb", KG_OK, "CN=a\\,b"},
	        {"CN=  padded  ", KG_OK, "CN=padded"},
	        /* DER sorts the members of a multi-valued RDN */
	        {"CN=x+UID=42,O=multi", KG_OK, "UID=42+CN=x,O=multi"},
	        {"/C=DE/O=Org\\/Slash/CN=s", KG_OK, "CN=s,O=Org/Slash,C=DE"},
	        {"emailAddress=a@b.example,CN=m", KG_OK,
	         "emailAddress=a@b.example,CN=m"},
	        {"2.5.4.3=oid", KG_OK, "CN=oid"},
	        /* a dotted OID OpenSSL has no name for (found by fuzzing) */
	        {"1.3.6.1.4.1.99999.1=x,CN=y", KG_OK,
	         "1.3.6.1.4.1.99999.1=#0C0178,CN=y"},
	        {"1.2.3.4=x", KG_OK, "1.2.3.4=#0C0178"},
	        {"1.x.3=x", KG_E_USAGE, NULL},
	        {"2.5..4=x", KG_E_USAGE, NULL}, /* reads as 2.5.0.0.4 */
	        /* longer than OpenSSL prints back (found by fuzzing) */
	        {"1.2.840.113549.555555555555555555555555555555555555555555555"
	         "55555555555555555555555555555555555555551.9.1=x",
	         KG_E_USAGE, NULL},
	        /* RFC 4514 #hexstring, as OpenSSL prints such names back */
	        {"1.2.3.4=#0C0178", KG_OK, "1.2.3.4=#0C0178"},
	        {"CN=#0C0461626364", KG_OK, "CN=abcd"},
	        {"CN=#0C03610062", KG_E_USAGE, NULL}, /* a NUL inside */
	        {"CN=#0201", KG_E_USAGE, NULL},       /* not a string */
	        {"CN=\\#tag", KG_OK, "CN=\\#tag"},
	        {"CN=#tag", KG_OK, "CN=\\#tag"}, /* not hex: literal */
	        {"CN=caf\xc3\xa9", KG_OK, "CN=caf\xc3\xa9"},
	        {"", KG_E_USAGE, NULL},
	        {"   ", KG_E_USAGE, NULL},
	        {"CN=", KG_E_USAGE, NULL},
	        {"CN", KG_E_USAGE, NULL},
	        {"XX=foo", KG_E_USAGE, NULL},
	        {"CN=a,", KG_E_USAGE, NULL},
	        {"CN=a\\", KG_E_USAGE, NULL},
	        {"C=USA", KG_E_USAGE, NULL}, /* countryName is 2 letters */
	        {"/", KG_E_USAGE, NULL},
	        {",,", KG_E_USAGE, NULL},
	        /* issue 9 #6: a NUL or control character is refused, not cut
	         */
	        {"CN=api.example.com\\00.evil.com", KG_E_USAGE, NULL},
	        {"CN=a\\0ab", KG_E_USAGE, NULL},
	        {"CN=a\\7fb", KG_E_USAGE, NULL},
	        {"CN=a\\c2\\85b", KG_E_USAGE, NULL}, /* U+0085, C1 */
	        {"CN=a\nb", KG_E_USAGE, NULL},
	        {"CN=a\xff"
	         "b",
	         KG_E_USAGE, NULL}, /* invalid UTF-8 */
	        {"CN=a\xc0\xaf"
	         "b",
	         KG_E_USAGE, NULL}, /* overlong */
	        {"CN=a\xed\xa0\x80"
	         "b",
	         KG_E_USAGE, NULL},              /* surrogate */
	        {"CN=a\\ffb", KG_E_USAGE, NULL}, /* escaped invalid UTF-8 */
	        {"CN=x\\00", KG_E_USAGE, NULL},
	        {"O=\\00,CN=x", KG_E_USAGE, NULL},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		X509_NAME *n = NULL;
		struct kg_err err = {0};
		enum kg_code rc = eng_dn_parse(cases[i].dn, &n, &err);

		if (rc != cases[i].want)
			fail_msg("'%s': got %d (%s), want %d", cases[i].dn, rc,
			         err.msg, cases[i].want);
		if (rc == KG_OK) {
			char *s = eng_name_str(n);

			assert_string_equal(s, cases[i].rfc2253);
			OPENSSL_free(s);
			X509_NAME_free(n);
		} else {
			assert_null(n);
			assert_true(strlen(err.msg) > 10);
		}
	}
}

static void test_san(void **state)
{
	static const struct {
		const char *list;
		enum kg_code want;
		int count;
	} cases[] = {
	        {"DNS:a.example.com", KG_OK, 1},
	        {"DNS:a.example.com,DNS:b.example.com,IP:10.0.0.1", KG_OK, 3},
	        {"dns:A.Example.COM,ip:::1,Email:x@y.example", KG_OK, 3},
	        {"URI:https://example.com/x,URI:spiffe://td/ns/a", KG_OK, 2},
	        {"DNS:*.example.com", KG_OK, 1},
	        {"bare.example.com,192.168.1.1,2001:db8::1", KG_OK, 3},
	        {"DNS:localhost", KG_OK, 1},
	        {"", KG_E_USAGE, 0},
	        {"DNS:", KG_E_USAGE, 0},
	        {"DNS:a..b", KG_E_USAGE, 0},
	        {"DNS:-bad.example", KG_E_USAGE, 0},
	        {"DNS:bad-.example", KG_E_USAGE, 0},
	        {"DNS:sp ace.example", KG_E_USAGE, 0},
	        {"DNS:a.*.example", KG_E_USAGE, 0},
	        {"DNS:example.com.", KG_E_USAGE, 0},
	        {"IP:10.0.0.256", KG_E_USAGE, 0},
	        {"IP:example.com", KG_E_USAGE, 0},
	        {"email:nobody", KG_E_USAGE, 0},
	        {"email:a@b@c", KG_E_USAGE, 0},
	        {"URI:no-scheme", KG_E_USAGE, 0},
	        {"FOO:bar", KG_E_USAGE, 0},
	        {"mailto:x@y.example", KG_E_USAGE, 0}, /* type, not a name */
	        {"DNS:a.example,,DNS:b.example", KG_E_USAGE, 0},
	        {"DNS:a.example,", KG_E_USAGE, 0},
	        {"DNS:"
	         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	         "aaaa"
	         ".example",
	         KG_E_USAGE, 0}, /* label of 64 */
	        /* issue 9 #6 */
	        {"DNS:a.example.com\\00.evil.com", KG_E_USAGE, 0},
	        {"email:a@b.example\\00x", KG_E_USAGE, 0},
	        {"URI:https://x.example/\\00", KG_E_USAGE, 0},
	        {"URI:https://x.example/\x01", KG_E_USAGE, 0},
	        {"DNS:a.example\n", KG_E_USAGE, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		GENERAL_NAMES *g = NULL;
		struct kg_err err = {0};
		enum kg_code rc = eng_san_parse(cases[i].list, &g, &err);

		if (rc != cases[i].want)
			fail_msg("'%s': got %d (%s), want %d", cases[i].list,
			         rc, err.msg, cases[i].want);
		if (rc == KG_OK)
			assert_int_equal(sk_GENERAL_NAME_num(g),
			                 cases[i].count);
		else
			assert_null(g);
		GENERAL_NAMES_free(g);
	}
}

static void test_text_shown(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	        {"plain", "plain"},
	        {"caf\xc3\xa9", "caf\xc3\xa9"},
	        {"a\xff\x01"
	         "b",
	         "a\\xff\\x01b"},
	        {"back\\slash", "back\\x5cslash"},
	        {"nl\n", "nl\\x0a"},
	};
	size_t i;
	char out[64];

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(
		        eng_text_shown(cases[i].in, out, sizeof(out)),
		        cases[i].want);
	/* cut to fit, never past the buffer */
	assert_true(strlen(eng_text_shown("\xff\xff\xff\xff\xff\xff", out,
	                                  12)) < 12);
}

static void test_domain_and_cn(void **state)
{
	static const struct {
		const char *dn;
		int type; /* GEN_DNS, GEN_IPADD or -1 for none */
	} cases[] = {
	        {"CN=api.example.com", GEN_DNS}, {"CN=*.example.com", GEN_DNS},
	        {"CN=10.1.2.3", GEN_IPADD},      {"CN=client-01", -1},
	        {"CN=Example Root CA", -1},      {"O=no cn", -1},
	};
	size_t i;

	assert_true(eng_is_domain("a.example"));
	assert_false(eng_is_domain("localhost"));
	assert_false(eng_is_domain("1.2.3.4"));
	assert_true(eng_is_ip("::1"));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		X509_NAME *n = NULL;
		GENERAL_NAMES *g = NULL;
		struct kg_err err;

		assert_int_equal(eng_dn_parse(cases[i].dn, &n, &err), KG_OK);
		assert_int_equal(eng_san_from_cn(n, &g, &err), KG_OK);
		if (cases[i].type < 0) {
			assert_null(g);
		} else {
			assert_int_equal(sk_GENERAL_NAME_num(g), 1);
			assert_int_equal(sk_GENERAL_NAME_value(g, 0)->type,
			                 cases[i].type);
		}
		GENERAL_NAMES_free(g);
		X509_NAME_free(n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_dn),
	        cmocka_unit_test(test_san),
	        cmocka_unit_test(test_text_shown),
	        cmocka_unit_test(test_domain_and_cn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
