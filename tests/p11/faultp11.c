/*
 * faultp11: a PKCS#11 module that forwards every call to a real one and
 * fails the call the environment names, for the fault sweep
 * (tests/integration/t_faults.sh).
 *
 *   KG_FAULT_TARGET=PATH   the real module (default: SoftHSM2)
 *   KG_FAULT_AT=N          fail call N (calls count from 1 after load;
 *                          C_GetFunctionList is not counted)
 *   KG_FAULT_RV=0x30       the CK_RV a failed call returns
 *                          (default CKR_DEVICE_ERROR)
 *   KG_FAULT_MODE=once     only call N fails (default)
 *   KG_FAULT_MODE=from     call N and every later call fails: the token
 *                          was pulled
 *   KG_FAULT_MODE=stuck    call N and every later call fails until the
 *                          next C_Finalize (which goes through): a
 *                          module that keeps a store it could not read
 *                          broken until it is started anew (SoftHSM2)
 *   KG_FAULT_LOG=FILE      append "INDEX FUNCTION RV" per call, and
 *                          " fault" on a line whose call was failed here
 *   KG_FAULT_PINPAD=PIN    play a pinpad reader: the token says
 *                          CKF_PROTECTED_AUTHENTICATION_PATH, C_Login
 *                          without a PIN logs in with PIN (as if typed
 *                          on the pad), C_Login with a PIN is refused
 *                          (CKR_ARGUMENTS_BAD): the pad takes it, the
 *                          host must not
 *
 * A failed call never reaches the token, except C_Finalize, C_CloseSession
 * and C_CloseAllSessions: those are forwarded (so that nothing leaks) and
 * still return the fault's CK_RV. A failed sign, encrypt, decrypt or
 * digest call (not an Init) ends its operation, as PKCS#11 says any error
 * does: the shim finishes it on the target and throws the output away, so
 * that the session is left as a conforming token leaves it.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#define DEFAULT_TARGET "/usr/lib/softhsm/libsofthsm2.so"

static pthread_once_t once = PTHREAD_ONCE_INIT;
static CK_FUNCTION_LIST *real; /* the target's list; NULL: not loaded */
static atomic_ulong calls;     /* calls so far */
static unsigned long fault_at; /* 0: never */
static CK_RV fault_rv = CKR_DEVICE_ERROR;
static int fault_from;   /* mode from: every call from fault_at */
static int fault_stuck;  /* mode stuck: ... until C_Finalize */
static atomic_int stuck; /* mode stuck: failing now */
static int log_fd = -1;
static const char *pinpad; /* KG_FAULT_PINPAD, or NULL */

static unsigned long env_ulong(const char *name, unsigned long dflt)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (s == NULL || *s == '\0')
		return dflt;
	v = strtoul(s, &end, 0);
	if (*end != '\0') {
		fprintf(stderr, "faultp11: bad %s '%s'\n", name, s);
		return dflt;
	}
	return v;
}

static void load(void)
{
	const char *target = getenv("KG_FAULT_TARGET");
	const char *mode = getenv("KG_FAULT_MODE");
	const char *log = getenv("KG_FAULT_LOG");
	CK_C_GetFunctionList get;
	CK_FUNCTION_LIST *list = NULL;
	void *dl;

	if (target == NULL || *target == '\0')
		target = DEFAULT_TARGET;
	fault_at = env_ulong("KG_FAULT_AT", 0);
	pinpad = getenv("KG_FAULT_PINPAD");
	fault_rv = (CK_RV)env_ulong("KG_FAULT_RV", CKR_DEVICE_ERROR);
	if (mode != NULL && strcmp(mode, "from") == 0)
		fault_from = 1;
	else if (mode != NULL && strcmp(mode, "stuck") == 0)
		fault_stuck = 1;
	else if (mode != NULL && *mode != '\0' && strcmp(mode, "once") != 0)
		fprintf(stderr, "faultp11: bad KG_FAULT_MODE '%s'\n", mode);
	if (log != NULL && *log != '\0') {
		log_fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		              0644);
		if (log_fd < 0)
			fprintf(stderr, "faultp11: cannot open %s\n", log);
	}

	/* never dlclose()d: the target lives as long as the process */
	dl = dlopen(target, RTLD_NOW | RTLD_LOCAL);
	if (dl == NULL) {
		fprintf(stderr, "faultp11: cannot load %s: %s\n", target,
		        dlerror());
		return;
	}
	*(void **)&get = dlsym(dl, "C_GetFunctionList");
	if (get == NULL || get(&list) != CKR_OK || list == NULL) {
		fprintf(stderr, "faultp11: %s has no function list\n", target);
		return;
	}
	real = list;
}

