/*
 * The EVP_PKEY bridge: a built-in OpenSSL 3 provider ("keygate-hsm") whose
 * keys are token keys. engine/ signs with the EVP_PKEY like any other; the
 * digest is computed here in software and the token makes the signature
 * with C_Sign (CKM_RSA_PKCS over a DigestInfo, CKM_ECDSA over the hash),
 * or, for a key or token that allows only hashed mechanisms
 * (hsm_mech.c), C_Sign gets the whole message. A key with
 * CKA_ALWAYS_AUTHENTICATE gets its context-specific login before each
 * signature.
 *
 * EdDSA keys sign the whole message (CKM_EDDSA), with no digest.
 *
 * Algorithm names are our own ("KG-RSA", "KG-EC", "KG-ED25519",
 * "KG-ED448") so that no fetch for a
 * software key can ever land here. Besides keymgmt and signature the
 * provider has one encoder, the public key as SubjectPublicKeyInfo DER, so
 * that X509_REQ_set_pubkey() and X509_set_pubkey() work on these keys.
 *
 * One key object = one token session; calls on it are not thread-safe.
 */
#include "hsm/hsm_int.h"

#include "common/kg_secret.h"

#include <stdarg.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#define PROV_NAME    "keygate-hsm"
#define PROV_PROPS   "provider=" PROV_NAME
#define PARAM_SIGNER "kg-signer"

static const OSSL_CORE_HANDLE *core;
static OSSL_FUNC_core_new_error_fn *c_new_error;
static OSSL_FUNC_core_set_error_debug_fn *c_set_error_debug;
static OSSL_FUNC_core_vset_error_fn *c_vset_error;
static OSSL_FUNC_BIO_write_ex_fn *c_bio_write_ex;

#define KG_R_TOKEN 1

static void raise(const char *func, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void raise(const char *func, const char *fmt, ...)
{
	va_list ap;

	if (c_new_error == NULL || c_vset_error == NULL)
		return;
	c_new_error(core);
	if (c_set_error_debug != NULL)
		c_set_error_debug(core, __FILE__, __LINE__, func);
	va_start(ap, fmt);
	c_vset_error(core, KG_R_TOKEN, fmt, ap);
	va_end(ap);
}

/* ---- key objects ----------------------------------------------------- */

struct kg_key {
	struct hsm_signer sg;
	unsigned char *spki, *pa, *pb; /* own copies */
	char *label;
	int set;
};

static void *km_new(void *provctx)
{
	return OPENSSL_zalloc(sizeof(struct kg_key));
}

static void km_free(void *kd)
{
	struct kg_key *k = kd;

	if (k == NULL)
		return;
	OPENSSL_free(k->spki);
	OPENSSL_free(k->pa);
	OPENSSL_free(k->pb);
	OPENSSL_free(k->label);
	OPENSSL_free(k);
}

static int km_has(const void *kd, int selection)
{
	const struct kg_key *k = kd;

	return k != NULL && k->set;
}

static int km_import(void *kd, int selection, const OSSL_PARAM params[])
{
	struct kg_key *k = kd;
	const OSSL_PARAM *p;
	const struct hsm_signer *sg;

	p = OSSL_PARAM_locate_const(params, PARAM_SIGNER);
	if (k == NULL || p == NULL ||
	    p->data_type != OSSL_PARAM_OCTET_STRING ||
	    p->data_size != sizeof(sg))
		return 0;
	memcpy(&sg, p->data, sizeof(sg));
	k->sg = *sg;
	k->spki = OPENSSL_memdup(sg->spki, sg->spki_len);
	k->pa = OPENSSL_memdup(sg->pa, sg->pa_len);
	k->pb = sg->pb_len ? OPENSSL_memdup(sg->pb, sg->pb_len) : NULL;
	k->label = OPENSSL_strdup(sg->label ? sg->label : "");
	if (k->spki == NULL || k->pa == NULL || k->label == NULL ||
	    (sg->pb_len && k->pb == NULL))
		return 0;
	k->sg.spki = k->spki;
	k->sg.pa = k->pa;
	k->sg.pb = k->pb;
	k->sg.label = k->label;
	k->set = 1;
	return 1;
}

static const OSSL_PARAM *km_import_types(int selection)
{
	static const OSSL_PARAM t[] = {
	        OSSL_PARAM_octet_string(PARAM_SIGNER, NULL, 0),
	        OSSL_PARAM_END};
	return t;
}

/* DER ECDSA-Sig-Value size for an order of n bytes. */
static int ecdsa_max_size(int bits)
{
	int n = (bits + 7) / 8, integer = n + 1 + 2, content = 2 * integer;

	return content + (content < 128 ? 2 : 3);
}

/* Sets a BIGNUM parameter, if asked for, from big-endian bytes. */
static int set_bn(OSSL_PARAM params[], const char *key, const unsigned char *b,
                  size_t len)
{
	OSSL_PARAM *p = OSSL_PARAM_locate(params, key);
	BIGNUM *bn;
	int ok;

	if (p == NULL)
		return 1;
	bn = BN_bin2bn(b, (int)len, NULL);
	ok = bn != NULL && OSSL_PARAM_set_BN(p, bn);
	BN_free(bn);
	return ok;
}

static int set_int(OSSL_PARAM params[], const char *key, int v)
{
	OSSL_PARAM *p = OSSL_PARAM_locate(params, key);

	return p == NULL || OSSL_PARAM_set_int(p, v);
}

static int set_utf8(OSSL_PARAM params[], const char *key, const char *v)
{
	OSSL_PARAM *p = OSSL_PARAM_locate(params, key);

	return p == NULL || OSSL_PARAM_set_utf8_string(p, v);
}

/* An EdDSA key's: its size in bits, security bits and signature size. */
static int ed_get_params(const struct kg_key *k, OSSL_PARAM params[])
{
	int e25519 = k->sg.curve_nid == NID_ED25519;
	OSSL_PARAM *p;

	/* an empty mandatory digest: OpenSSL signs with none */
	if (!set_int(params, OSSL_PKEY_PARAM_BITS, e25519 ? 256 : 456) ||
	    !set_int(params, OSSL_PKEY_PARAM_SECURITY_BITS,
	             e25519 ? 128 : 224) ||
	    !set_int(params, OSSL_PKEY_PARAM_MAX_SIZE, e25519 ? 64 : 114) ||
	    !set_utf8(params, OSSL_PKEY_PARAM_MANDATORY_DIGEST, ""))
		return 0;
	p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY);
	return p == NULL ||
	       OSSL_PARAM_set_octet_string(p, k->pa, k->sg.pa_len);
}

