/* hsm/hsm_template.c: what a new key pair is asked to be. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <openssl/obj_mac.h>
#include <openssl/objects.h>

#include "hsm/hsm_int.h"

static const CK_ATTRIBUTE *find(const CK_ATTRIBUTE *a, CK_ULONG n,
                                CK_ATTRIBUTE_TYPE type)
{
	CK_ULONG i;

	for (i = 0; i < n; i++)
		if (a[i].type == type)
			return &a[i];
	return NULL;
}

static int is_true(const CK_ATTRIBUTE *a)
{
	return a != NULL && a->ulValueLen == sizeof(CK_BBOOL) &&
	       *(const CK_BBOOL *)a->pValue == CK_TRUE;
}

static void test_templates(void **state)
{
	static const unsigned char id[] = {0x01, 0xa2};
	static const struct {
		enum hsm_key_type type;
		int bits, nid, exportable, with_id;
		CK_MECHANISM_TYPE mech;
	} cases[] = {
	        {HSM_KEY_RSA, 2048, 0, 0, 0, CKM_RSA_PKCS_KEY_PAIR_GEN},
	        {HSM_KEY_RSA, 1024, 0, 1, 1, CKM_RSA_PKCS_KEY_PAIR_GEN},
	        {HSM_KEY_EC, 256, NID_X9_62_prime256v1, 0, 1,
	         CKM_EC_KEY_PAIR_GEN},
	        {HSM_KEY_EC, 521, NID_secp521r1, 1, 0, CKM_EC_KEY_PAIR_GEN},
	        {HSM_KEY_ED, 256, NID_ED25519, 0, 1,
	         CKM_EC_EDWARDS_KEY_PAIR_GEN},
	        {HSM_KEY_ED, 456, NID_ED448, 0, 0,
	         CKM_EC_EDWARDS_KEY_PAIR_GEN},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hsm_keygen g = {0};
		struct hsm_keygen_tmpl t;
		struct kg_err err;
		const CK_ATTRIBUTE *a;

		g.type = cases[i].type;
		g.bits = cases[i].bits;
		g.curve_nid = cases[i].nid;
		g.label = "web";
		g.exportable = cases[i].exportable;
		if (cases[i].with_id) {
			g.id = id;
			g.id_len = sizeof(id);
		}
		assert_int_equal(hsm_keygen_tmpl_make(&g, 0, &t, &err), KG_OK);
		assert_int_equal(t.mech.mechanism, cases[i].mech);
		/* a token object under the temporary label, never "web" */
		assert_true(is_true(find(t.pub, t.npub, CKA_TOKEN)));
		assert_true(is_true(find(t.priv, t.npriv, CKA_TOKEN)));
		assert_true(is_true(find(t.priv, t.npriv, CKA_PRIVATE)));
		assert_true(is_true(find(t.priv, t.npriv, CKA_SIGN)));
		a = find(t.priv, t.npriv, CKA_LABEL);
		assert_non_null(a);
		assert_int_equal(a->ulValueLen, 28);
		assert_memory_equal(a->pValue, "keygate-new-", 12);
		assert_int_equal(strlen(t.label), 28);
		/* sensitive and not extractable unless exportable */
		assert_int_equal(is_true(find(t.priv, t.npriv, CKA_SENSITIVE)),
		                 !cases[i].exportable);
		assert_int_equal(
		        is_true(find(t.priv, t.npriv, CKA_EXTRACTABLE)),
		        cases[i].exportable);
		/* the id asked for, on both halves, or none yet */
		a = find(t.priv, t.npriv, CKA_ID);
		assert_int_equal(a != NULL, cases[i].with_id);
		assert_int_equal(find(t.pub, t.npub, CKA_ID) != NULL,
		                 cases[i].with_id);
		if (a != NULL)
			assert_memory_equal(a->pValue, id, sizeof(id));
		if (cases[i].type == HSM_KEY_RSA) {
			a = find(t.pub, t.npub, CKA_MODULUS_BITS);
			assert_non_null(a);
			assert_int_equal(*(const CK_ULONG *)a->pValue,
			                 (CK_ULONG)cases[i].bits);
			assert_null(find(t.pub, t.npub, CKA_EC_PARAMS));
		} else {
			const unsigned char *p;
			ASN1_OBJECT *o;

			a = find(t.pub, t.npub, CKA_EC_PARAMS);
			assert_non_null(a);
			p = a->pValue;
			o = d2i_ASN1_OBJECT(NULL, &p, (long)a->ulValueLen);
			assert_non_null(o);
			assert_int_equal(OBJ_obj2nid(o), cases[i].nid);
			ASN1_OBJECT_free(o);
			assert_null(find(t.pub, t.npub, CKA_MODULUS_BITS));
		}
		hsm_keygen_tmpl_clear(&t);
	}
}

/* two pairs never share a temporary label; an unknown curve is refused */
static void test_label_and_curve(void **state)
{
	struct hsm_keygen g = {.type = HSM_KEY_EC,
	                       .curve_nid = NID_X9_62_prime256v1,
	                       .label = "x"};
	struct hsm_keygen_tmpl a, b;
	struct kg_err err;

	assert_int_equal(hsm_keygen_tmpl_make(&g, 0, &a, &err), KG_OK);
	assert_int_equal(hsm_keygen_tmpl_make(&g, 0, &b, &err), KG_OK);
	assert_string_not_equal(a.label, b.label);
	hsm_keygen_tmpl_clear(&a);
	hsm_keygen_tmpl_clear(&b);
	g.curve_nid = NID_undef;
	assert_int_equal(hsm_keygen_tmpl_make(&g, 0, &a, &err), KG_E_USAGE);
	hsm_keygen_tmpl_clear(&a);
}

