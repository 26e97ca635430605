#include "common/kg_audit.h"
#include "common/kg_redact.h"
#include "common/kg_time.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/kg_file.h"
#include "common/kg_json.h"

#define GENESIS                                                               \
	"0000000000000000000000000000000000000000000000000000000000000000"

static void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char d[32];
	unsigned int dl = 0;

	EVP_Digest(data, len, d, &dl, EVP_sha256(), NULL);
	kg_hex(d, sizeof(d), out);
}

/* The hash of the last line of the open log (GENESIS when empty). */
static enum kg_code last_hash(int fd, const char *path, char out[65],
                              struct kg_err *err)
{
	struct stat st;
	char *buf = NULL, *end, *start;
	size_t n, want;
	ssize_t r;

	if (fstat(fd, &st) != 0)
		return kg_err_set(err, KG_E_RUNTIME, "cannot read '%s': %s",
		                  path, strerror(errno));
	if (st.st_size == 0) {
		memcpy(out, GENESIS, 65);
		return KG_OK;
	}
	want = st.st_size > 65536 ? 65536 : (size_t)st.st_size;
	buf = malloc(want + 1);
	if (buf == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	r = pread(fd, buf, want, st.st_size - (off_t)want);
	if (r != (ssize_t)want) {
		free(buf);
		return kg_err_set(err, KG_E_RUNTIME, "cannot read '%s'", path);
	}
	n = want;
	if (buf[n - 1] != '\n') {
		free(buf);
		return kg_err_set(err, KG_E_RUNTIME,
		                  "audit log '%s' does not end with a whole "
		                  "line; check it with keygate audit verify",
		                  path);
	}
	end = buf + n - 1; /* the final newline */
	*end = '\0';
	start = strrchr(buf, '\n');
	start = start ? start + 1 : buf;
	sha256_hex(start, (size_t)(end - start), out);
	free(buf);
	return KG_OK;
}

/* One record as a line (with its newline) chained to prev. *len set. */
static char *record_line(const struct kg_audit_rec *r, const char *prev,
                         time_t now, size_t *len)
{
	json_t *j = json_object(), *tok = json_object();
	char when[KG_TIME_LEN], *line;

	kg_time_str(now, when);
	json_object_set_new(j, "time", json_string(when));
	json_object_set_new(j, "op", kg_json_str(r->op));
	json_object_set_new(j, "result", kg_json_str(r->result));
	json_object_set_new(tok, "serial", kg_json_str(r->token_serial));
	json_object_set_new(tok, "label", kg_json_str(r->token_label));
	json_object_set_new(j, "token", tok);
	json_object_set_new(j, "key_id",
	                    r->key_id ? kg_json_hex(r->key_id, r->key_id_len)
	                              : json_null());
	if (r->key != NULL) {
		/* a URI given by the user may carry its PIN: never recorded */
		char *k = strdup(r->key);

		json_object_set_new(j, "key",
		                    k ? kg_json_str(kg_redact_pin(k))
		                      : json_null());
		free(k);
	} else {
		json_object_set_new(j, "key", json_null());
	}
	json_object_set_new(j, "subject", kg_json_str(r->subject));
	json_object_set_new(j, "serial", kg_json_str(r->serial));
	if (r->out != NULL) {
		char h[65];

		sha256_hex(r->out, r->out_len, h);
		json_object_set_new(j, "sha256", json_string(h));
	} else {
		json_object_set_new(j, "sha256", json_null());
	}
	json_object_set_new(j, "out", kg_json_str(r->out_path));
	json_object_set_new(j, "detail", kg_json_str(r->detail));
	/* the CA database's fields: only when set */
	if (r->issuer != NULL)
		json_object_set_new(j, "issuer", kg_json_str(r->issuer));
	if (r->issuer_spki != NULL)
		json_object_set_new(j, "issuer_spki_sha256",
		                    kg_json_str(r->issuer_spki));
	if (r->reason != NULL)
		json_object_set_new(j, "reason", kg_json_str(r->reason));
	if (r->revoked_at != NULL)
		json_object_set_new(j, "revoked_at",
		                    kg_json_str(r->revoked_at));
	if (r->crl_number != NULL)
		json_object_set_new(j, "crl_number",
		                    kg_json_str(r->crl_number));
	json_object_set_new(j, "prev", json_string(prev));
	line = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	if (line == NULL)
		return NULL;
	*len = strlen(line);
	line[(*len)++] =
	        '\n'; /* json_dumps leaves room: NUL becomes newline */
	return line;
}

/* Appends n records to the open, locked log fd: one write, one fsync;
 * a failed write is cut back. */
static enum kg_code append_fd(int fd, const char *path,
                              const struct kg_audit_rec *recs, size_t n,
                              struct kg_err *err)
{
	char prev[65], *buf = NULL, *line, *nb;
	size_t len = 0, cap = 0, ll, off = 0, i;
	time_t now = time(NULL);
	enum kg_code rc;
	struct stat st;