static int km_get_params(void *kd, OSSL_PARAM params[])
{
	struct kg_key *k = kd;
	OSSL_PARAM *p;
	int rsa;

	if (k == NULL)
		return 0;
	if (k->sg.type == HSM_KEY_ED)
		return ed_get_params(k, params);
	rsa = k->sg.type == HSM_KEY_RSA;
	if (!set_int(params, OSSL_PKEY_PARAM_BITS, k->sg.bits) ||
	    !set_int(params, OSSL_PKEY_PARAM_SECURITY_BITS,
	             rsa ? BN_security_bits(k->sg.bits, -1)
	                 : k->sg.bits / 2) ||
	    !set_int(params, OSSL_PKEY_PARAM_MAX_SIZE,
	             rsa ? (k->sg.bits + 7) / 8
	                 : ecdsa_max_size(k->sg.bits)) ||
	    !set_utf8(params, OSSL_PKEY_PARAM_DEFAULT_DIGEST, "SHA256"))
		return 0;
	/* the public components, so that callers need no encoder */
	if (rsa)
		return set_bn(params, OSSL_PKEY_PARAM_RSA_N, k->pa,
		              k->sg.pa_len) &&
		       set_bn(params, OSSL_PKEY_PARAM_RSA_E, k->pb,
		              k->sg.pb_len);
	if (!set_utf8(params, OSSL_PKEY_PARAM_GROUP_NAME,
	              OBJ_nid2sn(k->sg.curve_nid)))
		return 0;
	p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY);
	return p == NULL ||
	       OSSL_PARAM_set_octet_string(p, k->pa, k->sg.pa_len);
}

static const OSSL_PARAM *km_gettable_params(void *provctx)
{
	static const OSSL_PARAM t[] = {
	        OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
	        OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
	        OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
	        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL,
	                               0),
	        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_MANDATORY_DIGEST, NULL,
	                               0),
	        OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_N, NULL, 0),
	        OSSL_PARAM_BN(OSSL_PKEY_PARAM_RSA_E, NULL, 0),
	        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
	        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
	                                NULL, 0),
	        OSSL_PARAM_END};
	return t;
}

static const OSSL_DISPATCH km_fns[] = {
        {OSSL_FUNC_KEYMGMT_NEW, (void (*)(void))km_new},
        {OSSL_FUNC_KEYMGMT_FREE, (void (*)(void))km_free},
        {OSSL_FUNC_KEYMGMT_HAS, (void (*)(void))km_has},
        {OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void))km_import},
        {OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void))km_import_types},
        {OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void))km_get_params},
        {OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS,
         (void (*)(void))km_gettable_params},
        {0, NULL}};

