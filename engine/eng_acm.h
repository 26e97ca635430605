/* eng_acm: what the gate's rules and bundle assemble share (engine only). */
#ifndef ENG_ACM_H
#define ENG_ACM_H

#include <stddef.h>

#include <openssl/x509.h>

#include "engine/eng_gate.h"

/* Self-signed as ACM means it: its own names and key, whatever its key
 * usage says (eng_acm_rules.c). */
int eng_self_issued(X509 *x);

/* size-limit for in (the whole of it, or what was read of it) over max,
 * about "the <what>" */
void eng_size_rule(const struct eng_input *in, size_t max, const char *what,
                   struct eng_findings *f);

#endif
