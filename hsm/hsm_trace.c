/*
 * Every PKCS#11 call keygate makes goes through here: hsm_C_<Function>(f,
 * ...) calls f->C_<Function>(...) and, once hsm_trace_start gave a sink
 * (--verbose), hands it one line per call, as pkcs11-spy would show it:
 * the module, the function, the slot, session and object handles, the
 * mechanism, the attribute types involved, the CKR and the milliseconds.
 *
 * Never a PIN or key material: a PIN is "PIN hidden" (or "no PIN" for a
 * protected authentication path), and of attribute values only those that
 * cannot be secret are shown (class, key type, modulus bits, flags).
 * Labels, ids, moduli and points are named, not shown.
 */
#include "hsm/hsm_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void (*sink)(void *arg, const char *line);
static void *sink_arg;

void hsm_trace_start(void (*fn)(void *arg, const char *line), void *arg)
{
	sink = fn;
	sink_arg = arg;
}

int hsm_tracing(void)
{
	return sink != NULL;
}

/* ---- names ------------------------------------------------------------ */

struct name {
	CK_ULONG v;
	const char *s;
};

#define N(x)                                                                  \
	{                                                                     \
		x, #x                                                         \
	}
static const struct name attr_names[] = {
        N(CKA_CLASS),
        N(CKA_TOKEN),
        N(CKA_PRIVATE),
        N(CKA_LABEL),
        N(CKA_APPLICATION),
        N(CKA_VALUE),
        N(CKA_OBJECT_ID),
        N(CKA_CERTIFICATE_TYPE),
        N(CKA_ISSUER),
        N(CKA_SERIAL_NUMBER),
        N(CKA_TRUSTED),
        N(CKA_CERTIFICATE_CATEGORY),
        N(CKA_KEY_TYPE),
        N(CKA_SUBJECT),
        N(CKA_ID),
        N(CKA_SENSITIVE),
        N(CKA_ENCRYPT),
        N(CKA_DECRYPT),
        N(CKA_WRAP),
        N(CKA_UNWRAP),
        N(CKA_SIGN),
        N(CKA_SIGN_RECOVER),
        N(CKA_VERIFY),
        N(CKA_VERIFY_RECOVER),
        N(CKA_DERIVE),
        N(CKA_START_DATE),
        N(CKA_END_DATE),
        N(CKA_MODULUS),
        N(CKA_MODULUS_BITS),
        N(CKA_PUBLIC_EXPONENT),
        N(CKA_PRIVATE_EXPONENT),
        N(CKA_PRIME_1),
        N(CKA_PRIME_2),
        N(CKA_EXPONENT_1),
        N(CKA_EXPONENT_2),
        N(CKA_COEFFICIENT),
        N(CKA_PUBLIC_KEY_INFO),
        N(CKA_VALUE_LEN),
        N(CKA_EXTRACTABLE),
        N(CKA_LOCAL),
        N(CKA_NEVER_EXTRACTABLE),
        N(CKA_ALWAYS_SENSITIVE),
        N(CKA_KEY_GEN_MECHANISM),
        N(CKA_MODIFIABLE),
        N(CKA_COPYABLE),
        N(CKA_DESTROYABLE),
        N(CKA_EC_PARAMS),
        N(CKA_EC_POINT),
        N(CKA_ALWAYS_AUTHENTICATE),
        N(CKA_WRAP_WITH_TRUSTED),
        N(CKA_ALLOWED_MECHANISMS),
};

/* attributes whose value is a CK_BBOOL, shown as true/false */
static const CK_ATTRIBUTE_TYPE bools[] = {
        CKA_TOKEN,
        CKA_PRIVATE,
        CKA_TRUSTED,
        CKA_SENSITIVE,
        CKA_ENCRYPT,
        CKA_DECRYPT,
        CKA_WRAP,
        CKA_UNWRAP,
        CKA_SIGN,
        CKA_SIGN_RECOVER,
        CKA_VERIFY,
        CKA_VERIFY_RECOVER,
        CKA_DERIVE,
        CKA_EXTRACTABLE,
        CKA_LOCAL,
        CKA_NEVER_EXTRACTABLE,
        CKA_ALWAYS_SENSITIVE,
        CKA_MODIFIABLE,
        CKA_COPYABLE,
        CKA_DESTROYABLE,
        CKA_ALWAYS_AUTHENTICATE,
        CKA_WRAP_WITH_TRUSTED,
};

