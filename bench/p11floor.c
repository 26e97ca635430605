/*
 * p11floor: the raw PKCS#11 floor of any CSR tool. Loads a module with
 * dlopen, C_Initialize, finds the token by label, opens a session, logs in,
 * finds the private key by label and makes signatures with C_Sign over a
 * SHA-256-sized input. No p11-kit, no OpenSSL: nothing a real tool could
 * skip.
 *
 *   p11floor MODULE TOKEN_LABEL KEY_LABEL [N]
 *   p11floor MODULE TOKEN_LABEL keygen:rsa:2048|keygen:ec:p256 N
 *
 * The PIN comes from KEYGATE_PIN. With N > 1 it prints the C_Sign rate of
 * one session (signatures per second), the yardstick of batch issuance.
 * The keygen: form prints instead the C_GenerateKeyPair rate of one
 * read-write session (key pairs per second: token objects, private,
 * sensitive, labelled floor-N), the yardstick of batch keygen + CSR.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <p11-kit/pkcs11.h>

static void die(const char *what, CK_RV rv) __attribute__((noreturn));
static void die(const char *what, CK_RV rv)
{
	fprintf(stderr, "p11floor: %s failed: 0x%08lx\n", what,
	        (unsigned long)rv);
	exit(3);
}

static double now(void);

/* N key pairs on one read-write session; prints pairs per second. */
static void keygen(CK_FUNCTION_LIST *f, CK_SESSION_HANDLE s, const char *type,
                   long n)
{
	static const CK_BYTE p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48,
	                               0xce, 0x3d, 0x03, 0x01, 0x07};
	static CK_BYTE e[] = {0x01, 0x00, 0x01};
	CK_BBOOL yes = CK_TRUE;
	CK_ULONG bits = 2048;
	int ec = strcmp(type, "ec:p256") == 0;
	CK_MECHANISM mech = {
	        ec ? CKM_EC_KEY_PAIR_GEN : CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
	char label[32];
	CK_ATTRIBUTE pub[] = {
	        {CKA_TOKEN, &yes, sizeof(yes)},
	        {CKA_VERIFY, &yes, sizeof(yes)},
	        {CKA_LABEL, label, 0},
	        {ec ? CKA_EC_PARAMS : CKA_MODULUS_BITS,
	         ec ? (void *)p256 : (void *)&bits,
	         ec ? sizeof(p256) : sizeof(bits)},
	        {CKA_PUBLIC_EXPONENT, e, sizeof(e)},
	};
	CK_ATTRIBUTE priv[] = {
	        {CKA_TOKEN, &yes, sizeof(yes)},
	        {CKA_PRIVATE, &yes, sizeof(yes)},
	        {CKA_SENSITIVE, &yes, sizeof(yes)},
	        {CKA_SIGN, &yes, sizeof(yes)},
	        {CKA_LABEL, label, 0},
	};
	CK_OBJECT_HANDLE hpub, hpriv;
	double t0;
	long k;

	if (!ec && strcmp(type, "rsa:2048") != 0)
		die("keygen: type must be rsa:2048 or ec:p256", 0);
	t0 = now();
	for (k = 0; k < n; k++) {
		CK_RV rv;

		snprintf(label, sizeof(label), "floor-%ld", k);
		pub[2].ulValueLen = priv[4].ulValueLen = strlen(label);
		rv = f->C_GenerateKeyPair(s, &mech, pub, ec ? 4 : 5, priv, 5,
		                          &hpub, &hpriv);
		if (rv != CKR_OK)
			die("C_GenerateKeyPair", rv);
	}
	printf("%.1f\n", (double)n / (now() - t0));
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	CK_RV (*get_list)(CK_FUNCTION_LIST_PTR_PTR);
	CK_FUNCTION_LIST *f;
	CK_SLOT_ID slots[64];
	CK_ULONG nslots = 64, i, found;
	CK_SESSION_HANDLE s;
	CK_OBJECT_HANDLE key;
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_KEY_TYPE kt;
	CK_ATTRIBUTE tmpl[2];
	CK_ATTRIBUTE kta = {CKA_KEY_TYPE, &kt, sizeof(kt)};
	CK_MECHANISM mech = {CKM_RSA_PKCS, NULL, 0};
	unsigned char in[51], sig[1024];
	CK_ULONG siglen, inlen;
	const char *pin = getenv("KEYGATE_PIN");
	long n = argc > 4 ? atol(argv[4]) : 1, k;
	double t0, t1;
	void *h;
	int slot = -1;

	if (argc < 4 || pin == NULL || n < 1) {
		fprintf(stderr, "usage: KEYGATE_PIN=... p11floor MODULE "
		                "TOKEN_LABEL KEY_LABEL [N]\n");
		return 2;
	}
	h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		fprintf(stderr, "p11floor: %s\n", dlerror());
		return 3;
	}
	*(void **)&get_list = dlsym(h, "C_GetFunctionList");
	if (get_list == NULL || get_list(&f) != CKR_OK)
		die("C_GetFunctionList", 0);
	if (f->C_Initialize(NULL) != CKR_OK)
		die("C_Initialize", 0);
	if (f->C_GetSlotList(CK_TRUE, slots, &nslots) != CKR_OK)
		die("C_GetSlotList", 0);
	for (i = 0; i < nslots && slot < 0; i++) {
		CK_TOKEN_INFO ti;
		char label[33];
		size_t len;

		if (f->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
			continue;
		memcpy(label, ti.label, 32);
		for (len = 32; len > 0 && label[len - 1] == ' '; len--)
			;
		label[len] = '\0';
		if (strcmp(label, argv[2]) == 0)
			slot = (int)i;
	}
	if (slot < 0)
		die("finding the token", 0);
	if (f->C_OpenSession(slots[slot],
	                     CKF_SERIAL_SESSION |
	                             (strncmp(argv[3], "keygen:", 7) == 0
	                                      ? CKF_RW_SESSION
	                                      : 0),
	                     NULL, NULL, &s) != CKR_OK)
		die("C_OpenSession", 0);
	if (f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin)) != CKR_OK)
		die("C_Login", 0);
	if (strncmp(argv[3], "keygen:", 7) == 0) {
		keygen(f, s, argv[3] + 7, n);
		f->C_Logout(s);
		f->C_CloseSession(s);
		f->C_Finalize(NULL);
		return 0;
	}
	tmpl[0].type = CKA_CLASS;
	tmpl[0].pValue = &cls;
	tmpl[0].ulValueLen = sizeof(cls);
	tmpl[1].type = CKA_LABEL;
	tmpl[1].pValue = argv[3];
	tmpl[1].ulValueLen = strlen(argv[3]);
	if (f->C_FindObjectsInit(s, tmpl, 2) != CKR_OK ||
	    f->C_FindObjects(s, &key, 1, &found) != CKR_OK || found != 1)
		die("finding the key", 0);
	f->C_FindObjectsFinal(s);
	if (f->C_GetAttributeValue(s, key, &kta, 1) != CKR_OK)
		die("C_GetAttributeValue", 0);
	/* a DigestInfo-sized input for RSA, a SHA-256 hash for ECDSA */
	memset(in, 0x5a, sizeof(in));
	inlen = 51;
	if (kt == CKK_EC) {
		mech.mechanism = CKM_ECDSA;
		inlen = 32;
	}
	t0 = now();
	for (k = 0; k < n; k++) {
		CK_RV rv = f->C_SignInit(s, &mech, key);

		siglen = sizeof(sig);
		if (rv == CKR_OK)
			rv = f->C_Sign(s, in, inlen, sig, &siglen);
		if (rv != CKR_OK)
			die("C_Sign", rv);
	}
	t1 = now();
	if (n > 1)
		printf("%.1f\n", (double)n / (t1 - t0));
	f->C_Logout(s);
	f->C_CloseSession(s);
	f->C_Finalize(NULL);
	return 0;
}
