/* The CA database in a log: matching a CA, serials, numbers, bad fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "common/kg_cadb.h"

static void test_serial(void **state)
{
	static const struct {
		const char *in, *want; /* want NULL: refused */
	} cases[] = {
	        {"0A1B", "0A1B"},
	        {"0a:1b", "0A1B"},
	        {"0x00ff", "FF"},
	        {"A1B", "0A1B"},
	        {"0x0001", "01"},
	        {"9A8AE0D451E848A0AF88971AD1AC236E",
	         "9A8AE0D451E848A0AF88971AD1AC236E"},
	        {"0", "00"},
	        {"00:00", "00"},
	        /* 20 octets fit, 21 do not (leading zeros aside) */
	        {"00FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
	         "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"},
	        {"1FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", NULL},
	        {"", NULL},
	        {"0x", NULL},
	        {":0A", NULL},
	        {"0A:", NULL},
	        {"0A::1B", NULL},
	        {"-0A", NULL},
	        {"12G4", NULL},
	        {"12 34", NULL},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[KG_SERIAL_LEN];

		assert_int_equal(kg_cadb_serial(cases[i].in, out),
		                 cases[i].want != NULL);
		if (cases[i].want != NULL)
			assert_string_equal(out, cases[i].want);
	}
	assert_int_equal(kg_cadb_serial(NULL, (char[KG_SERIAL_LEN]){0}), 0);
}

