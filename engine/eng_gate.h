/* The export gate's verdict on a key, from its type and attributes. */
#ifndef ENG_GATE_H
#define ENG_GATE_H

enum eng_target { ENG_TARGET_ACM_INTEGRATED, ENG_TARGET_ACM };

/* Is this key type and size allowed for the target? */
int eng_key_algorithm_ok(enum eng_target t, int is_rsa, int bits);

/*
 * Why bundle export would refuse a token key, or NULL if it would accept
 * it. sensitive/extractable: 1, 0 or -1 (unknown, treated as refusing).
 * Static string.
 */
const char *eng_export_refusal(enum eng_target t, int is_rsa, int bits,
                               int sensitive, int extractable);

#endif
