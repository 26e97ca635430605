#include "common/kg_err.h"

#include "common/kg_redact.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum kg_code kg_err_set(struct kg_err *err, enum kg_code code, const char *fmt,
                        ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	kg_redact_pin(err->msg); /* no message carries a PIN */
	return code;
}

enum kg_code kg_err_prefix(struct kg_err *err, const char *fmt, ...)
{
	char old[sizeof(err->msg)];
	size_t n;
	va_list ap;

	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	n = strlen(err->msg);
	if (n + 2 < sizeof(err->msg)) {
		memcpy(err->msg + n, ": ", 2);
		n += 2;
		old[sizeof(old) - 1 - n] = '\0'; /* what still fits */
		memcpy(err->msg + n, old, strlen(old) + 1);
	}
	kg_redact_pin(err->msg);
	return err->code;
}

void kg_err_clear(struct kg_err *err)
{
	if (err != NULL) {
		err->code = KG_OK;
		err->msg[0] = '\0';
	}
}