/* ---- signature ------------------------------------------------------- */

/* The most a hashed mechanism is given in one C_Sign: a CRL's size. */
#define MSG_MAX ((size_t)64 << 20)

struct kg_sig {
	struct kg_key *key; /* borrowed from the EVP_PKEY */
	EVP_MD *md;
	EVP_MD_CTX *mdctx;
	CK_MECHANISM_TYPE mech; /* hsm_mech_pick */
	int hashed;             /* the token hashes: msg is what it signs */
	int pss;                /* RSASSA-PSS (pad mode "pss") */
	unsigned char *msg;
	size_t msg_len, msg_cap;
	int too_big;
};

static void *sig_newctx(void *provctx, const char *propq)
{
	return OPENSSL_zalloc(sizeof(struct kg_sig));
}

static void sig_freectx(void *c)
{
	struct kg_sig *s = c;

	if (s == NULL)
		return;
	EVP_MD_CTX_free(s->mdctx);
	EVP_MD_free(s->md);
	OPENSSL_free(s->msg);
	OPENSSL_free(s);
}

static void *sig_dupctx(void *c)
{
	struct kg_sig *s = c, *d = OPENSSL_zalloc(sizeof(*d));

	if (d == NULL)
		return NULL;
	d->key = s->key;
	d->mech = s->mech;
	d->hashed = s->hashed;
	d->pss = s->pss;
	d->too_big = s->too_big;
	if (s->msg_len > 0) {
		d->msg = OPENSSL_memdup(s->msg, s->msg_len);
		if (d->msg == NULL) {
			sig_freectx(d);
			return NULL;
		}
		d->msg_len = d->msg_cap = s->msg_len;
	}
	if (s->md != NULL && EVP_MD_up_ref(s->md))
		d->md = s->md;
	if (s->mdctx != NULL) {
		d->mdctx = EVP_MD_CTX_new();
		if (d->mdctx == NULL ||
		    !EVP_MD_CTX_copy_ex(d->mdctx, s->mdctx)) {
			sig_freectx(d);
			return NULL;
		}
	}
	return d;
}

/* The mechanism for the key, digest and padding asked for. */
static int pick(struct kg_sig *s)
{
	char ok[256];

	s->mech = hsm_mech_pick(s->key->sg.usable, EVP_MD_get_type(s->md),
	                        s->pss, &s->hashed);
	if (s->mech != CK_UNAVAILABLE_INFORMATION)
		return 1;
	hsm_mech_names(s->key->sg.usable, ok, sizeof(ok));
	raise("sig_init",
	      "key '%s' on token '%s' cannot sign with %s%s: the key "
	      "(CKA_ALLOWED_MECHANISMS) and the token allow %s",
	      s->key->label, s->key->sg.token ? s->key->sg.token : "",
	      s->pss ? "RSASSA-PSS and " : "", EVP_MD_get0_name(s->md), ok);
	return 0;
}

/*
 * RSASSA-PSS as OpenSSL asks for it: pad mode "pss" (or PKCS#1 v1.5), a
 * salt as long as the digest, MGF1 with the signature's digest -- the one
 * form keygate signs; anything else is refused, not silently changed.
 */