static int is_false(const CK_ATTRIBUTE *a)
{
	return a != NULL && a->ulValueLen == sizeof(CK_BBOOL) &&
	       *(const CK_BBOOL *)a->pValue == CK_FALSE;
}

/* every usage attribute set, true or false: no module default fills in */
static void test_usages(void **state)
{
	static const struct {
		enum hsm_key_type type;
		const char *usage; /* NULL: the default */
		enum kg_code rc;
		unsigned want;
	} cases[] = {
	        {HSM_KEY_EC, NULL, KG_OK, HSM_USE_SIGN},
	        {HSM_KEY_RSA, NULL, KG_OK, HSM_USE_SIGN | HSM_USE_DECRYPT},
	        {HSM_KEY_EC, "sign,derive", KG_OK,
	         HSM_USE_SIGN | HSM_USE_DERIVE},
	        {HSM_KEY_RSA, "sign", KG_OK, HSM_USE_SIGN},
	        {HSM_KEY_RSA, "unwrap,sign-recover", KG_OK,
	         HSM_USE_UNWRAP | HSM_USE_SIGN_RECOVER},
	        {HSM_KEY_EC, "decrypt", KG_E_USAGE, 0},
	        {HSM_KEY_EC, "sign,unwrap", KG_E_USAGE, 0},
	        {HSM_KEY_RSA, "derive", KG_E_USAGE, 0},
	        {HSM_KEY_ED, NULL, KG_OK, HSM_USE_SIGN},
	        {HSM_KEY_ED, "sign,derive", KG_E_USAGE, 0},
	};
	static const struct {
		unsigned bit;
		CK_ATTRIBUTE_TYPE priv, pub;
	} attrs[] = {
	        {HSM_USE_SIGN, CKA_SIGN, CKA_VERIFY},
	        {HSM_USE_DECRYPT, CKA_DECRYPT, CKA_ENCRYPT},
	        {HSM_USE_UNWRAP, CKA_UNWRAP, CKA_WRAP},
	        {HSM_USE_DERIVE, CKA_DERIVE, 0},
	        {HSM_USE_SIGN_RECOVER, CKA_SIGN_RECOVER, CKA_VERIFY_RECOVER},
	};
	size_t i, j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hsm_keygen g = {.type = cases[i].type,
		                       .bits = 2048,
		                       .curve_nid = NID_X9_62_prime256v1,
		                       .label = "u"};
		struct hsm_keygen_tmpl t;
		struct kg_err err;

		if (cases[i].usage != NULL)
			assert_int_equal(hsm_usage_parse(cases[i].usage,
			                                 &g.usage, &err),
			                 KG_OK);
		assert_int_equal(hsm_keygen_tmpl_make(&g, 0, &t, &err),
		                 cases[i].rc);
		if (cases[i].rc != KG_OK) {
			hsm_keygen_tmpl_clear(&t);
			continue;
		}
		for (j = 0; j < sizeof(attrs) / sizeof(attrs[0]); j++) {
			int on = (cases[i].want & attrs[j].bit) != 0;
			const CK_ATTRIBUTE *a =
			        find(t.priv, t.npriv, attrs[j].priv);

			assert_true(on ? is_true(a) : is_false(a));
			if (attrs[j].pub == 0)
				continue;
			a = find(t.pub, t.npub, attrs[j].pub);
			assert_true(on ? is_true(a) : is_false(a));
		}
		/* a public key never derives */
		assert_true(is_false(find(t.pub, t.npub, CKA_DERIVE)));
		hsm_keygen_tmpl_clear(&t);
	}
}

static void test_usage_parse(void **state)
{
	static const struct {
		const char *in;
		enum kg_code rc;
		unsigned want;
		const char *str;
	} cases[] = {
	        {"sign", KG_OK, HSM_USE_SIGN, "sign"},
	        {"derive,sign", KG_OK, HSM_USE_SIGN | HSM_USE_DERIVE,
	         "sign,derive"},
	        {"sign,sign", KG_OK, HSM_USE_SIGN, "sign"},
	        {"sign-recover", KG_OK, HSM_USE_SIGN_RECOVER, "sign-recover"},
	        {"", KG_E_USAGE, 0, NULL},
	        {",", KG_E_USAGE, 0, NULL},
	        {"signx", KG_E_USAGE, 0, NULL},
	        {"sig", KG_E_USAGE, 0, NULL},
	        {"sign,,wrap", KG_E_USAGE, 0, NULL},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned m = 99;
		struct kg_err err;
		char buf[80];

		assert_int_equal(hsm_usage_parse(cases[i].in, &m, &err),
		                 cases[i].rc);
		if (cases[i].rc != KG_OK)
			continue;
		assert_int_equal(m, cases[i].want);
		hsm_usage_str(m, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].str);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_templates),
	        cmocka_unit_test(test_label_and_curve),
	        cmocka_unit_test(test_usages),
	        cmocka_unit_test(test_usage_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
