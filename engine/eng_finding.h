/*
 * eng_finding: what a check reports (the ACM gate, the export gate and
 * truststore lint share it), and every finding code there is, each with
 * its severity, in one table (SPEC.md "Findings").
 */
#ifndef ENG_FINDING_H
#define ENG_FINDING_H

#include <stddef.h>

enum eng_sev { ENG_SEV_ERROR, ENG_SEV_WARNING };

/* A code, its severity, and the check that reports it. */
struct eng_code {
	const char *code;
	enum eng_sev sev;
	const char *check; /* "acm", "export", "truststore" */
};
extern const struct eng_code eng_codes[];
extern const size_t eng_ncodes;

/* The table's row for code, or NULL. */
const struct eng_code *eng_code_find(const char *code);

struct eng_finding {
	const char *code; /* static: the table's */
	enum eng_sev sev;
	char *input;   /* file it is about, or NULL */
	int index;     /* certificate index in that input, or -1 */
	char *subject; /* RFC 2253, or NULL */
	char *message;
	char *hint; /* or NULL */
};

struct eng_findings {
	struct eng_finding *v;
	size_t n;
	/* findings that could not be recorded (out of memory, or a code the
	 * table lacks): each counts as an error, so the check fails */
	size_t lost;
};

/*
 * Adds a finding of code, its severity from the table. Returns 1, or 0
 * if it could not be recorded (then f->lost counts it).
 */
int eng_finding_add(struct eng_findings *f, const char *code,
                    const char *input, int index, const char *subject,
                    const char *hint, const char *fmt, ...)
        __attribute__((format(printf, 7, 8)));
/* Errors among the findings, the lost ones included. */
size_t eng_findings_errors(const struct eng_findings *f);
size_t eng_findings_warnings(const struct eng_findings *f);
void eng_findings_free(struct eng_findings *f);

#endif