	if (fstat(fd, &st) != 0)
		return kg_err_set(
		        err, KG_E_RUNTIME,
		        "cannot read the audit log '%s': %s; nothing "
		        "was written",
		        path, strerror(errno));
	rc = last_hash(fd, path, prev, err);
	for (i = 0; rc == KG_OK && i < n; i++) {
		line = record_line(&recs[i], prev, now, &ll);
		if (line != NULL && len + ll > cap) {
			nb = realloc(buf, 2 * (len + ll));
			if (nb == NULL) {
				free(line);
				line = NULL;
			} else {
				buf = nb;
				cap = 2 * (len + ll);
			}
		}
		if (line == NULL) {
			rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
			break;
		}
		memcpy(buf + len, line, ll);
		len += ll;
		sha256_hex(line, ll - 1, prev); /* the next one's prev */
		free(line);
	}
	while (rc == KG_OK && off < len) {
		ssize_t w = write(fd, buf + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = kg_err_set(err, KG_E_RUNTIME,
			                "cannot write the audit log '%s': %s",
			                path, strerror(errno));
			/* no half line left to break the chain */
			if (ftruncate(fd, st.st_size) != 0)
				rc = kg_err_set(err, KG_E_RUNTIME,
				                "cannot write the audit log "
				                "'%s' and cannot cut the half "
				                "record: %s",
				                path, strerror(errno));
			break;
		}
		off += (size_t)w;
	}
	if (rc == KG_OK && fsync(fd) != 0)
		rc = kg_err_set(err, KG_E_RUNTIME,
		                "cannot sync the audit log '%s': %s", path,
		                strerror(errno));
	free(buf);
	return rc;
}

/*
 * The log's lock, waited for. Callers hold SIGINT/SIGTERM/SIGHUP back
 * (an output is half-way into place); a plain flock() would then make
 * keygate deaf to them for as long as another process holds the lock.
 * So the lock is tried, and while it is busy a held-back signal gives up:
 * 0 locked, -1 errno (EINTR: a signal is waiting).
 */
static int lock_log(int fd)
{
	struct timespec pause = {0, 10 * 1000 * 1000};
	sigset_t pending;

	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		if (sigpending(&pending) == 0 &&
		    (sigismember(&pending, SIGINT) == 1 ||
		     sigismember(&pending, SIGTERM) == 1 ||
		     sigismember(&pending, SIGHUP) == 1)) {
			errno = EINTR;
			return -1;
		}
		nanosleep(&pause, NULL);
	}
}

enum kg_code kg_audit_append_many(const char *path,
                                  const struct kg_audit_rec *recs, size_t n,
                                  struct kg_err *err)
{
	enum kg_code rc;
	int fd;

