/* kg_err: a result code that is also the exit status, and one message. */
#ifndef KG_ERR_H
#define KG_ERR_H

/* The exit status of SPEC.md. */
enum kg_code {
	KG_OK = 0,
	KG_REFUSED = 1,   /* a check failed or a gate refused */
	KG_E_USAGE = 2,   /* bad option, missing argument, unreadable input */
	KG_E_TOKEN = 3,   /* module, token, key, login, any PKCS#11 failure */
	KG_E_RUNTIME = 4, /* anything else at run time */
};

struct kg_err {
	enum kg_code code;
	char msg[2048];
};

/* Sets err (if not NULL) and returns code, so: `return kg_err_set(...)`. */
enum kg_code kg_err_set(struct kg_err *err, enum kg_code code, const char *fmt,
                        ...) __attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with "what: ". Returns err->code. */
enum kg_code kg_err_prefix(struct kg_err *err, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

void kg_err_clear(struct kg_err *err);

#endif