static void log_call(unsigned long n, const char *fn, CK_RV rv, int fault)
{
	char line[128];
	int len;

	if (log_fd < 0)
		return;
	len = snprintf(line, sizeof(line), "%lu %s 0x%lx%s\n", n, fn,
	               (unsigned long)rv, fault ? " fault" : "");
	if (len > 0 && (size_t)len < sizeof(line))
		(void)!write(log_fd, line, (size_t)len);
}

/* Counts a call; 1 (and *rv the fault) if this call is to fail. */
static int fault_begin(unsigned long *n, CK_RV *rv)
{
	*n = atomic_fetch_add(&calls, 1) + 1;
	if (fault_stuck) {
		if (*n == fault_at)
			atomic_store(&stuck, 1);
		if (!atomic_load(&stuck))
			return 0;
	} else if (fault_at == 0 || *n < fault_at ||
	           (*n > fault_at && !fault_from)) {
		return 0;
	}
	*rv = fault_rv;
	return 1;
}

static CK_RV fault_end(unsigned long n, const char *fn, CK_RV rv)
{
	log_call(n, fn, rv, 0);
	return rv;
}

static CK_RV fault_hit(unsigned long n, const char *fn, CK_RV rv)
{
	log_call(n, fn, rv, 1);
	return rv;
}