static const struct name class_names[] = {
        N(CKO_DATA),        N(CKO_CERTIFICATE), N(CKO_PUBLIC_KEY),
        N(CKO_PRIVATE_KEY), N(CKO_SECRET_KEY),
};

static const struct name keytype_names[] = {
        N(CKK_RSA),
        N(CKK_EC),
        N(CKK_EC_EDWARDS),
        N(CKK_AES),
};

static const struct name user_names[] = {
        N(CKU_SO),
        N(CKU_USER),
        N(CKU_CONTEXT_SPECIFIC),
};
#undef N

static const char *lookup(const struct name *t, size_t n, CK_ULONG v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].v == v)
			return t[i].s;
	return NULL;
}
#define LOOKUP(t, v) lookup(t, sizeof(t) / sizeof(t[0]), v)

/* ---- one line --------------------------------------------------------- */

/* A line: the call's arguments up to BODY bytes (then "..."), so that
 * the CKR and the time always fit after them. */
#define BODY 900
struct line {
	char buf[1024];
	size_t len, lim;
	int cut;
};

static void put(struct line *l, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void put(struct line *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (l->cut)
		return;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + l->len, l->lim - l->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= l->lim - l->len) {
		/* what did not fit goes, and says so */
		l->buf[l->len] = '\0';
		l->cut = 1;
		memcpy(l->buf + l->len, "...", 4);
		l->len += 3;
		return;
	}
	l->len += (size_t)n;
}

static int is_bool(CK_ATTRIBUTE_TYPE t)
{
	size_t i;

	for (i = 0; i < sizeof(bools) / sizeof(bools[0]); i++)
		if (bools[i] == t)
			return 1;
	return 0;
}

static int ulong_value(const CK_ATTRIBUTE *a, CK_ULONG *v)
{
	if (a->pValue == NULL || a->ulValueLen != sizeof(CK_ULONG))
		return 0;
	memcpy(v, a->pValue, sizeof(*v));
	return 1;
}

/* One attribute: its type, and its value where it cannot be a secret. */
static void put_attr(struct line *l, const CK_ATTRIBUTE *a, int have_value)
{
	const char *name = LOOKUP(attr_names, a->type), *vs = NULL;
	CK_ULONG v;

	if (name != NULL)
		put(l, "%s", name);
	else
		put(l, "CKA_0x%lx", (unsigned long)a->type);
	if (!have_value)
		return;
	if (a->ulValueLen == CK_UNAVAILABLE_INFORMATION) {
		put(l, "=unavailable");
		return;
	}
	if (a->pValue == NULL)
		return;
	if (is_bool(a->type) && a->ulValueLen == sizeof(CK_BBOOL)) {
		put(l, "=%s", *(const CK_BBOOL *)a->pValue ? "true" : "false");
		return;
	}
	if (!ulong_value(a, &v))
		return;
	switch (a->type) {
	case CKA_CLASS:
		vs = LOOKUP(class_names, v);
		break;
	case CKA_KEY_TYPE:
		vs = LOOKUP(keytype_names, v);
		break;
	case CKA_MODULUS_BITS:
	case CKA_CERTIFICATE_TYPE:
	case CKA_CERTIFICATE_CATEGORY:
		put(l, "=%lu", (unsigned long)v);
		return;
	default:
		return;
	}
	if (vs != NULL)
		put(l, "=%s", vs);
	else
		put(l, "=0x%lx", (unsigned long)v);
}

static void put_attrs(struct line *l, const CK_ATTRIBUTE *a, CK_ULONG n,
                      int have_value)
{
	CK_ULONG i;

	put(l, "[");
	for (i = 0; a != NULL && i < n; i++) {
		if (i > 0)
			put(l, " ");
		put_attr(l, &a[i], have_value);
	}
	put(l, "]");
}