static int sig_set_ctx_params(void *c, const OSSL_PARAM params[])
{
	struct kg_sig *s = c;
	const OSSL_PARAM *p;
	const char *str = NULL;
	int v, was = s->pss;

	if (params == NULL)
		return 1;
	if ((p = OSSL_PARAM_locate_const(params,
	                                 OSSL_SIGNATURE_PARAM_PAD_MODE))) {
		if (p->data_type == OSSL_PARAM_UTF8_STRING &&
		    OSSL_PARAM_get_utf8_string_ptr(p, &str))
			v = strcmp(str, OSSL_PKEY_RSA_PAD_MODE_PSS) == 0 ? 6
			    : strcmp(str, OSSL_PKEY_RSA_PAD_MODE_PKCSV15) == 0
			            ? 1
			            : 0;
		else if (!OSSL_PARAM_get_int(p, &v))
			return 0;
		if ((v != 1 && v != 6) || (v == 6 && s->key != NULL &&
		                           s->key->sg.type != HSM_KEY_RSA)) {
			raise("sig_set_ctx_params",
			      "keygate signs with PKCS#1 v1.5 or RSASSA-PSS "
			      "padding only");
			return 0;
		}
		s->pss = v == 6;
	}
	if ((p = OSSL_PARAM_locate_const(params,
	                                 OSSL_SIGNATURE_PARAM_PSS_SALTLEN))) {
		if (p->data_type == OSSL_PARAM_UTF8_STRING &&
		    OSSL_PARAM_get_utf8_string_ptr(p, &str))
			v = strcmp(str, OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST) == 0
			            ? -1
			            : -9;
		else if (!OSSL_PARAM_get_int(p, &v))
			return 0;
		if (v != -1 &&
		    (s->md == NULL || v != EVP_MD_get_size(s->md))) {
			raise("sig_set_ctx_params",
			      "keygate's RSASSA-PSS salt is as long as the "
			      "digest");
			return 0;
		}
	}
	if ((p = OSSL_PARAM_locate_const(params,
	                                 OSSL_SIGNATURE_PARAM_MGF1_DIGEST))) {
		if (!OSSL_PARAM_get_utf8_string_ptr(p, &str) ||
		    s->md == NULL || !EVP_MD_is_a(s->md, str)) {
			raise("sig_set_ctx_params",
			      "keygate's MGF1 uses the signature's digest");
			return 0;
		}
	}
	/* a change of padding after init: the mechanism with it */
	return s->pss == was || s->md == NULL || pick(s);
}

static const OSSL_PARAM *sig_settable_ctx_params(void *c, void *provctx)
{
	static const OSSL_PARAM t[] = {
	        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PAD_MODE, NULL, 0),
	        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_PSS_SALTLEN, NULL,
	                               0),
	        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_MGF1_DIGEST, NULL,
	                               0),
	        OSSL_PARAM_END};
	return t;
}

static int sig_init(void *c, const char *mdname, void *kd,
                    const OSSL_PARAM params[])
{
	struct kg_sig *s = c;

	if (kd != NULL)
		s->key = kd;
	if (s->key == NULL || !s->key->set)
		return 0;
	EVP_MD_free(s->md);
	s->md = NULL;
	s->msg_len = 0;
	s->too_big = 0;
	if (s->key->sg.type == HSM_KEY_ED) {
		/* pure EdDSA: the token gets the message, nothing hashes */
		if (mdname != NULL && mdname[0] != '\0') {
			raise("sig_init",
			      "EdDSA signs with no digest, not '%s'", mdname);
			return 0;
		}
		s->mech = hsm_mech_pick(s->key->sg.usable, NID_undef, 0,
		                        &s->hashed);
		return s->mech == CKM_EDDSA;
	}
	s->pss = 0;
	s->md = EVP_MD_fetch(NULL, mdname ? mdname : "SHA256", NULL);
	if (s->md == NULL) {
		raise("sig_init", "digest '%s' is not available",
		      mdname ? mdname : "SHA256");
		return 0;
	}
	if (!sig_set_ctx_params(s, params) || !pick(s))
		return 0;
	if (s->mdctx == NULL)
		s->mdctx = EVP_MD_CTX_new();
	return s->mdctx != NULL && EVP_DigestInit_ex2(s->mdctx, s->md, NULL);
}

static int sig_update(void *c, const unsigned char *data, size_t len)
{
	struct kg_sig *s = c;
	unsigned char *nb;
	size_t cap;

	if (!s->hashed)
		return s->mdctx != NULL &&
		       EVP_DigestUpdate(s->mdctx, data, len);
	if (len > MSG_MAX - s->msg_len) {
		s->too_big = 1;
		return 0;
	}
	if (s->msg_len + len > s->msg_cap) {
		cap = s->msg_cap ? s->msg_cap : 4096;
		while (cap < s->msg_len + len)
			cap *= 2;
		nb = OPENSSL_realloc(s->msg, cap);
		if (nb == NULL)
			return 0;
		s->msg = nb;
		s->msg_cap = cap;
	}
	memcpy(s->msg + s->msg_len, data, len);
	s->msg_len += len;
	return 1;
}

static int sig_max(const struct kg_key *k)
{
	if (k->sg.type == HSM_KEY_ED)
		return k->sg.curve_nid == NID_ED25519 ? 64 : 114;
	return k->sg.type == HSM_KEY_RSA ? (k->sg.bits + 7) / 8
	                                 : ecdsa_max_size(k->sg.bits);
}

