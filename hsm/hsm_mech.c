/*
 * Mechanisms: which one a token key signs with, and whether a token can
 * make a key at all. Asked of the token (C_GetMechanismList,
 * C_GetMechanismInfo) and of the key (CKA_ALLOWED_MECHANISMS), never
 * assumed from the module's name.
 *
 * Signing prefers the raw mechanisms (CKM_RSA_PKCS over a DigestInfo,
 * CKM_ECDSA over a hash keygate computed): one short C_Sign whatever the
 * message. A key or token that allows only hashed mechanisms
 * (CKM_SHA256_RSA_PKCS, CKM_ECDSA_SHA256, ...) gets the whole message.
 */
#include "hsm/hsm_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>

static const struct sigmech {
	CK_MECHANISM_TYPE m;
	const char *name;
	enum hsm_key_type type;
	int md;  /* NID_undef: raw, keygate hashes (EdDSA: nothing does) */
	int pss; /* RSASSA-PSS */
} sigmechs[] = {
        {CKM_RSA_PKCS, "CKM_RSA_PKCS", HSM_KEY_RSA, NID_undef, 0},
        {CKM_SHA256_RSA_PKCS, "CKM_SHA256_RSA_PKCS", HSM_KEY_RSA, NID_sha256,
         0},
        {CKM_SHA384_RSA_PKCS, "CKM_SHA384_RSA_PKCS", HSM_KEY_RSA, NID_sha384,
         0},
        {CKM_SHA512_RSA_PKCS, "CKM_SHA512_RSA_PKCS", HSM_KEY_RSA, NID_sha512,
         0},
        {CKM_SHA224_RSA_PKCS, "CKM_SHA224_RSA_PKCS", HSM_KEY_RSA, NID_sha224,
         0},
        {CKM_SHA1_RSA_PKCS, "CKM_SHA1_RSA_PKCS", HSM_KEY_RSA, NID_sha1, 0},
        {CKM_ECDSA, "CKM_ECDSA", HSM_KEY_EC, NID_undef, 0},
        {CKM_ECDSA_SHA256, "CKM_ECDSA_SHA256", HSM_KEY_EC, NID_sha256, 0},
        {CKM_ECDSA_SHA384, "CKM_ECDSA_SHA384", HSM_KEY_EC, NID_sha384, 0},
        {CKM_ECDSA_SHA512, "CKM_ECDSA_SHA512", HSM_KEY_EC, NID_sha512, 0},
        {CKM_ECDSA_SHA224, "CKM_ECDSA_SHA224", HSM_KEY_EC, NID_sha224, 0},
        {CKM_ECDSA_SHA1, "CKM_ECDSA_SHA1", HSM_KEY_EC, NID_sha1, 0},
        {CKM_EDDSA, "CKM_EDDSA", HSM_KEY_ED, NID_undef, 0},
        {CKM_RSA_PKCS_PSS, "CKM_RSA_PKCS_PSS", HSM_KEY_RSA, NID_undef, 1},
        {CKM_SHA256_RSA_PKCS_PSS, "CKM_SHA256_RSA_PKCS_PSS", HSM_KEY_RSA,
         NID_sha256, 1},
        {CKM_SHA384_RSA_PKCS_PSS, "CKM_SHA384_RSA_PKCS_PSS", HSM_KEY_RSA,
         NID_sha384, 1},
        {CKM_SHA512_RSA_PKCS_PSS, "CKM_SHA512_RSA_PKCS_PSS", HSM_KEY_RSA,
         NID_sha512, 1},
};
#define NSIG (sizeof(sigmechs) / sizeof(sigmechs[0]))

static const struct {
	CK_MECHANISM_TYPE m;
	const char *name;
} others[] = {
        {CKM_RSA_PKCS_KEY_PAIR_GEN, "CKM_RSA_PKCS_KEY_PAIR_GEN"},
        {CKM_EC_KEY_PAIR_GEN, "CKM_EC_KEY_PAIR_GEN"},
        {CKM_EC_EDWARDS_KEY_PAIR_GEN, "CKM_EC_EDWARDS_KEY_PAIR_GEN"},
        {CKM_RSA_PKCS_OAEP, "CKM_RSA_PKCS_OAEP"},
        {CKM_RSA_X_509, "CKM_RSA_X_509"},
        {CKM_ECDH1_DERIVE, "CKM_ECDH1_DERIVE"},
};

const char *hsm_mech_name(CK_MECHANISM_TYPE m, char *buf, size_t cap)
{
	size_t i;

	for (i = 0; i < NSIG; i++)
		if (sigmechs[i].m == m)
			return sigmechs[i].name;
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		if (others[i].m == m)
			return others[i].name;
	snprintf(buf, cap, "CKM_0x%lx", (unsigned long)m);
	return buf;
}

static int has(const CK_MECHANISM_TYPE *v, size_t n, CK_MECHANISM_TYPE m)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] == m)
			return 1;
	return 0;
}