static void test_time(void **state)
{
	static const struct {
		const char *in;
		int ok;
		long long want;
	} cases[] = {
	        {"1970-01-01T00:00:00Z", 1, 0},
	        {"2026-03-01T12:00:00Z", 1, 1772366400},
	        {"2024-02-29T00:00:00Z", 1, 1709164800},
	        {"2023-02-29T00:00:00Z", 0, 0},
	        {"2026-13-01T00:00:00Z", 0, 0},
	        {"2026-03-01T12:00:00", 0, 0},
	        {"2026-03-01T12:00:00+01:00", 0, 0},
	        {"2026-03-01 12:00:00Z", 0, 0},
	        {"", 0, 0},
	        /* signs where digits belong (sscanf would take them) */
	        {"2026-01-01T-1:-1:-1Z", 0, 0},
	        {"2026-01-01T+1:00:00Z", 0, 0},
	        {"2026-+1-01T00:00:00Z", 0, 0},
	        {" 026-01-01T00:00:00Z", 0, 0},
	        {"2026-01-01T0 :00:00Z", 0, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long t = -1;

		assert_int_equal(kg_cadb_time(cases[i].in, &t), cases[i].ok);
		if (cases[i].ok)
			assert_true(t == cases[i].want);
	}
}

/* records as cert sign, cert revoke and crl create write them */
#define ISSUE(serial, issuer, spki)                                           \
	"{\"time\":\"2026-01-01T00:00:00Z\",\"op\":\"cert-issue\","           \
	"\"result\":\"ok\",\"token\":{\"serial\":\"t1\",\"label\":\"ca\"},"   \
	"\"key_id\":\"01\",\"subject\":\"CN=leaf\",\"serial\":\"" serial      \
	"\",\"issuer\":\"" issuer "\",\"issuer_spki_sha256\":\"" spki "\"}\n"
#define OLD_ISSUE(serial, tok, id)                                            \
	"{\"time\":\"2025-01-01T00:00:00Z\",\"op\":\"cert-issue\","           \
	"\"result\":\"ok\",\"token\":{\"serial\":\"" tok                      \
	"\"},\"key_id\":\"" id "\",\"serial\":\"" serial "\"}\n"
#define REVOKE(serial, reason, at, spki)                                      \
	"{\"op\":\"cert-revoke\",\"result\":\"ok\",\"serial\":\"" serial      \
	"\",\"reason\":\"" reason "\",\"revoked_at\":\"" at "\","             \
	"\"issuer\":\"CN=A\",\"issuer_spki_sha256\":\"" spki "\"}\n"
#define CRL(n, result, spki)                                                  \
	"{\"op\":\"crl\",\"result\":\"" result "\",\"crl_number\":\"" n       \
	"\",\"issuer\":\"CN=A\",\"issuer_spki_sha256\":\"" spki "\"}\n"

static void test_read(void **state)
{
	static const struct kg_ca_id a = {"CN=A", "aa", "t1", "01"};
	static const struct {
		const char *what, *log;
		const struct kg_ca_id *id;
		enum kg_code want;
		size_t issued, revoked, crls;
		unsigned long long number;
	} cases[] = {
	        {"empty", "", &a, KG_OK, 0, 0, 0, 0},
	        {"one CA of two",
	         ISSUE("0A", "CN=A", "aa") ISSUE("0B", "CN=B", "bb")
	                 ISSUE("0C", "CN=A", "aa"),
	         &a, KG_OK, 2, 0, 0, 0},
	        {"every CA",
	         ISSUE("0A", "CN=A", "aa") ISSUE("0B", "CN=B", "bb"), NULL,
	         KG_OK, 2, 0, 0, 0},
	        {"same key, another name",
	         ISSUE("0A", "CN=A2", "aa") ISSUE("0C", "CN=A", "aa"), &a,
	         KG_OK, 1, 0, 0, 0},
	        {"old records: by token and key id",
	         OLD_ISSUE("0D", "t1", "01") OLD_ISSUE("0E", "t2", "01")
	                 OLD_ISSUE("0F", "t1", "02"),
	         &a, KG_OK, 1, 0, 0, 0},
	        {"revocations and numbers",
	         ISSUE("0A", "CN=A", "aa") REVOKE("0A", "keyCompromise",
	                                          "2026-02-01T00:00:00Z", "aa")
	                 CRL("1", "ok", "aa") CRL("7", "not-written", "aa")
	                         CRL("3", "ok", "aa") CRL("9", "ok", "bb"),
	         &a, KG_OK, 1, 1, 3, 7},
	        {"refused and other records do not count",
	         "{\"op\":\"cert-issue\",\"result\":\"refused\",\"issuer\":"
	         "\"CN=A\",\"issuer_spki_sha256\":\"aa\"}\n"
	         "{\"op\":\"csr\",\"result\":\"ok\"}\n{\"prev\":\"x\"}\n",
	         &a, KG_OK, 0, 0, 0, 0},
	        {"not an object", "[1,2]\n", &a, KG_REFUSED, 0, 0, 0, 0},
	        {"not JSON", "{\"op\":\n", NULL, KG_REFUSED, 0, 0, 0, 0},
	        {"issue without serial",
	         "{\"op\":\"cert-issue\",\"result\":\"ok\"}\n", NULL,
	         KG_REFUSED, 0, 0, 0, 0},
	        {"issue with a bad serial", ISSUE("zz", "CN=A", "aa"), &a,
	         KG_REFUSED, 0, 0, 0, 0},
	        {"a bad serial of another CA is not read",
	         ISSUE("zz", "CN=B", "bb"), &a, KG_OK, 0, 0, 0, 0},
	        {"revoke without time",
	         REVOKE("0A", "superseded", "yesterday", "aa"), &a, KG_REFUSED,
	         0, 0, 0, 0},
	        {"crl number 0", CRL("0", "ok", "aa"), &a, KG_REFUSED, 0, 0, 0,
	         0},
	        {"crl number not decimal", CRL("0x10", "ok", "aa"), &a,
	         KG_REFUSED, 0, 0, 0, 0},
	        {"crl number too big", CRL("99999999999999999999", "ok", "aa"),
	         &a, KG_REFUSED, 0, 0, 0, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct kg_cadb *db = (struct kg_cadb *)1;
		struct kg_err err;

		assert_int_equal(kg_cadb_read(cases[i].log,
		                              strlen(cases[i].log),
		                              cases[i].id, &db, &err),
		                 cases[i].want);
		if (cases[i].want != KG_OK) {
			assert_null(db);
			assert_non_null(strstr(err.msg, "line 1"));
			continue;
		}
		assert_int_equal(db->nissued, cases[i].issued);
		assert_int_equal(db->nrevoked, cases[i].revoked);
		assert_int_equal(db->ncrls, cases[i].crls);
		assert_true(db->crl_number == cases[i].number);
		kg_cadb_free(db);
	}
}

static void test_find(void **state)
{
	static const char log[] = ISSUE("0A", "CN=A", "aa")
	        ISSUE("0B", "CN=A", "aa") REVOKE("0a", "superseded",
	                                         "2026-02-01T00:00:00Z", "aa");
	static const struct kg_ca_id a = {"CN=A", "aa", NULL, NULL};
	const struct kg_cadb_revoked *r;
	struct kg_cadb *db = NULL;
	struct kg_err err;

	assert_int_equal(kg_cadb_read(log, strlen(log), &a, &db, &err), KG_OK);
	assert_non_null(kg_cadb_find_issued(db, "0A"));
	assert_null(kg_cadb_find_issued(db, "0C"));
	r = kg_cadb_find_revoked(db, "0A");
	assert_non_null(r);
	assert_string_equal(r->reason, "superseded");
	assert_int_equal(r->line, 3);
	assert_null(kg_cadb_find_revoked(db, "0B"));
	assert_int_equal(db->issued[0].revoked, 1);
	assert_int_equal(db->issued[1].revoked, 0);
	assert_string_equal(db->issued[0].subject, "CN=leaf");
	kg_cadb_free(db);
	kg_cadb_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_serial),
	        cmocka_unit_test(test_time),
	        cmocka_unit_test(test_read),
	        cmocka_unit_test(test_find),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
