/* Start-up hardening: no core dumps, secrets in locked memory. */
#include "common/kg_harden.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <openssl/crypto.h>

const char *kg_harden_process(void)
{
	struct rlimit no = {0, 0};
	const char *why = NULL;

	if (setrlimit(RLIMIT_CORE, &no) != 0)
		why = "cannot disable core dumps";
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		why = "cannot mark the process not dumpable";
	switch (CRYPTO_secure_malloc_init(KG_SECURE_HEAP, 32)) {
	case 1:
		break;
	case 2: /* the heap exists but mlock failed (RLIMIT_MEMLOCK) */
		why = "cannot lock memory for secrets (raise ulimit -l): "
		      "they are wiped after use but may be swapped out";
		break;
	default:
		why = "cannot set up locked memory for secrets";
		break;
	}
	return why;
}