/* The entries of the table whose pss flag is pss. */
static uint32_t hsm_mech_pss_mask(int pss)
{
	uint32_t m = 0;
	size_t i;

	for (i = 0; i < NSIG; i++)
		if (sigmechs[i].pss == !!pss)
			m |= (uint32_t)1 << i;
	return m;
}

uint32_t hsm_mech_usable(enum hsm_key_type type,
                         const CK_MECHANISM_TYPE *allowed, size_t nallowed,
                         int allowed_set, const CK_MECHANISM_TYPE *token,
                         size_t ntoken, int token_known)
{
	uint32_t mask = 0;
	size_t i;

	for (i = 0; i < NSIG; i++) {
		if (sigmechs[i].type != type ||
		    (allowed_set && !has(allowed, nallowed, sigmechs[i].m)) ||
		    (token_known && !has(token, ntoken, sigmechs[i].m)))
			continue;
		mask |= (uint32_t)1 << i;
	}
	return mask;
}

CK_MECHANISM_TYPE hsm_mech_pick(uint32_t usable, int md_nid, int pss,
                                int *hashed)
{
	size_t i;

	*hashed = 0;
	usable &= hsm_mech_pss_mask(pss);
	/* the raw one first: keygate hashes, C_Sign gets a few bytes;
	 * EdDSA signs the message itself */
	for (i = 0; i < NSIG; i++)
		if ((usable >> i & 1) && sigmechs[i].md == NID_undef) {
			*hashed = sigmechs[i].type == HSM_KEY_ED;
			return sigmechs[i].m;
		}
	for (i = 0; i < NSIG; i++)
		if ((usable >> i & 1) && sigmechs[i].md == md_nid) {
			*hashed = 1;
			return sigmechs[i].m;
		}
	return CK_UNAVAILABLE_INFORMATION;
}

void hsm_mech_names(uint32_t usable, char *buf, size_t cap)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < NSIG && used < cap; i++)
		if (usable >> i & 1)
			used += (size_t)snprintf(buf + used, cap - used,
			                         "%s%s", used ? ", " : "",
			                         sigmechs[i].name);
	if (buf[0] == '\0')
		snprintf(buf, cap, "none");
}

char *hsm_mech_list_str(const CK_MECHANISM_TYPE *v, size_t n)
{
	char one[32], *s;
	size_t i, cap = 1, used = 0;

	for (i = 0; i < n; i++)
		cap += strlen(hsm_mech_name(v[i], one, sizeof(one))) + 1;
	s = malloc(cap);
	if (s == NULL)
		return NULL;
	s[0] = '\0';
	for (i = 0; i < n; i++)
		used += (size_t)snprintf(
		        s + used, cap - used, "%s%s", i ? "," : "",
		        hsm_mech_name(v[i], one, sizeof(one)));
	return s;
}

/* ---- asked of the token --------------------------------------------- */

enum kg_code hsm_mech_read(struct hsm_token *t, struct kg_err *err)
{
	CK_MECHANISM_TYPE *v = NULL;
	CK_ULONG n = 0;
	CK_RV rv;
	int tries = 0, grown = 0;

	if (t->mechs_read)
		return KG_OK;
	for (;;) {
		free(v);
		v = NULL;
		rv = hsm_C_GetMechanismList(t->f, t->slot, NULL, &n);
		if (rv == CKR_OK && n > 4096)
			rv = CKR_DEVICE_ERROR; /* not an answer */
		if (rv == CKR_OK && n > 0) {
			/* twice the room: p11-kit-client (0.24) drops the
			 * mechanisms its RPC cannot carry by moving the rest
			 * down, reading as far again past the end */
			v = calloc(2 * n + 1, sizeof(*v));
			if (v == NULL)
				return kg_err_set(err, KG_E_RUNTIME,
				                  "out of memory");
			rv = hsm_C_GetMechanismList(t->f, t->slot, v, &n);
		}
		/* the list grew between the two calls */
		if (rv == CKR_BUFFER_TOO_SMALL && grown++ < 3)
			continue;
		if (!hsm_again(rv, &tries))
			break;
	}
	if (rv == CKR_FUNCTION_NOT_SUPPORTED) {
		/* a module that will not say: it is tried as asked */
		free(v);
		t->mechs_read = 1;
		return KG_OK;
	}
	if (rv != CKR_OK) {
		free(v);
		return hsm_rv_err(err, rv, "C_GetMechanismList", t->label);
	}
	t->mechs = v;
	t->nmechs = n;
	t->mechs_known = 1;
	t->mechs_read = 1;
	return KG_OK;
}

const char *hsm_module_name(const struct hsm_token *t)
{
	const char *p = t->module_path ? strrchr(t->module_path, '/') : NULL;

	if (t->module_path == NULL)
		return t->module_name ? t->module_name : "its module";
	return p ? p + 1 : t->module_path;
}

/* What the token can make, for the message that says it cannot: "RSA
 * 1024-4096 bits, EC" or "nothing keygate makes". */