/* RSASSA-PSS's parameters for a token: salt as long as md, MGF1 with md */
static int pss_params(const EVP_MD *md, CK_RSA_PKCS_PSS_PARAMS *pp)
{
	switch (EVP_MD_get_type(md)) {
	case NID_sha256:
		pp->hashAlg = CKM_SHA256;
		pp->mgf = CKG_MGF1_SHA256;
		break;
	case NID_sha384:
		pp->hashAlg = CKM_SHA384;
		pp->mgf = CKG_MGF1_SHA384;
		break;
	case NID_sha512:
		pp->hashAlg = CKM_SHA512;
		pp->mgf = CKG_MGF1_SHA512;
		break;
	default:
		return 0;
	}
	pp->sLen = (CK_ULONG)EVP_MD_get_size(md);
	return 1;
}

static int token_sign(struct kg_key *k, CK_MECHANISM_TYPE mt, const EVP_MD *md,
                      int pss, unsigned char *in, size_t inlen,
                      unsigned char *out, CK_ULONG *outlen)
{
	CK_RSA_PKCS_PSS_PARAMS pp;
	CK_MECHANISM mech = {mt, NULL, 0};
	CK_ULONG cap = *outlen;
	const struct kg_secret *pin = k->sg.pin;
	const char *fn;
	char one[32];
	CK_RV rv;
	int tries = 0;

	if (pss) {
		if (!pss_params(md, &pp)) {
			raise("token_sign",
			      "RSASSA-PSS with %s: keygate uses "
			      "SHA-256, SHA-384 or SHA-512",
			      EVP_MD_get0_name(md));
			return 0;
		}
		mech.pParameter = &pp;
		mech.ulParameterLen = sizeof(pp);
	}
	/* a signature is safe to ask for again: the pair is retried whole */
	do {
		*outlen = cap;
		hsm_lock_shared(k->sg.sh);
		fn = "C_SignInit";
		rv = hsm_C_SignInit(k->sg.f, k->sg.s, &mech, k->sg.obj);
		if (rv == CKR_OK && k->sg.always_auth) {
			/* this signature's own login (PIV and the like) */
			fn = "C_Login (CKU_CONTEXT_SPECIFIC)";
			rv = hsm_C_Login(k->sg.f, k->sg.s,
			                 CKU_CONTEXT_SPECIFIC,
			                 pin ? (CK_UTF8CHAR *)pin->buf : NULL,
			                 pin ? (CK_ULONG)pin->len : 0);
		}
		if (rv == CKR_OK) {
			fn = "C_Sign";
			rv = hsm_C_Sign(k->sg.f, k->sg.s, in, inlen, out,
			                outlen);
		}
		hsm_unlock(k->sg.sh);
	} while (hsm_again(rv, &tries));
	if (rv != CKR_OK) {
		const char *n = hsm_rv_name(rv);

		raise("token_sign",
		      "%s (%s) with key '%s' on token '%s' failed: %s", fn,
		      hsm_mech_name(mt, one, sizeof(one)), k->label,
		      k->sg.token ? k->sg.token : "", n ? n : "unknown CKR");
		return 0;
	}
	return 1;
}

static int sig_final(void *c, unsigned char *sig, size_t *siglen,
                     size_t sigsize)
{
	struct kg_sig *s = c;
	struct kg_key *k = s->key;
	unsigned char h[EVP_MAX_MD_SIZE], *di = NULL, raw[132];
	unsigned int hlen = 0;
	CK_ULONG outlen;
	size_t max;
	int ok = 0, dilen;

	if (k == NULL || (s->mdctx == NULL && !s->hashed))
		return 0;
	max = (size_t)sig_max(k);
	if (sig == NULL) {
		*siglen = max;
		return 1;
	}
	if (sigsize < max)
		return 0;
	if (s->too_big) {
		raise("sig_final",
		      "more than %zu MiB to sign with key '%s' by a hashed "
		      "mechanism",
		      MSG_MAX >> 20, k->label);
		return 0;
	}
	if (s->hashed) {
		/* the token hashes the message itself (EdDSA: signs it
		 * whole); RSA and EdDSA signatures are X.509's as they are */
		int as_is = k->sg.type != HSM_KEY_EC;

		outlen = as_is ? (CK_ULONG)sigsize : (CK_ULONG)sizeof(raw);
		ok = token_sign(k, s->mech, s->md, s->pss, s->msg, s->msg_len,
		                as_is ? sig : raw, &outlen);
		if (ok && as_is)
			*siglen = outlen;
		else if (ok)
			ok = hsm_sig_ecdsa_der(raw, (size_t)outlen, sig,
			                       sigsize, siglen);
		s->msg_len = 0;
		return ok;
	}
	if (!EVP_DigestFinal_ex(s->mdctx, h, &hlen))
		return 0;
	if (k->sg.type == HSM_KEY_RSA && s->pss) {
		/* CKM_RSA_PKCS_PSS signs the hash itself */
		outlen = (CK_ULONG)sigsize;
		ok = token_sign(k, s->mech, s->md, 1, h, hlen, sig, &outlen);
		if (ok)
			*siglen = outlen;
	} else if (k->sg.type == HSM_KEY_RSA) {
		dilen = hsm_sig_digest_info(s->md, h, hlen, &di);
		outlen = (CK_ULONG)sigsize;
		ok = dilen > 0 && token_sign(k, s->mech, s->md, 0, di,
		                             (size_t)dilen, sig, &outlen);
		if (ok)
			*siglen = outlen;
	} else {
		/* CKM_ECDSA gives r || s; X.509 wants ECDSA-Sig-Value DER */
		outlen = sizeof(raw);
		ok = token_sign(k, s->mech, s->md, 0, h, hlen, raw, &outlen) &&
		     hsm_sig_ecdsa_der(raw, (size_t)outlen, sig, sigsize,
		                       siglen);
	}
	OPENSSL_free(di);
	OPENSSL_cleanse(h, sizeof(h));
	return ok;
}

