/* kg_secret: PINs and passphrases, read from a source, wiped when freed. */
#ifndef KG_SECRET_H
#define KG_SECRET_H

#include <stddef.h>

#include "common/kg_err.h"

struct kg_secret {
	char *buf; /* NUL-terminated, for C_Login and PEM callbacks */
	size_t len;
	size_t cap;
};

/* The longest secret we read; longer input is refused, not truncated. */
#define KG_SECRET_MAX 1024

enum kg_secret_kind { KG_SRC_FILE, KG_SRC_ENV, KG_SRC_FD };

/*
 * Parses "file:PATH", "env:NAME" or "fd:N". A bare path (no known prefix)
 * is taken as a file, as pin-source= in an RFC 7512 URI is. On success
 * *arg points into spec (borrowed). Bad forms are KG_E_USAGE.
 */
enum kg_code kg_secret_parse_source(const char *spec,
                                    enum kg_secret_kind *kind,
                                    const char **arg, struct kg_err *err);

/*
 * Reads a secret from a source spec (see kg_secret_parse_source). One
 * trailing "\n" or "\r\n" is dropped. On success *out is new; free it with
 * kg_secret_free(). What names the secret in messages ("PIN").
 */
enum kg_code kg_secret_from_source(const char *spec, const char *what,
                                   struct kg_secret **out, struct kg_err *err);

/* A copy of a string, e.g. a PIN from the environment. */
enum kg_code kg_secret_from_string(const char *s, struct kg_secret **out,
                                   struct kg_err *err);

/* Prompts on /dev/tty without echo. */
enum kg_code kg_secret_prompt(const char *prompt, struct kg_secret **out,
                              struct kg_err *err);

/* Wipes and frees. NULL-safe. */
void kg_secret_free(struct kg_secret *s);

#endif
