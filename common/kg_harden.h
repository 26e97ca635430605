/*
 * kg_harden: what the process does at start-up, before any secret exists,
 * so that PINs and private keys stay out of core dumps and swap (as
 * OpenSSH's agent does).
 */
#ifndef KG_HARDEN_H
#define KG_HARDEN_H

#include <stddef.h>

/* Bytes of locked memory for secrets (OpenSSL's secure heap). */
#define KG_SECURE_HEAP (64u * 1024)

/*
 * No core dumps (RLIMIT_CORE 0), not dumpable or ptrace-able by others
 * (PR_SET_DUMPABLE 0), and OpenSSL's secure heap in locked memory. Returns
 * NULL when all of it took, else a sentence for a warning (static).
 */
const char *kg_harden_process(void);

#endif