/* The AlgorithmIdentifier of RSASSA-PSS with md, MGF1(md), salt = |md|
 * (RFC 4055), into p. */
static int pss_algorithm_id(const EVP_MD *md, OSSL_PARAM *p)
{
	RSA_PSS_PARAMS *pp = RSA_PSS_PARAMS_new();
	X509_ALGOR *alg = X509_ALGOR_new(), *mh = X509_ALGOR_new();
	ASN1_STRING *mgf = NULL, *os = NULL;
	unsigned char *der = NULL;
	int len = -1, ok = 0;

	if (pp == NULL || alg == NULL || mh == NULL)
		goto out;
	pp->hashAlgorithm = X509_ALGOR_new();
	pp->maskGenAlgorithm = X509_ALGOR_new();
	pp->saltLength = ASN1_INTEGER_new();
	if (pp->hashAlgorithm == NULL || pp->maskGenAlgorithm == NULL ||
	    pp->saltLength == NULL)
		goto out;
	X509_ALGOR_set_md(pp->hashAlgorithm, md);
	X509_ALGOR_set_md(mh, md);
	if (!ASN1_INTEGER_set(pp->saltLength, EVP_MD_get_size(md)) ||
	    (mgf = ASN1_item_pack(mh, ASN1_ITEM_rptr(X509_ALGOR), NULL)) ==
	            NULL)
		goto out;
	X509_ALGOR_set0(pp->maskGenAlgorithm, OBJ_nid2obj(NID_mgf1),
	                V_ASN1_SEQUENCE, mgf);
	mgf = NULL;
	os = ASN1_item_pack(pp, ASN1_ITEM_rptr(RSA_PSS_PARAMS), NULL);
	if (os == NULL)
		goto out;
	X509_ALGOR_set0(alg, OBJ_nid2obj(NID_rsassaPss), V_ASN1_SEQUENCE, os);
	len = i2d_X509_ALGOR(alg, &der);
	ok = len > 0 && OSSL_PARAM_set_octet_string(p, der, (size_t)len);
out:
	OPENSSL_free(der);
	ASN1_STRING_free(mgf);
	X509_ALGOR_free(mh);
	X509_ALGOR_free(alg);
	RSA_PSS_PARAMS_free(pp);
	return ok;
}

static int sig_get_ctx_params(void *c, OSSL_PARAM params[])
{
	struct kg_sig *s = c;
	OSSL_PARAM *p;
	X509_ALGOR *alg;
	unsigned char *der = NULL;
	int nid, len, ok;

	p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_ALGORITHM_ID);
	if (p == NULL)
		return 1;
	if (s->key != NULL && s->key->sg.type == HSM_KEY_ED) {
		/* RFC 8410: the curve's OID, parameters absent */
		alg = X509_ALGOR_new();
		if (alg == NULL)
			return 0;
		X509_ALGOR_set0(alg, OBJ_nid2obj(s->key->sg.curve_nid),
		                V_ASN1_UNDEF, NULL);
		len = i2d_X509_ALGOR(alg, &der);
		ok = len > 0 &&
		     OSSL_PARAM_set_octet_string(p, der, (size_t)len);
		OPENSSL_free(der);
		X509_ALGOR_free(alg);
		return ok;
	}
	if (s->pss && s->md != NULL)
		return pss_algorithm_id(s->md, p);
	if (s->md == NULL || s->key == NULL ||
	    !OBJ_find_sigid_by_algs(&nid, EVP_MD_get_type(s->md),
	                            s->key->sg.type == HSM_KEY_RSA
	                                    ? EVP_PKEY_RSA
	                                    : EVP_PKEY_EC))
		return 0;
	alg = X509_ALGOR_new();
	if (alg == NULL)
		return 0;
	/* RFC 4055: RSA PKCS#1 v1.5 has NULL parameters, ECDSA none */
	X509_ALGOR_set0(alg, OBJ_nid2obj(nid),
	                s->key->sg.type == HSM_KEY_RSA ? V_ASN1_NULL
	                                               : V_ASN1_UNDEF,
	                NULL);
	len = i2d_X509_ALGOR(alg, &der);
	ok = len > 0 && OSSL_PARAM_set_octet_string(p, der, (size_t)len);
	OPENSSL_free(der);
	X509_ALGOR_free(alg);
	return ok;
}