static void offers(struct hsm_token *t, char *buf, size_t cap)
{
	CK_MECHANISM_INFO mi;
	size_t used = 0;

	buf[0] = '\0';
	if (has(t->mechs, t->nmechs, CKM_RSA_PKCS_KEY_PAIR_GEN)) {
		if (hsm_C_GetMechanismInfo(t->f, t->slot,
		                           CKM_RSA_PKCS_KEY_PAIR_GEN,
		                           &mi) == CKR_OK &&
		    mi.ulMaxKeySize > 0)
			used += (size_t)snprintf(
			        buf, cap, "RSA %lu-%lu bits",
			        (unsigned long)mi.ulMinKeySize,
			        (unsigned long)mi.ulMaxKeySize);
		else
			used += (size_t)snprintf(buf, cap, "RSA");
	}
	if (has(t->mechs, t->nmechs, CKM_EC_KEY_PAIR_GEN) && used < cap)
		used += (size_t)snprintf(buf + used, cap - used, "%sEC",
		                         used ? ", " : "");
	if (has(t->mechs, t->nmechs, CKM_EC_EDWARDS_KEY_PAIR_GEN) &&
	    used < cap)
		snprintf(buf + used, cap - used, "%sEdDSA", used ? ", " : "");
	if (buf[0] == '\0')
		snprintf(buf, cap, "no key type keygate makes");
}

enum kg_code hsm_mech_keygen_check(struct hsm_token *t,
                                   const struct hsm_keygen *g,
                                   struct kg_err *err)
{
	CK_MECHANISM_TYPE gen =
	        g->type == HSM_KEY_RSA  ? CKM_RSA_PKCS_KEY_PAIR_GEN
	        : g->type == HSM_KEY_EC ? CKM_EC_KEY_PAIR_GEN
	                                : CKM_EC_EDWARDS_KEY_PAIR_GEN;
	const char *what = g->type == HSM_KEY_RSA        ? "RSA"
	                   : g->type == HSM_KEY_EC       ? "EC"
	                   : g->curve_nid == NID_ED25519 ? "Ed25519"
	                                                 : "Ed448";
	CK_MECHANISM_INFO mi;
	char off[96], one[32];
	enum kg_code rc;
	CK_RV rv;
	int tries = 0;

	rc = hsm_mech_read(t, err);
	if (rc != KG_OK || !t->mechs_known)
		return rc;
	if (!has(t->mechs, t->nmechs, gen)) {
		offers(t, off, sizeof(off));
		return kg_err_set(
		        err, KG_E_TOKEN,
		        "token '%s' (%s) cannot make %s keys: it has "
		        "no %s; it offers %s",
		        t->label, hsm_module_name(t), what,
		        hsm_mech_name(gen, one, sizeof(one)), off);
	}
	if (hsm_mech_usable(g->type, NULL, 0, 0, t->mechs, t->nmechs, 1) == 0)
		return kg_err_set(err, KG_E_TOKEN,
		                  "token '%s' (%s) can make %s keys but not "
		                  "sign with them (no %s mechanism)",
		                  t->label, hsm_module_name(t), what,
		                  g->type == HSM_KEY_RSA  ? "CKM_RSA_PKCS or "
		                                            "CKM_SHA*_RSA_PKCS"
		                  : g->type == HSM_KEY_EC ? "CKM_ECDSA or "
		                                            "CKM_ECDSA_SHA*"
		                                          : "CKM_EDDSA");
	do
		rv = hsm_C_GetMechanismInfo(t->f, t->slot, gen, &mi);
	while (hsm_again(rv, &tries));
	if (rv != CKR_OK)
		return hsm_rv_err(err, rv, "C_GetMechanismInfo", t->label);
	if (!(mi.flags & CKF_GENERATE_KEY_PAIR))
		return kg_err_set(err, KG_E_TOKEN,
		                  "token '%s' (%s) lists %s but not for "
		                  "generating key pairs",
		                  t->label, hsm_module_name(t),
		                  hsm_mech_name(gen, one, sizeof(one)));
	/* RSA sizes are in bits; EC sizes are in bits on most modules and
	 * bytes on some, so only a bit size that cannot be bytes is used */
	if (g->type == HSM_KEY_RSA && mi.ulMaxKeySize > 0 &&
	    ((CK_ULONG)g->bits < mi.ulMinKeySize ||
	     (CK_ULONG)g->bits > mi.ulMaxKeySize))
		return kg_err_set(
		        err, KG_E_TOKEN,
		        "token '%s' (%s) makes RSA keys of %lu to %lu "
		        "bits, not %d",
		        t->label, hsm_module_name(t),
		        (unsigned long)mi.ulMinKeySize,
		        (unsigned long)mi.ulMaxKeySize, g->bits);
	if (g->type == HSM_KEY_EC && mi.ulMaxKeySize >= 128 &&
	    (CK_ULONG)hsm_ec_bits(g->curve_nid) > mi.ulMaxKeySize)
		return kg_err_set(
		        err, KG_E_TOKEN,
		        "token '%s' (%s) makes EC keys of at most %lu "
		        "bits, not %s",
		        t->label, hsm_module_name(t),
		        (unsigned long)mi.ulMaxKeySize,
		        OBJ_nid2sn(g->curve_nid));
	return KG_OK;
}