static void put_mech(struct line *l, const CK_MECHANISM *m)
{
	char one[32];

	if (m == NULL)
		put(l, "no mechanism");
	else
		put(l, "%s", hsm_mech_name(m->mechanism, one, sizeof(one)));
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void begin(struct line *l, CK_FUNCTION_LIST *f, const char *fn)
{
	char *name = p11_kit_module_get_name(f), *path = NULL;
	const char *shown = name, *slash;

	l->len = 0;
	l->lim = BODY;
	l->cut = 0;
	l->buf[0] = '\0';
	if (shown == NULL) {
		path = p11_kit_module_get_filename(f);
		slash = path ? strrchr(path, '/') : NULL;
		shown = slash ? slash + 1 : path;
	}
	put(l, "%s: %s(", shown ? shown : "module", fn);
	free(name);
	free(path);
}

static void end(struct line *l, CK_RV rv, double t0)
{
	const char *rn = hsm_rv_name(rv);

	l->lim = sizeof(l->buf);
	l->cut = 0;
	if (rn != NULL)
		put(l, ") = %s", rn);
	else
		put(l, ") = CKR_0x%lx", (unsigned long)rv);
	put(l, ", %.3f ms", now_ms() - t0);
	sink(sink_arg, l->buf);
}

/* The start of a traced call: the time, if tracing. */
#define T0() (sink != NULL ? now_ms() : 0.0)

void hsm_trace_note(CK_FUNCTION_LIST *f, const char *fn, CK_RV rv, double t0)
{
	struct line l;

	if (sink == NULL)
		return;
	begin(&l, f, fn);
	end(&l, rv, t0);
}

double hsm_trace_t0(void)
{
	return T0();
}

/* ---- the calls ---------------------------------------------------------
 */

CK_RV hsm_C_GetInfo(CK_FUNCTION_LIST *f, CK_INFO *ci)
{
	double t0 = T0();
	CK_RV rv = f->C_GetInfo(ci);
	struct line l;

	if (sink == NULL)
		return rv;
	begin(&l, f, "C_GetInfo");
	end(&l, rv, t0);
	return rv;
}

CK_RV hsm_C_GetSlotList(CK_FUNCTION_LIST *f, CK_BBOOL present, CK_SLOT_ID *v,
                        CK_ULONG *n)
{
	double t0 = T0();
	CK_RV rv = f->C_GetSlotList(present, v, n);
	struct line l;

	if (sink == NULL)
		return rv;
	begin(&l, f, "C_GetSlotList");
	put(&l, "%s, %s", present ? "present" : "all",
	    v == NULL ? "count" : "list");
	if (rv == CKR_OK && n != NULL)
		put(&l, " -> %lu", (unsigned long)*n);
	end(&l, rv, t0);
	return rv;
}

CK_RV hsm_C_GetSlotInfo(CK_FUNCTION_LIST *f, CK_SLOT_ID slot, CK_SLOT_INFO *si)
{
	double t0 = T0();
	CK_RV rv = f->C_GetSlotInfo(slot, si);
	struct line l;

	if (sink == NULL)
		return rv;
	begin(&l, f, "C_GetSlotInfo");
	put(&l, "slot %lu", (unsigned long)slot);
	end(&l, rv, t0);
	return rv;
}

CK_RV hsm_C_GetTokenInfo(CK_FUNCTION_LIST *f, CK_SLOT_ID slot,
                         CK_TOKEN_INFO *ti)
{
	double t0 = T0();
	CK_RV rv = f->C_GetTokenInfo(slot, ti);
	struct line l;

	if (sink == NULL)
		return rv;
	begin(&l, f, "C_GetTokenInfo");
	put(&l, "slot %lu", (unsigned long)slot);
	end(&l, rv, t0);
	return rv;
}

CK_RV hsm_C_GetMechanismList(CK_FUNCTION_LIST *f, CK_SLOT_ID slot,
                             CK_MECHANISM_TYPE *v, CK_ULONG *n)
{
	double t0 = T0();
	CK_RV rv = f->C_GetMechanismList(slot, v, n);
	struct line l;

	if (sink == NULL)
		return rv;
	begin(&l, f, "C_GetMechanismList");
	put(&l, "slot %lu, %s", (unsigned long)slot,
	    v == NULL ? "count" : "list");
	if (rv == CKR_OK && n != NULL)
		put(&l, " -> %lu", (unsigned long)*n);
	end(&l, rv, t0);
	return rv;
}

CK_RV hsm_C_GetMechanismInfo(CK_FUNCTION_LIST *f, CK_SLOT_ID slot,
                             CK_MECHANISM_TYPE m, CK_MECHANISM_INFO *mi)
{
	double t0 = T0();
	CK_RV rv = f->C_GetMechanismInfo(slot, m, mi);
	struct line l;
	char one[32];

	if (sink == NULL)
		return rv;
	begin(&l, f, "C_GetMechanismInfo");
	put(&l, "slot %lu, %s", (unsigned long)slot,
	    hsm_mech_name(m, one, sizeof(one)));
	if (rv == CKR_OK)
		put(&l, " -> sizes %lu-%lu, flags 0x%lx",
		    (unsigned long)mi->ulMinKeySize,
		    (unsigned long)mi->ulMaxKeySize, (unsigned long)mi->flags);
	end(&l, rv, t0);
	return rv;
}

CK_RV hsm_C_InitToken(CK_FUNCTION_LIST *f, CK_SLOT_ID slot, CK_UTF8CHAR *so,
                      CK_ULONG so_len, CK_UTF8CHAR *label)
{
	double t0 = T0();
	CK_RV rv = f->C_InitToken(slot, so, so_len, label);
	struct line l;

	if (sink == NULL)
		return rv;
	begin(&l, f, "C_InitToken");
	put(&l, "slot %lu, %s, label", (unsigned long)slot,
	    so ? "SO PIN hidden" : "no SO PIN");
	end(&l, rv, t0);
	return rv;
}

CK_RV hsm_C_InitPIN(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_UTF8CHAR *pin,
                    CK_ULONG len)
{
	double t0 = T0();
	CK_RV rv = f->C_InitPIN(s, pin, len);
	struct line l;

	if (sink == NULL)
		return rv;
	begin(&l, f, "C_InitPIN");
	put(&l, "session 0x%lx, %s", (unsigned long)s,
	    pin ? "PIN hidden" : "no PIN");
	end(&l, rv, t0);
	return rv;
}

CK_RV hsm_C_OpenSession(CK_FUNCTION_LIST *f, CK_SLOT_ID slot, CK_FLAGS flags,
                        void *app, CK_NOTIFY notify, CK_SESSION_HANDLE *s)
{
	double t0 = T0();
	CK_RV rv = f->C_OpenSession(slot, flags, app, notify, s);
	struct line l;

	if (sink == NULL)
		return rv;
	begin(&l, f, "C_OpenSession");
	put(&l, "slot %lu, %s", (unsigned long)slot,
	    (flags & CKF_RW_SESSION) ? "read-write" : "read-only");
	if (rv == CKR_OK)
		put(&l, " -> session 0x%lx", (unsigned long)*s);
	end(&l, rv, t0);
	return rv;
}

CK_RV hsm_C_CloseSession(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s)
{
	double t0 = T0();
	CK_RV rv = f->C_CloseSession(s);
	struct line l;

	if (sink == NULL)
		return rv;
	begin(&l, f, "C_CloseSession");
	put(&l, "session 0x%lx", (unsigned long)s);
	end(&l, rv, t0);
	return rv;
}

CK_RV hsm_C_Login(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_USER_TYPE u,
                  CK_UTF8CHAR *pin, CK_ULONG len)
{
	double t0 = T0();
	CK_RV rv = f->C_Login(s, u, pin, len);
	const char *un;
	struct line l;

	if (sink == NULL)
		return rv;
	begin(&l, f, "C_Login");
	un = LOOKUP(user_names, u);
	put(&l, "session 0x%lx, %s, %s", (unsigned long)s, un ? un : "CKU_?",
	    pin ? "PIN hidden" : "no PIN (protected authentication path)");
	end(&l, rv, t0);
	return rv;
}

CK_RV hsm_C_Logout(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s)
{
	double t0 = T0();
	CK_RV rv = f->C_Logout(s);
	struct line l;

	if (sink == NULL)
		return rv;
	begin(&l, f, "C_Logout");
	put(&l, "session 0x%lx", (unsigned long)s);
	end(&l, rv, t0);
	return rv;
}

CK_RV hsm_C_DestroyObject(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                          CK_OBJECT_HANDLE h)
{
	double t0 = T0();
	CK_RV rv = f->C_DestroyObject(s, h);
	struct line l;

	if (sink == NULL)
		return rv;
	begin(&l, f, "C_DestroyObject");
	put(&l, "session 0x%lx, object 0x%lx", (unsigned long)s,
	    (unsigned long)h);
	end(&l, rv, t0);
	return rv;
}

CK_RV hsm_C_CreateObject(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                         CK_ATTRIBUTE *a, CK_ULONG n, CK_OBJECT_HANDLE *h)
{
	double t0 = T0();
	CK_RV rv = f->C_CreateObject(s, a, n, h);
	struct line l;

	if (sink == NULL)
		return rv;
	begin(&l, f, "C_CreateObject");
	put(&l, "session 0x%lx, ", (unsigned long)s);
	put_attrs(&l, a, n, 1);
	if (rv == CKR_OK)
		put(&l, " -> object 0x%lx", (unsigned long)*h);
	end(&l, rv, t0);
	return rv;
}

CK_RV hsm_C_SetPIN(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                   CK_UTF8CHAR *old_pin, CK_ULONG old_len,
                   CK_UTF8CHAR *new_pin, CK_ULONG new_len)
{
	double t0 = T0();
	CK_RV rv = f->C_SetPIN(s, old_pin, old_len, new_pin, new_len);
	struct line l;

	if (sink == NULL)
		return rv;
	begin(&l, f, "C_SetPIN");
	put(&l, "session 0x%lx, %s, %s", (unsigned long)s,
	    old_pin ? "old PIN hidden" : "no old PIN",
	    new_pin ? "new PIN hidden" : "no new PIN");
	end(&l, rv, t0);
	return rv;
}

CK_RV hsm_C_GetAttributeValue(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                              CK_OBJECT_HANDLE h, CK_ATTRIBUTE *a, CK_ULONG n)
{
	double t0 = T0();
	CK_RV rv = f->C_GetAttributeValue(s, h, a, n);
	struct line l;

	if (sink == NULL)
		return rv;
	begin(&l, f, "C_GetAttributeValue");
	put(&l, "session 0x%lx, object 0x%lx, ", (unsigned long)s,
	    (unsigned long)h);
	/* values as read, when the module gave them */
	put_attrs(&l, a, n,
	          rv == CKR_OK || rv == CKR_ATTRIBUTE_SENSITIVE ||
	                  rv == CKR_ATTRIBUTE_TYPE_INVALID ||
	                  rv == CKR_BUFFER_TOO_SMALL);
	end(&l, rv, t0);
	return rv;
}

CK_RV hsm_C_SetAttributeValue(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                              CK_OBJECT_HANDLE h, CK_ATTRIBUTE *a, CK_ULONG n)
{
	double t0 = T0();
	CK_RV rv = f->C_SetAttributeValue(s, h, a, n);
	struct line l;

	if (sink == NULL)
		return rv;
	begin(&l, f, "C_SetAttributeValue");
	put(&l, "session 0x%lx, object 0x%lx, ", (unsigned long)s,
	    (unsigned long)h);
	put_attrs(&l, a, n, 1);
	end(&l, rv, t0);
	return rv;
}

CK_RV hsm_C_FindObjectsInit(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                            CK_ATTRIBUTE *a, CK_ULONG n)
{
	double t0 = T0();
	CK_RV rv = f->C_FindObjectsInit(s, a, n);
	struct line l;

	if (sink == NULL)
		return rv;
	begin(&l, f, "C_FindObjectsInit");
	put(&l, "session 0x%lx, ", (unsigned long)s);
	put_attrs(&l, a, n, 1);
	end(&l, rv, t0);
	return rv;
}

CK_RV hsm_C_FindObjects(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                        CK_OBJECT_HANDLE *v, CK_ULONG max, CK_ULONG *got)
{
	double t0 = T0();
	CK_RV rv = f->C_FindObjects(s, v, max, got);
	struct line l;
	CK_ULONG i;

	if (sink == NULL)
		return rv;
	begin(&l, f, "C_FindObjects");
	put(&l, "session 0x%lx, max %lu", (unsigned long)s,
	    (unsigned long)max);
	if (rv == CKR_OK && got != NULL) {
		put(&l, " -> %lu [", (unsigned long)*got);
		for (i = 0; i < *got && i < max; i++)
			put(&l, i ? " 0x%lx" : "0x%lx", (unsigned long)v[i]);
		put(&l, "]");
	}
	end(&l, rv, t0);
	return rv;
}

CK_RV hsm_C_FindObjectsFinal(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s)
{
	double t0 = T0();
	CK_RV rv = f->C_FindObjectsFinal(s);
	struct line l;

	if (sink == NULL)
		return rv;
	begin(&l, f, "C_FindObjectsFinal");
	put(&l, "session 0x%lx", (unsigned long)s);
	end(&l, rv, t0);
	return rv;
}

CK_RV hsm_C_GenerateKeyPair(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s,
                            CK_MECHANISM *m, CK_ATTRIBUTE *pub, CK_ULONG npub,
                            CK_ATTRIBUTE *priv, CK_ULONG npriv,
                            CK_OBJECT_HANDLE *hpub, CK_OBJECT_HANDLE *hpriv)
{
	double t0 = T0();
	CK_RV rv = f->C_GenerateKeyPair(s, m, pub, npub, priv, npriv, hpub,
	                                hpriv);
	struct line l;

	if (sink == NULL)
		return rv;
	begin(&l, f, "C_GenerateKeyPair");
	put(&l, "session 0x%lx, ", (unsigned long)s);
	put_mech(&l, m);
	put(&l, ", public ");
	put_attrs(&l, pub, npub, 1);
	put(&l, ", private ");
	put_attrs(&l, priv, npriv, 1);
	if (rv == CKR_OK)
		put(&l, " -> public 0x%lx, private 0x%lx",
		    (unsigned long)*hpub, (unsigned long)*hpriv);
	end(&l, rv, t0);
	return rv;
}

CK_RV hsm_C_SignInit(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_MECHANISM *m,
                     CK_OBJECT_HANDLE key)
{
	double t0 = T0();
	CK_RV rv = f->C_SignInit(s, m, key);
	struct line l;

	if (sink == NULL)
		return rv;
	begin(&l, f, "C_SignInit");
	put(&l, "session 0x%lx, ", (unsigned long)s);
	put_mech(&l, m);
	put(&l, ", key 0x%lx", (unsigned long)key);
	end(&l, rv, t0);
	return rv;
}

CK_RV hsm_C_Sign(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, CK_BYTE *in,
                 CK_ULONG inlen, CK_BYTE *out, CK_ULONG *outlen)
{
	double t0 = T0();
	CK_RV rv = f->C_Sign(s, in, inlen, out, outlen);
	struct line l;

	if (sink == NULL)
		return rv;
	begin(&l, f, "C_Sign");
	put(&l, "session 0x%lx, %lu bytes in", (unsigned long)s,
	    (unsigned long)inlen);
	if ((rv == CKR_OK || rv == CKR_BUFFER_TOO_SMALL) && outlen != NULL)
		put(&l, " -> %lu bytes%s", (unsigned long)*outlen,
		    out == NULL ? " (size)" : "");
	end(&l, rv, t0);
	return rv;
}
