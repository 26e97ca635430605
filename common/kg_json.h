/* kg_json: JSON strings that are always valid, whatever bytes come in. */
#ifndef KG_JSON_H
#define KG_JSON_H

#include <stddef.h>

#include <jansson.h>

/*
 * A JSON string from arbitrary bytes: valid UTF-8 passes unchanged, every
 * invalid byte becomes U+FFFD, embedded NULs become U+FFFD too. Never
 * returns NULL except when out of memory. New reference.
 */
json_t *kg_json_strn(const char *s, size_t len);
json_t *kg_json_str(const char *s); /* NULL s gives JSON null */

/* Lower-case hex of b into out, which holds 2 * len + 1 bytes. */
void kg_hex(const unsigned char *b, size_t len, char *out);

/* Hex of bytes, lower case, as a JSON string. New reference. */
json_t *kg_json_hex(const unsigned char *b, size_t len);

#endif
