/*
 * kg_redact: keeping PINs out of what keygate prints. A pkcs11: URI may
 * carry its PIN (RFC 7512's pin-value=); no message, JSON document or
 * audit record may.
 */
#ifndef KG_REDACT_H
#define KG_REDACT_H

/*
 * Removes, in place, every pin-value attribute (any case, in a URI's path
 * or query) from the text s, with its value and one separator, so
 * "pkcs11:token=a?pin-value=1234&module-name=x" becomes
 * "pkcs11:token=a?module-name=x". The bytes freed at the end are zeroed.
 * Returns s.
 */
char *kg_redact_pin(char *s);

#endif