static const OSSL_PARAM *sig_gettable_ctx_params(void *c, void *provctx)
{
	static const OSSL_PARAM t[] = {
	        OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID,
	                                NULL, 0),
	        OSSL_PARAM_END};
	return t;
}

static const OSSL_DISPATCH sig_fns[] = {
        {OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void))sig_newctx},
        {OSSL_FUNC_SIGNATURE_FREECTX, (void (*)(void))sig_freectx},
        {OSSL_FUNC_SIGNATURE_DUPCTX, (void (*)(void))sig_dupctx},
        {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, (void (*)(void))sig_init},
        {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, (void (*)(void))sig_update},
        {OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, (void (*)(void))sig_final},
        {OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS,
         (void (*)(void))sig_get_ctx_params},
        {OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS,
         (void (*)(void))sig_gettable_ctx_params},
        {OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS,
         (void (*)(void))sig_set_ctx_params},
        {OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS,
         (void (*)(void))sig_settable_ctx_params},
        {0, NULL}};

/* ---- encoder: public key as SubjectPublicKeyInfo DER ----------------- */

static void *enc_newctx(void *provctx)
{
	return provctx; /* stateless */
}

static void enc_freectx(void *c)
{
}

static int enc_does_selection(void *c, int selection)
{
	return (selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) != 0;
}

static int enc_encode(void *c, OSSL_CORE_BIO *out, const void *obj,
                      const OSSL_PARAM abstract[], int selection,
                      OSSL_PASSPHRASE_CALLBACK *cb, void *cbarg)
{
	const struct kg_key *k = obj;
	size_t written = 0;

	if (k == NULL || !k->set || c_bio_write_ex == NULL ||
	    (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) != 0)
		return 0; /* the private half never leaves the token here */
	return c_bio_write_ex(out, k->spki, k->sg.spki_len, &written) &&
	       written == k->sg.spki_len;
}

static const OSSL_DISPATCH enc_fns[] = {
        {OSSL_FUNC_ENCODER_NEWCTX, (void (*)(void))enc_newctx},
        {OSSL_FUNC_ENCODER_FREECTX, (void (*)(void))enc_freectx},
        {OSSL_FUNC_ENCODER_DOES_SELECTION, (void (*)(void))enc_does_selection},
        {OSSL_FUNC_ENCODER_ENCODE, (void (*)(void))enc_encode},
        {0, NULL}};

/* ---- provider -------------------------------------------------------- */

#define ENC_PROPS PROV_PROPS ",output=der,structure=SubjectPublicKeyInfo"

static const OSSL_ALGORITHM algs_keymgmt[] = {
        {"KG-RSA", PROV_PROPS, km_fns, "token RSA key"},
        {"KG-EC", PROV_PROPS, km_fns, "token EC key"},
        {"KG-ED25519", PROV_PROPS, km_fns, "token Ed25519 key"},
        {"KG-ED448", PROV_PROPS, km_fns, "token Ed448 key"},
        {NULL, NULL, NULL, NULL}};
static const OSSL_ALGORITHM algs_sig[] = {
        {"KG-RSA", PROV_PROPS, sig_fns, "RSA PKCS#1 v1.5 by C_Sign"},
        {"KG-EC", PROV_PROPS, sig_fns, "ECDSA by C_Sign"},
        {"KG-ED25519", PROV_PROPS, sig_fns, "Ed25519 by C_Sign"},
        {"KG-ED448", PROV_PROPS, sig_fns, "Ed448 by C_Sign"},
        {NULL, NULL, NULL, NULL}};
