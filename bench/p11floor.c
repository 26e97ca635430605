/*
 * p11floor: the raw PKCS#11 floor of any CSR tool. Loads a module with
 * dlopen, C_Initialize, finds the token by label, opens a session, logs in,
 * finds the private key by label and makes signatures with C_Sign over a
 * SHA-256-sized input. No p11-kit, no OpenSSL: nothing a real tool could
 * skip.
 *
 *   p11floor MODULE TOKEN_LABEL KEY_LABEL [N]
 *
 * The PIN comes from KEYGATE_PIN. With N > 1 it prints the C_Sign rate of
 * one session (signatures per second), the yardstick of batch issuance.
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
	if (f->C_OpenSession(slots[slot], CKF_SERIAL_SESSION, NULL, NULL,
	                     &s) != CKR_OK)
		die("C_OpenSession", 0);
	if (f->C_Login(s, CKU_USER, (CK_UTF8CHAR *)pin, strlen(pin)) != CKR_OK)
		die("C_Login", 0);
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
