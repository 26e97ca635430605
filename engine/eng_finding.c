/* Findings and the table of their codes. */
#include "engine/eng_finding.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/kg_redact.h"

#define E ENG_SEV_ERROR
#define W ENG_SEV_WARNING
const struct eng_code eng_codes[] = {
        /* the ACM import gate */
        {"pem-invalid", E, "acm"},
        {"pem-whitespace", E, "acm"},
        {"size-limit", E, "acm"},
        {"cert-multiple", E, "acm"},
        {"cert-not-v3", E, "acm"},
        {"cert-expired", E, "acm"},
        {"cert-not-yet-valid", E, "acm"},
        {"cert-purpose", E, "acm"},
        {"cert-no-domain", E, "acm"},
        {"key-encrypted", E, "acm"},
        {"key-algorithm", E, "acm"},
        {"key-mismatch", E, "acm"},
        {"chain-missing", E, "acm"},
        {"chain-order", E, "acm"},
        {"chain-incomplete", E, "acm"},
        {"chain-unrelated", E, "acm"},
        {"chain-contains-leaf", E, "acm"},
        {"chain-blank-lines", E, "acm"},
        {"chain-signature", E, "acm"},
        {"reimport-key-algorithm", E, "acm"},
        {"reimport-domains", E, "acm"},
        {"reimport-key-usage", E, "acm"},
        /* the ACM gate with --mtls-domain (eng_mtls_domain.c);
         * mtls-ownership-expired is a warning when the ownership
         * certificate only expires before the certificate */
        {"mtls-domain-not-covered", E, "acm"},
        {"mtls-ownership-missing", W, "acm"},
        {"mtls-ownership-not-covered", E, "acm"},
        {"mtls-ownership-expired", E, "acm"},
        {"mtls-ownership-not-acm", W, "acm"},
        {"mtls-ownership-reused", E, "acm"},
        {"mtls-reimport-issuer", E, "acm"},
        /* bundle export */
        {"key-not-exportable", E, "export"},
        /* truststore lint */
        {"ts-empty", E, "truststore"},
        {"ts-expired", E, "truststore"},
        {"ts-not-yet-valid", E, "truststore"},
        {"ts-weak-signature", E, "truststore"},
        {"ts-weak-key", E, "truststore"},
        {"ts-chain-incomplete", E, "truststore"},
        {"ts-chain-too-long", E, "truststore"},
        {"ts-signature", E, "truststore"},
        {"ts-not-ca", W, "truststore"},
        {"ts-duplicate", W, "truststore"},
        {"ts-subject-conflict", W, "truststore"},
};
#undef E
#undef W
const size_t eng_ncodes = sizeof(eng_codes) / sizeof(eng_codes[0]);

const struct eng_code *eng_code_find(const char *code)
{
	size_t i;

	for (i = 0; code != NULL && i < eng_ncodes; i++)
		if (strcmp(eng_codes[i].code, code) == 0)
			return &eng_codes[i];
	return NULL;
}

int eng_finding_add(struct eng_findings *f, const char *code,
                    const char *input, int index, const char *subject,
                    const char *hint, const char *fmt, ...)
{
	const struct eng_code *c = eng_code_find(code);
	struct eng_finding *nv, e = {0};
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c == NULL)
		goto lost;
	e.code = c->code;
	e.sev = c->sev;
	e.index = index;
	e.input = input ? OPENSSL_strdup(input) : NULL;
	if (e.input != NULL)
		kg_redact_pin(e.input); /* a token URI's pin-value= */
	e.subject = subject ? OPENSSL_strdup(subject) : NULL;
	e.message = OPENSSL_strdup(msg);
	e.hint = hint ? OPENSSL_strdup(hint) : NULL;
	if ((input && !e.input) || (subject && !e.subject) || !e.message ||
	    (hint && !e.hint))
		goto lost;
	nv = OPENSSL_realloc(f->v, (f->n + 1) * sizeof(*nv));
	if (nv == NULL)
		goto lost;
	f->v = nv;
	nv[f->n++] = e;
	return 1;
lost:
	OPENSSL_free(e.input);
	OPENSSL_free(e.subject);
	OPENSSL_free(e.message);
	OPENSSL_free(e.hint);
	f->lost++;
	return 0;
}

size_t eng_findings_errors(const struct eng_findings *f)
{
	size_t i, n = f->lost;

	for (i = 0; i < f->n; i++)
		n += f->v[i].sev == ENG_SEV_ERROR;
	return n;
}

size_t eng_findings_warnings(const struct eng_findings *f)
{
	size_t i, n = 0;

	for (i = 0; i < f->n; i++)
		n += f->v[i].sev == ENG_SEV_WARNING;
	return n;
}

void eng_findings_free(struct eng_findings *f)
{
	size_t i;

	for (i = 0; i < f->n; i++) {
		OPENSSL_free(f->v[i].input);
		OPENSSL_free(f->v[i].subject);
		OPENSSL_free(f->v[i].message);
		OPENSSL_free(f->v[i].hint);
	}
	OPENSSL_free(f->v);
	f->v = NULL;
	f->n = 0;
	f->lost = 0;
}
