#include "common/kg_secret.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

static enum kg_code secret_new(struct kg_secret **out, struct kg_err *err)
{
	struct kg_secret *s;

	*out = NULL;
	s = OPENSSL_zalloc(sizeof(*s));
	if (s == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	s->cap = KG_SECRET_MAX + 2;
	s->buf = OPENSSL_secure_zalloc(s->cap);
	if (s->buf == NULL) {
		OPENSSL_free(s);
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	}
	*out = s;
	return KG_OK;
}

void kg_secret_free(struct kg_secret *s)
{
	if (s == NULL)
		return;
	OPENSSL_secure_clear_free(s->buf, s->cap);
	OPENSSL_free(s);
}

static void strip_newline(struct kg_secret *s)
{
	if (s->len > 0 && s->buf[s->len - 1] == '\n')
		s->buf[--s->len] = '\0';
	if (s->len > 0 && s->buf[s->len - 1] == '\r')
		s->buf[--s->len] = '\0';
}

enum kg_code kg_secret_parse_source(const char *spec,
                                    enum kg_secret_kind *kind,
                                    const char **arg, struct kg_err *err)
{
	if (spec == NULL || *spec == '\0')
		return kg_err_set(err, KG_E_USAGE,
		                  "empty secret source: use file:PATH, "
		                  "env:NAME or fd:N");
	if (strncmp(spec, "file:", 5) == 0) {
		*kind = KG_SRC_FILE;
		*arg = spec + 5;
		/* RFC 8089 file URIs as p11-kit writes them */
		if (strncmp(*arg, "//", 2) == 0)
			*arg += 2;
	} else if (strncmp(spec, "env:", 4) == 0) {
		*kind = KG_SRC_ENV;
		*arg = spec + 4;
	} else if (strncmp(spec, "fd:", 3) == 0) {
		char *end;
		long n;

		*kind = KG_SRC_FD;
		*arg = spec + 3;
		errno = 0;
		n = strtol(*arg, &end, 10);
		if (**arg == '\0' || *end != '\0' || errno != 0 || n < 0 ||
		    n > INT_MAX)
			return kg_err_set(
			        err, KG_E_USAGE,
			        "bad secret source '%s': fd: takes a "
			        "file descriptor number",
			        spec);
	} else if (strchr(spec, ':') != NULL && spec[0] != '/' &&
	           spec[0] != '.') {
		return kg_err_set(err, KG_E_USAGE,
		                  "bad secret source '%s': use file:PATH, "
		                  "env:NAME or fd:N",
		                  spec);
	} else {
		*kind = KG_SRC_FILE;
		*arg = spec;
	}
	if (**arg == '\0')
		return kg_err_set(err, KG_E_USAGE,
		                  "bad secret source '%s': nothing after the "
		                  "prefix",
		                  spec);
	return KG_OK;
}

/* Reads up to KG_SECRET_MAX bytes from fd; more is an error. */
static enum kg_code read_fd(int fd, const char *where, const char *what,
                            struct kg_secret *s, struct kg_err *err)
{
	ssize_t n;

	for (;;) {
		n = read(fd, s->buf + s->len, s->cap - 1 - s->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return kg_err_set(err, KG_E_USAGE,
			                  "cannot read %s from %s: %s", what,
			                  where, strerror(errno));
		if (n == 0)
			break;
		s->len += (size_t)n;
		if (s->len > KG_SECRET_MAX)
			return kg_err_set(err, KG_E_USAGE,
			                  "%s from %s is longer than %d bytes",
			                  what, where, KG_SECRET_MAX);
	}
	s->buf[s->len] = '\0';
	return KG_OK;
}

enum kg_code kg_secret_from_source(const char *spec, const char *what,
                                   struct kg_secret **out, struct kg_err *err)
{
	enum kg_secret_kind kind;
	struct kg_secret *s = NULL;
	const char *arg;
	enum kg_code rc;
	int fd;

	*out = NULL;
	rc = kg_secret_parse_source(spec, &kind, &arg, err);
	if (rc != KG_OK)
		return rc;
	if (kind == KG_SRC_ENV) {
		const char *v = getenv(arg);

		if (v == NULL)
			return kg_err_set(err, KG_E_USAGE,
			                  "%s source env:%s: the variable is "
			                  "not set",
			                  what, arg);
		return kg_secret_from_string(v, out, err);
	}
	rc = secret_new(&s, err);
	if (rc != KG_OK)
		return rc;
	if (kind == KG_SRC_FD) {
		rc = read_fd(atoi(arg), spec, what, s, err);
	} else {
		fd = open(arg, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			rc = kg_err_set(err, KG_E_USAGE,
			                "cannot open %s file '%s': %s", what,
			                arg, strerror(errno));
			goto out;
		}
		rc = read_fd(fd, arg, what, s, err);
		close(fd);
	}
	if (rc != KG_OK)
		goto out;
	strip_newline(s);
	*out = s;
	s = NULL;
out:
	kg_secret_free(s);
	return rc;
}

enum kg_code kg_secret_from_string(const char *v, struct kg_secret **out,
                                   struct kg_err *err)
{
	struct kg_secret *s;
	enum kg_code rc;
	size_t n = strlen(v);

	*out = NULL;
	if (n > KG_SECRET_MAX)
		return kg_err_set(err, KG_E_USAGE,
		                  "secret longer than %d bytes",
		                  KG_SECRET_MAX);
	rc = secret_new(&s, err);
	if (rc != KG_OK)
		return rc;
	memcpy(s->buf, v, n);
	s->len = n;
	*out = s;
	return KG_OK;
}

enum kg_code kg_secret_prompt(const char *prompt, struct kg_secret **out,
                              struct kg_err *err)
{
	struct termios old, quiet;
	struct kg_secret *s = NULL;
	enum kg_code rc;
	int fd, echo_off = 0;
	char c;
	ssize_t n;

	*out = NULL;
	fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return kg_err_set(err, KG_E_USAGE,
		                  "no terminal to ask for the %s on", prompt);
	rc = secret_new(&s, err);
	if (rc != KG_OK)
		goto out;
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		echo_off = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	if (write(fd, prompt, strlen(prompt)) < 0 || write(fd, ": ", 2) < 0) {
		rc = kg_err_set(err, KG_E_USAGE, "cannot write to terminal");
		goto out;
	}
	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == '\n')
			break;
		if (s->len >= KG_SECRET_MAX) {
			rc = kg_err_set(err, KG_E_USAGE,
			                "%s longer than %d bytes", prompt,
			                KG_SECRET_MAX);
			goto out;
		}
		s->buf[s->len++] = c;
	}
	c = 0;
	if (write(fd, "\n", 1) < 0) {
		/* the prompt line is cosmetic */
	}
	strip_newline(s);
	*out = s;
	s = NULL;
out:
	if (echo_off)
		tcsetattr(fd, TCSAFLUSH, &old);
	close(fd);
	kg_secret_free(s);
	return rc;
}