static const OSSL_ALGORITHM algs_enc[] = {
        {"KG-RSA", ENC_PROPS, enc_fns, NULL},
        {"KG-EC", ENC_PROPS, enc_fns, NULL},
        {"KG-ED25519", ENC_PROPS, enc_fns, NULL},
        {"KG-ED448", ENC_PROPS, enc_fns, NULL},
        {NULL, NULL, NULL, NULL}};

static const OSSL_ALGORITHM *prov_query(void *provctx, int op, int *no_cache)
{
	*no_cache = 0;
	switch (op) {
	case OSSL_OP_KEYMGMT:
		return algs_keymgmt;
	case OSSL_OP_SIGNATURE:
		return algs_sig;
	case OSSL_OP_ENCODER:
		return algs_enc;
	default:
		return NULL;
	}
}

static const OSSL_ITEM *prov_reasons(void *provctx)
{
	static const OSSL_ITEM r[] = {
	        {ERR_PACK(0, 0, KG_R_TOKEN), "token operation failed"},
	        {0, NULL}};
	return r;
}

static const OSSL_DISPATCH prov_fns[] = {
        {OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))prov_query},
        {OSSL_FUNC_PROVIDER_GET_REASON_STRINGS, (void (*)(void))prov_reasons},
        {0, NULL}};

static int prov_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                     const OSSL_DISPATCH **out, void **provctx)
{
	core = handle;
	for (; in->function_id != 0; in++) {
		switch (in->function_id) {
		case OSSL_FUNC_CORE_NEW_ERROR:
			c_new_error = OSSL_FUNC_core_new_error(in);
			break;
		case OSSL_FUNC_CORE_SET_ERROR_DEBUG:
			c_set_error_debug = OSSL_FUNC_core_set_error_debug(in);
			break;
		case OSSL_FUNC_CORE_VSET_ERROR:
			c_vset_error = OSSL_FUNC_core_vset_error(in);
			break;
		case OSSL_FUNC_BIO_WRITE_EX:
			c_bio_write_ex = OSSL_FUNC_BIO_write_ex(in);
			break;
		default:
			break;
		}
	}
	*out = prov_fns;
	*provctx = (void *)handle;
	return 1;
}

static OSSL_PROVIDER *prov_ours;
static pthread_once_t prov_once = PTHREAD_ONCE_INIT;

/* Drops our reference so that OpenSSL's own cleanup can free it. */
static void prov_unload(void)
{
	OSSL_PROVIDER_unload(prov_ours);
	prov_ours = NULL;
}

/*
 * Process-wide, once (pthread_once: batch workers wrap keys at the same
 * time): our provider is added and loaded, and unloaded at exit.
 * try_load with retain_fallbacks: the default provider keeps loading
 * itself when first needed, as it does without us. (Loading it explicitly
 * after a PKCS#11 module has used OpenSSL in this process leaks it in
 * OpenSSL 3.0.)
 */
static void prov_load_once(void)
{
	if (!OSSL_PROVIDER_add_builtin(NULL, PROV_NAME, prov_init))
		return;
	prov_ours = OSSL_PROVIDER_try_load(NULL, PROV_NAME, 1);
	/* registered after OpenSSL's own atexit handler, so it runs first */
	if (prov_ours != NULL)
		atexit(prov_unload);
}

static enum kg_code hsm_prov_load(struct kg_err *err)
{
	if (pthread_once(&prov_once, prov_load_once) != 0 || prov_ours == NULL)
		return kg_err_set(err, KG_E_RUNTIME,
		                  "cannot start the token key provider");
	return KG_OK;
}

enum kg_code hsm_prov_pkey(const struct hsm_signer *sg, EVP_PKEY **out,
                           struct kg_err *err)
{
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	enum kg_code rc;

	*out = NULL;
	rc = hsm_prov_load(err);
	if (rc != KG_OK)
		return rc;
	params[0] = OSSL_PARAM_construct_octet_string(PARAM_SIGNER,
	                                              (void *)&sg, sizeof(sg));
	params[1] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL,
	                                 sg->type == HSM_KEY_RSA  ? "KG-RSA"
	                                 : sg->type == HSM_KEY_EC ? "KG-EC"
	                                 : sg->curve_nid == NID_ED25519
	                                         ? "KG-ED25519"
	                                         : "KG-ED448",
	                                 PROV_PROPS);
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_KEYPAIR, params) <= 0)
		rc = kg_err_set(err, KG_E_RUNTIME,
		                "cannot wrap token key '%s' for signing",
		                sg->label ? sg->label : "");
	EVP_PKEY_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}