/* Forward a call to the target unless it is the one to fail. */
#define FWD(name, args)                                                       \
	do {                                                                  \
		unsigned long n_;                                             \
		CK_RV rv_;                                                    \
		if (fault_begin(&n_, &rv_))                                   \
			return fault_hit(n_, #name, rv_);                     \
		return fault_end(n_, #name, real->name args);                 \
	} while (0)

/* Forward it whatever happens, but report the fault (releases). */
#define FWD_ALWAYS(name, args)                                                \
	do {                                                                  \
		unsigned long n_;                                             \
		CK_RV rv_, got_;                                              \
		int hit_ = fault_begin(&n_, &rv_);                            \
		got_ = real->name args;                                       \
		if (hit_)                                                     \
			return fault_hit(n_, #name, rv_);                     \
		return fault_end(n_, #name, got_);                            \
	} while (0)

/* Fail the call, but first end its operation on the target (end). */
#define FWD_ENDING(name, args, end)                                           \
	do {                                                                  \
		unsigned long n_;                                             \
		CK_RV rv_;                                                    \
		if (fault_begin(&n_, &rv_)) {                                 \
			end;                                                  \
			return fault_hit(n_, #name, rv_);                     \
		}                                                             \
		return fault_end(n_, #name, real->name args);                 \
	} while (0)

/* C_Sign, C_Encrypt, C_Decrypt, C_Digest: in, then out */
typedef CK_RV (*one_part_fn)(CK_SESSION_HANDLE, CK_BYTE *, CK_ULONG, CK_BYTE *,
                             CK_ULONG *);
/* C_SignFinal, C_EncryptFinal, C_DecryptFinal, C_DigestFinal */
typedef CK_RV (*final_fn)(CK_SESSION_HANDLE, CK_BYTE *, CK_ULONG *);

/* Ends a single-part operation: its size, then its output, thrown away. */
static void end_one_part(one_part_fn fn, CK_SESSION_HANDLE s, CK_BYTE *in,
                         CK_ULONG in_len)
{
	CK_ULONG n = 0;
	CK_BYTE *buf;

	if (fn(s, in, in_len, NULL, &n) != CKR_OK)
		return; /* an error has ended it */
	buf = malloc(n > 0 ? n : 1);
	if (buf != NULL)
		(void)fn(s, in, in_len, buf, &n);
	free(buf);
}

/* Ends a multi-part operation the same way. */
static void end_final(final_fn fn, CK_SESSION_HANDLE s)
{
	CK_ULONG n = 0;
	CK_BYTE *buf;

	if (fn(s, NULL, &n) != CKR_OK)
		return;
	buf = malloc(n > 0 ? n : 1);
	if (buf != NULL)
		(void)fn(s, buf, &n);
	free(buf);
}

static CK_RV w_Initialize(void *init_args)
{
	FWD(C_Initialize, (init_args));
}

static CK_RV w_Finalize(void *reserved)
{
	atomic_store(&stuck, 0); /* started anew: it works again */
	FWD_ALWAYS(C_Finalize, (reserved));
}

static CK_RV w_GetInfo(CK_INFO *info)
{
	FWD(C_GetInfo, (info));
}

static CK_RV w_GetSlotList(CK_BBOOL present, CK_SLOT_ID *slots,
                           CK_ULONG *count)
{
	FWD(C_GetSlotList, (present, slots, count));
}

static CK_RV w_GetSlotInfo(CK_SLOT_ID slot, CK_SLOT_INFO *info)
{
	FWD(C_GetSlotInfo, (slot, info));
}

static CK_RV get_token_info(CK_SLOT_ID slot, CK_TOKEN_INFO *info)
{
	CK_RV rv = real->C_GetTokenInfo(slot, info);

	if (rv == CKR_OK && pinpad != NULL)
		info->flags |= CKF_PROTECTED_AUTHENTICATION_PATH;
	return rv;
}

static CK_RV w_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO *info)
{
	unsigned long n;
	CK_RV rv;

	if (fault_begin(&n, &rv))
		return fault_hit(n, "C_GetTokenInfo", rv);
	return fault_end(n, "C_GetTokenInfo", get_token_info(slot, info));
}

static CK_RV w_GetMechanismList(CK_SLOT_ID slot, CK_MECHANISM_TYPE *mechs,
                                CK_ULONG *count)
{
	FWD(C_GetMechanismList, (slot, mechs, count));
}

static CK_RV w_GetMechanismInfo(CK_SLOT_ID slot, CK_MECHANISM_TYPE type,
                                CK_MECHANISM_INFO *info)
{
	FWD(C_GetMechanismInfo, (slot, type, info));
}

static CK_RV w_InitToken(CK_SLOT_ID slot, CK_UTF8CHAR *pin, CK_ULONG pin_len,
                         CK_UTF8CHAR *label)
{
	FWD(C_InitToken, (slot, pin, pin_len, label));
}

static CK_RV w_InitPIN(CK_SESSION_HANDLE s, CK_UTF8CHAR *pin, CK_ULONG pin_len)
{
	FWD(C_InitPIN, (s, pin, pin_len));
}

static CK_RV w_SetPIN(CK_SESSION_HANDLE s, CK_UTF8CHAR *old_pin,
                      CK_ULONG old_len, CK_UTF8CHAR *new_pin, CK_ULONG new_len)
{
	FWD(C_SetPIN, (s, old_pin, old_len, new_pin, new_len));
}

static CK_RV w_OpenSession(CK_SLOT_ID slot, CK_FLAGS flags, void *app,
                           CK_NOTIFY notify, CK_SESSION_HANDLE *s)
{
	FWD(C_OpenSession, (slot, flags, app, notify, s));
}

static CK_RV w_CloseSession(CK_SESSION_HANDLE s)
{
	FWD_ALWAYS(C_CloseSession, (s));
}

static CK_RV w_CloseAllSessions(CK_SLOT_ID slot)
{
	FWD_ALWAYS(C_CloseAllSessions, (slot));
}

static CK_RV w_GetSessionInfo(CK_SESSION_HANDLE s, CK_SESSION_INFO *info)
{
	FWD(C_GetSessionInfo, (s, info));
}

static CK_RV w_GetOperationState(CK_SESSION_HANDLE s, CK_BYTE *state,
                                 CK_ULONG *state_len)
{
	FWD(C_GetOperationState, (s, state, state_len));
}

static CK_RV w_SetOperationState(CK_SESSION_HANDLE s, CK_BYTE *state,
                                 CK_ULONG state_len, CK_OBJECT_HANDLE enc,
                                 CK_OBJECT_HANDLE auth)
{
	FWD(C_SetOperationState, (s, state, state_len, enc, auth));
}

static CK_RV login(CK_SESSION_HANDLE s, CK_USER_TYPE user, CK_UTF8CHAR *pin,
                   CK_ULONG pin_len)
{
	if (pinpad == NULL)
		return real->C_Login(s, user, pin, pin_len);
	if (pin != NULL)
		return CKR_ARGUMENTS_BAD;
	return real->C_Login(s, user, (CK_UTF8CHAR *)pinpad, strlen(pinpad));
}

static CK_RV w_Login(CK_SESSION_HANDLE s, CK_USER_TYPE user, CK_UTF8CHAR *pin,
                     CK_ULONG pin_len)
{
	unsigned long n;
	CK_RV rv;

	if (fault_begin(&n, &rv))
		return fault_hit(n, "C_Login", rv);
	return fault_end(n, "C_Login", login(s, user, pin, pin_len));
}

static CK_RV w_Logout(CK_SESSION_HANDLE s)
{
	FWD(C_Logout, (s));
}

static CK_RV w_CreateObject(CK_SESSION_HANDLE s, CK_ATTRIBUTE *templ,
                            CK_ULONG count, CK_OBJECT_HANDLE *obj)
{
	FWD(C_CreateObject, (s, templ, count, obj));
}

static CK_RV w_CopyObject(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
                          CK_ATTRIBUTE *templ, CK_ULONG count,
                          CK_OBJECT_HANDLE *new_obj)
{
	FWD(C_CopyObject, (s, obj, templ, count, new_obj));
}

static CK_RV w_DestroyObject(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj)
{
	FWD(C_DestroyObject, (s, obj));
}

static CK_RV w_GetObjectSize(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
                             CK_ULONG *size)
{
	FWD(C_GetObjectSize, (s, obj, size));
}

static CK_RV w_GetAttributeValue(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
                                 CK_ATTRIBUTE *templ, CK_ULONG count)
{
	unsigned long n;
	CK_ULONG i;
	CK_RV rv;

	if (!fault_begin(&n, &rv))
		return fault_end(
		        n, "C_GetAttributeValue",
		        real->C_GetAttributeValue(s, obj, templ, count));
	/* as a module withholding every attribute answers (PKCS#11 says
	 * so for sensitive ones): no length for any */
	if (rv == CKR_ATTRIBUTE_SENSITIVE)
		for (i = 0; i < count; i++)
			templ[i].ulValueLen = CK_UNAVAILABLE_INFORMATION;
	return fault_hit(n, "C_GetAttributeValue", rv);
}

static CK_RV w_SetAttributeValue(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE obj,
                                 CK_ATTRIBUTE *templ, CK_ULONG count)
{
	FWD(C_SetAttributeValue, (s, obj, templ, count));
}

static CK_RV w_FindObjectsInit(CK_SESSION_HANDLE s, CK_ATTRIBUTE *templ,
                               CK_ULONG count)
{
	FWD(C_FindObjectsInit, (s, templ, count));
}

static CK_RV w_FindObjects(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE *objs,
                           CK_ULONG max, CK_ULONG *count)
{
	FWD(C_FindObjects, (s, objs, max, count));
}

static CK_RV w_FindObjectsFinal(CK_SESSION_HANDLE s)
{
	FWD(C_FindObjectsFinal, (s));
}

static CK_RV w_EncryptInit(CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                           CK_OBJECT_HANDLE key)
{
	FWD(C_EncryptInit, (s, mech, key));
}

static CK_RV w_Encrypt(CK_SESSION_HANDLE s, CK_BYTE *data, CK_ULONG data_len,
                       CK_BYTE *out, CK_ULONG *out_len)
{
	FWD_ENDING(C_Encrypt, (s, data, data_len, out, out_len),
	           end_one_part(real->C_Encrypt, s, data, data_len));
}

static CK_RV w_EncryptUpdate(CK_SESSION_HANDLE s, CK_BYTE *part,
                             CK_ULONG part_len, CK_BYTE *out,
                             CK_ULONG *out_len)
{
	FWD_ENDING(C_EncryptUpdate, (s, part, part_len, out, out_len),
	           end_final(real->C_EncryptFinal, s));
}

static CK_RV w_EncryptFinal(CK_SESSION_HANDLE s, CK_BYTE *out,
                            CK_ULONG *out_len)
{
	FWD_ENDING(C_EncryptFinal, (s, out, out_len),
	           end_final(real->C_EncryptFinal, s));
}

static CK_RV w_DecryptInit(CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                           CK_OBJECT_HANDLE key)
{
	FWD(C_DecryptInit, (s, mech, key));
}

static CK_RV w_Decrypt(CK_SESSION_HANDLE s, CK_BYTE *in, CK_ULONG in_len,
                       CK_BYTE *out, CK_ULONG *out_len)
{
	FWD_ENDING(C_Decrypt, (s, in, in_len, out, out_len),
	           end_one_part(real->C_Decrypt, s, in, in_len));
}

static CK_RV w_DecryptUpdate(CK_SESSION_HANDLE s, CK_BYTE *in, CK_ULONG in_len,
                             CK_BYTE *out, CK_ULONG *out_len)
{
	FWD_ENDING(C_DecryptUpdate, (s, in, in_len, out, out_len),
	           end_final(real->C_DecryptFinal, s));
}

static CK_RV w_DecryptFinal(CK_SESSION_HANDLE s, CK_BYTE *out,
                            CK_ULONG *out_len)
{
	FWD_ENDING(C_DecryptFinal, (s, out, out_len),
	           end_final(real->C_DecryptFinal, s));
}

static CK_RV w_DigestInit(CK_SESSION_HANDLE s, CK_MECHANISM *mech)
{
	FWD(C_DigestInit, (s, mech));
}

static CK_RV w_Digest(CK_SESSION_HANDLE s, CK_BYTE *data, CK_ULONG data_len,
                      CK_BYTE *out, CK_ULONG *out_len)
{
	FWD_ENDING(C_Digest, (s, data, data_len, out, out_len),
	           end_one_part(real->C_Digest, s, data, data_len));
}

static CK_RV w_DigestUpdate(CK_SESSION_HANDLE s, CK_BYTE *part,
                            CK_ULONG part_len)
{
	FWD_ENDING(C_DigestUpdate, (s, part, part_len),
	           end_final(real->C_DigestFinal, s));
}

static CK_RV w_DigestKey(CK_SESSION_HANDLE s, CK_OBJECT_HANDLE key)
{
	FWD_ENDING(C_DigestKey, (s, key), end_final(real->C_DigestFinal, s));
}

static CK_RV w_DigestFinal(CK_SESSION_HANDLE s, CK_BYTE *out,
                           CK_ULONG *out_len)
{
	FWD_ENDING(C_DigestFinal, (s, out, out_len),
	           end_final(real->C_DigestFinal, s));
}

static CK_RV w_SignInit(CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                        CK_OBJECT_HANDLE key)
{
	FWD(C_SignInit, (s, mech, key));
}

static CK_RV w_Sign(CK_SESSION_HANDLE s, CK_BYTE *data, CK_ULONG data_len,
                    CK_BYTE *sig, CK_ULONG *sig_len)
{
	FWD_ENDING(C_Sign, (s, data, data_len, sig, sig_len),
	           end_one_part(real->C_Sign, s, data, data_len));
}

static CK_RV w_SignUpdate(CK_SESSION_HANDLE s, CK_BYTE *part,
                          CK_ULONG part_len)
{
	FWD_ENDING(C_SignUpdate, (s, part, part_len),
	           end_final(real->C_SignFinal, s));
}

static CK_RV w_SignFinal(CK_SESSION_HANDLE s, CK_BYTE *sig, CK_ULONG *sig_len)
{
	FWD_ENDING(C_SignFinal, (s, sig, sig_len),
	           end_final(real->C_SignFinal, s));
}

static CK_RV w_SignRecoverInit(CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                               CK_OBJECT_HANDLE key)
{
	FWD(C_SignRecoverInit, (s, mech, key));
}

static CK_RV w_SignRecover(CK_SESSION_HANDLE s, CK_BYTE *data,
                           CK_ULONG data_len, CK_BYTE *sig, CK_ULONG *sig_len)
{
	FWD(C_SignRecover, (s, data, data_len, sig, sig_len));
}

static CK_RV w_VerifyInit(CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                          CK_OBJECT_HANDLE key)
{
	FWD(C_VerifyInit, (s, mech, key));
}

static CK_RV w_Verify(CK_SESSION_HANDLE s, CK_BYTE *data, CK_ULONG data_len,
                      CK_BYTE *sig, CK_ULONG sig_len)
{
	FWD(C_Verify, (s, data, data_len, sig, sig_len));
}

static CK_RV w_VerifyUpdate(CK_SESSION_HANDLE s, CK_BYTE *part,
                            CK_ULONG part_len)
{
	FWD(C_VerifyUpdate, (s, part, part_len));
}

static CK_RV w_VerifyFinal(CK_SESSION_HANDLE s, CK_BYTE *sig, CK_ULONG sig_len)
{
	FWD(C_VerifyFinal, (s, sig, sig_len));
}

static CK_RV w_VerifyRecoverInit(CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                                 CK_OBJECT_HANDLE key)
{
	FWD(C_VerifyRecoverInit, (s, mech, key));
}

static CK_RV w_VerifyRecover(CK_SESSION_HANDLE s, CK_BYTE *sig,
                             CK_ULONG sig_len, CK_BYTE *data,
                             CK_ULONG *data_len)
{
	FWD(C_VerifyRecover, (s, sig, sig_len, data, data_len));
}

static CK_RV w_DigestEncryptUpdate(CK_SESSION_HANDLE s, CK_BYTE *part,
                                   CK_ULONG part_len, CK_BYTE *out,
                                   CK_ULONG *out_len)
{
	FWD(C_DigestEncryptUpdate, (s, part, part_len, out, out_len));
}

static CK_RV w_DecryptDigestUpdate(CK_SESSION_HANDLE s, CK_BYTE *in,
                                   CK_ULONG in_len, CK_BYTE *out,
                                   CK_ULONG *out_len)
{
	FWD(C_DecryptDigestUpdate, (s, in, in_len, out, out_len));
}

static CK_RV w_SignEncryptUpdate(CK_SESSION_HANDLE s, CK_BYTE *part,
                                 CK_ULONG part_len, CK_BYTE *out,
                                 CK_ULONG *out_len)
{
	FWD(C_SignEncryptUpdate, (s, part, part_len, out, out_len));
}

static CK_RV w_DecryptVerifyUpdate(CK_SESSION_HANDLE s, CK_BYTE *in,
                                   CK_ULONG in_len, CK_BYTE *out,
                                   CK_ULONG *out_len)
{
	FWD(C_DecryptVerifyUpdate, (s, in, in_len, out, out_len));
}

static CK_RV w_GenerateKey(CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                           CK_ATTRIBUTE *templ, CK_ULONG count,
                           CK_OBJECT_HANDLE *key)
{
	FWD(C_GenerateKey, (s, mech, templ, count, key));
}

static CK_RV w_GenerateKeyPair(CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                               CK_ATTRIBUTE *pub_templ, CK_ULONG pub_count,
                               CK_ATTRIBUTE *priv_templ, CK_ULONG priv_count,
                               CK_OBJECT_HANDLE *pub, CK_OBJECT_HANDLE *priv)
{
	FWD(C_GenerateKeyPair, (s, mech, pub_templ, pub_count, priv_templ,
	                        priv_count, pub, priv));
}

static CK_RV w_WrapKey(CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                       CK_OBJECT_HANDLE wrapping, CK_OBJECT_HANDLE key,
                       CK_BYTE *out, CK_ULONG *out_len)
{
	FWD(C_WrapKey, (s, mech, wrapping, key, out, out_len));
}

static CK_RV w_UnwrapKey(CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                         CK_OBJECT_HANDLE unwrapping, CK_BYTE *in,
                         CK_ULONG in_len, CK_ATTRIBUTE *templ, CK_ULONG count,
                         CK_OBJECT_HANDLE *key)
{
	FWD(C_UnwrapKey, (s, mech, unwrapping, in, in_len, templ, count, key));
}

static CK_RV w_DeriveKey(CK_SESSION_HANDLE s, CK_MECHANISM *mech,
                         CK_OBJECT_HANDLE base, CK_ATTRIBUTE *templ,
                         CK_ULONG count, CK_OBJECT_HANDLE *key)
{
	FWD(C_DeriveKey, (s, mech, base, templ, count, key));
}

static CK_RV w_SeedRandom(CK_SESSION_HANDLE s, CK_BYTE *seed,
                          CK_ULONG seed_len)
{
	FWD(C_SeedRandom, (s, seed, seed_len));
}

static CK_RV w_GenerateRandom(CK_SESSION_HANDLE s, CK_BYTE *out,
                              CK_ULONG out_len)
{
	FWD(C_GenerateRandom, (s, out, out_len));
}

static CK_RV w_GetFunctionStatus(CK_SESSION_HANDLE s)
{
	FWD(C_GetFunctionStatus, (s));
}

static CK_RV w_CancelFunction(CK_SESSION_HANDLE s)
{
	FWD(C_CancelFunction, (s));
}

static CK_RV w_WaitForSlotEvent(CK_FLAGS flags, CK_SLOT_ID *slot,
                                void *reserved)
{
	FWD(C_WaitForSlotEvent, (flags, slot, reserved));
}

static CK_FUNCTION_LIST shim = {
        .version = {CRYPTOKI_VERSION_MAJOR, CRYPTOKI_VERSION_MINOR},
        .C_Initialize = w_Initialize,
        .C_Finalize = w_Finalize,
        .C_GetInfo = w_GetInfo,
        .C_GetFunctionList = C_GetFunctionList,
        .C_GetSlotList = w_GetSlotList,
        .C_GetSlotInfo = w_GetSlotInfo,
        .C_GetTokenInfo = w_GetTokenInfo,
        .C_GetMechanismList = w_GetMechanismList,
        .C_GetMechanismInfo = w_GetMechanismInfo,
        .C_InitToken = w_InitToken,
        .C_InitPIN = w_InitPIN,
        .C_SetPIN = w_SetPIN,
        .C_OpenSession = w_OpenSession,
        .C_CloseSession = w_CloseSession,
        .C_CloseAllSessions = w_CloseAllSessions,
        .C_GetSessionInfo = w_GetSessionInfo,
        .C_GetOperationState = w_GetOperationState,
        .C_SetOperationState = w_SetOperationState,
        .C_Login = w_Login,
        .C_Logout = w_Logout,
        .C_CreateObject = w_CreateObject,
        .C_CopyObject = w_CopyObject,
        .C_DestroyObject = w_DestroyObject,
        .C_GetObjectSize = w_GetObjectSize,
        .C_GetAttributeValue = w_GetAttributeValue,
        .C_SetAttributeValue = w_SetAttributeValue,
        .C_FindObjectsInit = w_FindObjectsInit,
        .C_FindObjects = w_FindObjects,
        .C_FindObjectsFinal = w_FindObjectsFinal,
        .C_EncryptInit = w_EncryptInit,
        .C_Encrypt = w_Encrypt,
        .C_EncryptUpdate = w_EncryptUpdate,
        .C_EncryptFinal = w_EncryptFinal,
        .C_DecryptInit = w_DecryptInit,
        .C_Decrypt = w_Decrypt,
        .C_DecryptUpdate = w_DecryptUpdate,
        .C_DecryptFinal = w_DecryptFinal,
        .C_DigestInit = w_DigestInit,
        .C_Digest = w_Digest,
        .C_DigestUpdate = w_DigestUpdate,
        .C_DigestKey = w_DigestKey,
        .C_DigestFinal = w_DigestFinal,
        .C_SignInit = w_SignInit,
        .C_Sign = w_Sign,
        .C_SignUpdate = w_SignUpdate,
        .C_SignFinal = w_SignFinal,
        .C_SignRecoverInit = w_SignRecoverInit,
        .C_SignRecover = w_SignRecover,
        .C_VerifyInit = w_VerifyInit,
        .C_Verify = w_Verify,
        .C_VerifyUpdate = w_VerifyUpdate,
        .C_VerifyFinal = w_VerifyFinal,
        .C_VerifyRecoverInit = w_VerifyRecoverInit,
        .C_VerifyRecover = w_VerifyRecover,
        .C_DigestEncryptUpdate = w_DigestEncryptUpdate,
        .C_DecryptDigestUpdate = w_DecryptDigestUpdate,
        .C_SignEncryptUpdate = w_SignEncryptUpdate,
        .C_DecryptVerifyUpdate = w_DecryptVerifyUpdate,
        .C_GenerateKey = w_GenerateKey,
        .C_GenerateKeyPair = w_GenerateKeyPair,
        .C_WrapKey = w_WrapKey,
        .C_UnwrapKey = w_UnwrapKey,
        .C_DeriveKey = w_DeriveKey,
        .C_SeedRandom = w_SeedRandom,
        .C_GenerateRandom = w_GenerateRandom,
        .C_GetFunctionStatus = w_GetFunctionStatus,
        .C_CancelFunction = w_CancelFunction,
        .C_WaitForSlotEvent = w_WaitForSlotEvent,
};

/* The one exported symbol. Not counted, never failed. */
CK_RV C_GetFunctionList(CK_FUNCTION_LIST **list)
{
	if (list == NULL)
		return CKR_ARGUMENTS_BAD;
	pthread_once(&once, load);
	if (real == NULL)
		return CKR_GENERAL_ERROR;
	*list = &shim;
	return CKR_OK;
}