	if (n == 0)
		return KG_OK;
	fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || lock_log(fd) != 0) {
		rc = kg_err_set(err, KG_E_RUNTIME,
		                "cannot open the audit log '%s': %s; nothing "
		                "was written",
		                path,
		                errno == EINTR ? "interrupted while another "
		                                 "process held it"
		                               : strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	rc = append_fd(fd, path, recs, n, err);
	close(fd); /* drops the lock */
	return rc;
}

enum kg_code kg_audit_append(const char *path, const struct kg_audit_rec *r,
                             struct kg_err *err)
{
	return kg_audit_append_many(path, r, 1, err);
}

size_t kg_audit_check(const char *buf, size_t len, size_t *lines, char *why,
                      size_t cap)
{
	const char *p, *nl, *end = buf + len;
	size_t n = 0, bad = 0;
	char prev[65];

	why[0] = '\0';
	memcpy(prev, GENESIS, 65);
	for (p = buf; p < end; p = nl + 1) {
		json_t *j;
		json_error_t je;
		const char *got;

		nl = memchr(p, '\n', (size_t)(end - p));
		n++;
		if (nl == NULL) {
			bad = n;
			snprintf(why, cap,
			         "line %zu is cut short (no newline)", n);
			break;
		}
		j = json_loadb(p, (size_t)(nl - p), 0, &je);
		got = j ? json_string_value(json_object_get(j, "prev")) : NULL;
		if (got == NULL) {
			bad = n;
			snprintf(why, cap, "line %zu is not an audit record",
			         n);
			json_decref(j);
			break;
		}
		if (strcmp(got, prev) != 0) {
			bad = n;
			if (n == 1)
				snprintf(why, cap,
				         "line 1 is not the first record: "
				         "lines were removed from the start");
			else
				snprintf(why, cap,
				         "line %zu does not follow line %zu: "
				         "line %zu was changed, or lines were "
				         "removed or reordered there",
				         n, n - 1, n - 1);
			json_decref(j);
			break;
		}
		json_decref(j);
		sha256_hex(p, (size_t)(nl - p), prev);
	}
	*lines = n;
	return bad;
}

enum kg_code kg_audit_verify(const char *path, size_t *lines, size_t *bad,
                             char *why, size_t cap, struct kg_err *err)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	enum kg_code rc;

	*lines = 0;
	*bad = 0;
	why[0] = '\0';
	rc = kg_file_read(path, &buf, &len, err);
	if (rc != KG_OK)
		return rc;
	*bad = kg_audit_check((const char *)buf, len, lines, why, cap);
	free(buf);
	return KG_OK;
}

struct kg_audit_log {
	int fd;
	char *path;
	char *data;
	size_t len;
};

enum kg_code kg_audit_open(const char *path, struct kg_audit_log **out,
                           struct kg_err *err)
{
	struct kg_audit_log *l;
	struct stat st;
	size_t off = 0;

	*out = NULL;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	l->fd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
	if (l->fd < 0) {
		kg_err_set(err, errno == ENOENT ? KG_E_USAGE : KG_E_RUNTIME,
		           "cannot open the audit log '%s': %s; give the log "
		           "cert sign wrote (--audit FILE or KEYGATE_AUDIT)",
		           path, strerror(errno));
		free(l);
		return err->code;
	}
	if (lock_log(l->fd) != 0 || fstat(l->fd, &st) != 0) {
		kg_err_set(err, KG_E_RUNTIME,
		           "cannot read the audit log '%s': %s", path,
		           strerror(errno));
		kg_audit_close(l);
		return err->code;
	}
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > KG_FILE_MAX) {
		kg_err_set(err, KG_E_USAGE,
		           "the audit log '%s' is not a regular file of at "
		           "most %u bytes",
		           path, KG_FILE_MAX);
		kg_audit_close(l);
		return err->code;
	}
	l->path = strdup(path);
	l->len = (size_t)st.st_size;
	l->data = malloc(l->len + 1);
	if (l->path == NULL || l->data == NULL) {
		kg_audit_close(l);
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	}
	while (off < l->len) {
		ssize_t r =
		        pread(l->fd, l->data + off, l->len - off, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			kg_err_set(err, KG_E_RUNTIME,
			           "cannot read the audit log '%s': %s", path,
			           r < 0 ? strerror(errno) : "cut short");
			kg_audit_close(l);
			return err->code;
		}
		off += (size_t)r;
	}
	l->data[l->len] = '\0';
	*out = l;
	return KG_OK;
}

const char *kg_audit_log_data(const struct kg_audit_log *l, size_t *len)
{
	*len = l->len;
	return l->data;
}

enum kg_code kg_audit_log_append(struct kg_audit_log *l,
                                 const struct kg_audit_rec *recs, size_t n,
                                 struct kg_err *err)
{
	if (n == 0)
		return KG_OK;
	return append_fd(l->fd, l->path, recs, n, err);
}

void kg_audit_close(struct kg_audit_log *l)
{
	if (l == NULL)
		return;
	if (l->fd >= 0)
		close(l->fd);
	free(l->path);
	free(l->data);
	free(l);
}
