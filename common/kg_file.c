#include "common/kg_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum kg_code kg_file_out_dir(const char *dir, mode_t mode, struct kg_err *err)
{
	struct stat st;

	if (mkdir(dir, mode) != 0 && errno != EEXIST)
		return kg_err_set(err, KG_E_RUNTIME, "cannot create '%s': %s",
		                  dir, strerror(errno));
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return kg_err_set(err, KG_E_RUNTIME,
		                  "'%s' is not a directory; give a directory "
		                  "for the output",
		                  dir);
	if (access(dir, W_OK | X_OK) != 0)
		return kg_err_set(err, KG_E_RUNTIME,
		                  "cannot write into '%s': %s", dir,
		                  strerror(errno));
	return KG_OK;
}

enum kg_code kg_file_check_writable(const char *path, int force,
                                    struct kg_err *err)
{
	char *copy, *dir;
	enum kg_code rc = KG_OK;

	if (!force && access(path, F_OK) == 0)
		return kg_err_set(err, KG_E_RUNTIME,
		                  "'%s' exists; use --force to replace it",
		                  path);
	copy = strdup(path);
	if (copy == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	dir = dirname(copy);
	if (access(dir, W_OK | X_OK) != 0)
		rc = kg_err_set(err, KG_E_RUNTIME,
		                "cannot write '%s': directory '%s': %s", path,
		                dir, strerror(errno));
	free(copy);
	return rc;
}

/* "cannot write" for errno e; EEXIST says what to do instead. */
static enum kg_code write_err(const char *path, int e, struct kg_err *err)
{
	if (e == EEXIST)
		return kg_err_set(err, KG_E_RUNTIME,
		                  "'%s' exists; use --force to replace it",
		                  path);
	return kg_err_set(err, KG_E_RUNTIME, "cannot write '%s': %s", path,
	                  strerror(e));
}

enum kg_code kg_file_stage(const char *path, const void *data, size_t len,
                           mode_t mode, int sync, char **tmp_out,
                           struct kg_err *err)
{
	const unsigned char *p = data;
	char *tmp = NULL;
	size_t off = 0;
	ssize_t w;
	int fd, saved;

	*tmp_out = NULL;
	/* the pid lets a later run tell a dead process's leftovers */
	if (asprintf(&tmp, "%s" KG_TMP_MARK "%ld.XXXXXX", path,
	             (long)getpid()) < 0)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	fd = mkstemp(tmp);
	if (fd < 0) {
		saved = errno;
		free(tmp);
		return write_err(path, saved, err);
	}
	if (fchmod(fd, mode) != 0)
		goto fail;
	while (off < len) {
		w = write(fd, p + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			goto fail;
		off += (size_t)w;
	}
	if (sync && fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	*tmp_out = tmp;
	return KG_OK;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return write_err(path, saved, err);
}

enum kg_code kg_file_commit(const char *tmp, const char *path, int force,
                            struct kg_err *err)
{
	int r, saved;

	if (force) {
		r = rename(tmp, path);
	} else {
		/* refuses to replace: no check-then-write race */
		r = renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE);
		if (r != 0 && (errno == EINVAL || errno == ENOSYS)) {
			r = link(tmp, path); /* a filesystem without it */
			if (r == 0)
				unlink(tmp);
		}
	}
	if (r == 0)
		return KG_OK;
	saved = errno;
	unlink(tmp);
	return write_err(path, saved, err);
}

enum kg_code kg_file_sync_fs(const char *dir, struct kg_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = -1;

	if (fd >= 0)
		r = syncfs(fd);
	if (r != 0) {
		int saved = errno;

		if (fd >= 0)
			close(fd);
		return kg_err_set(err, KG_E_RUNTIME,
		                  "cannot sync the files written in '%s': %s",
		                  dir, strerror(saved));
	}
	close(fd);
	return KG_OK;
}

void kg_file_discard(const char *tmp)
{
	if (tmp != NULL)
		unlink(tmp);
}

void kg_file_hold_signals(sigset_t *old)
{
	sigset_t hold;

	sigemptyset(&hold);
	sigaddset(&hold, SIGINT);
	sigaddset(&hold, SIGTERM);
	sigaddset(&hold, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &hold, old);
}

enum kg_code kg_file_write_atomic(const char *path, const void *data,
                                  size_t len, mode_t mode, int force,
                                  struct kg_err *err)
{
	char *tmp = NULL;
	sigset_t old;
	enum kg_code rc;

	rc = kg_file_check_writable(path, force, err);
	if (rc != KG_OK)
		return rc;
	/*
	 * Ctrl-C waits until the file is in place or gone: an interrupted
	 * command leaves whole files and no temporaries.
	 */
	kg_file_hold_signals(&old);
	rc = kg_file_stage(path, data, len, mode, 1, &tmp, err);
	if (rc == KG_OK)
		rc = kg_file_commit(tmp, path, force, err);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	free(tmp);
	return rc;
}

#include <stdint.h>

/*
 * At most max bytes of path into a new buffer (NUL-terminated). *more: 0
 * when that was all of it; else the regular file's size, or SIZE_MAX for
 * a stream that had a byte more. Nothing past byte max+1 is read, and the
 * buffer never grows past max+1 bytes. Without head, a regular file known
 * to be larger than max is not read at all (*buf stays NULL).
 */
static enum kg_code read_capped(const char *path, size_t max, int head,
                                unsigned char **buf, size_t *len, size_t *more,
                                struct kg_err *err)
{
	unsigned char *b = NULL, *nb;
	size_t cap, n = 0, want;
	int fd, is_stdin = strcmp(path, "-") == 0, regular;
	struct stat st;
	ssize_t r;
	enum kg_code rc = KG_OK;

	*buf = NULL;
	*len = 0;
	*more = 0;
	fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kg_err_set(err, KG_E_USAGE, "cannot read '%s': %s",
		                  path, strerror(errno));
	regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	if (!regular && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		rc = kg_err_set(err, KG_E_USAGE,
		                "cannot read '%s': it is a directory", path);
		goto out;
	}
	if (regular && st.st_size > 0 &&
	    (unsigned long long)st.st_size > max) {
		*more = (size_t)st.st_size;
		if (!head)
			goto out;
		want = max; /* its size is known: the head is enough */
	} else {
		want = max + 1; /* byte max+1, if it comes, says "more" */
	}
	cap = regular && st.st_size > 0 && (size_t)st.st_size < want
	              ? (size_t)st.st_size + 1
	              : (want < 65536 ? want + 1 : 65536);
	b = malloc(cap);
	if (b == NULL)
		goto oom;
	while (n < want) {
		if (n + 1 >= cap) {
			size_t ncap = cap > want / 2 ? want + 1 : cap * 2;

			nb = realloc(b, ncap);
			if (nb == NULL)
				goto oom;
			b = nb;
			cap = ncap;
		}
		r = read(fd, b + n, cap - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = kg_err_set(err, KG_E_USAGE,
			                "cannot read '%s': %s", path,
			                strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	if (n > max) {
		n = max;
		if (*more == 0)
			*more = SIZE_MAX;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
	goto out;
oom:
	rc = kg_err_set(err, KG_E_RUNTIME, "out of memory reading '%s'", path);
out:
	if (!is_stdin)
		close(fd);
	free(b);
	return rc;
}

/* "64 MiB", "128 KiB" or "100 bytes" */
static void size_str(size_t n, char *out, size_t cap)
{
	if (n >= 1024 * 1024 && n % (1024 * 1024) == 0)
		snprintf(out, cap, "%zu MiB", n >> 20);
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(out, cap, "%zu KiB", n >> 10);
	else
		snprintf(out, cap, "%zu bytes", n);
}

enum kg_code kg_file_read_max(const char *path, size_t max, const char *what,
                              unsigned char **buf, size_t *len,
                              struct kg_err *err)
{
	size_t more;
	char cap[32];
	enum kg_code rc = read_capped(path, max, 0, buf, len, &more, err);

	if (rc != KG_OK || more == 0)
		return rc;
	free(*buf);
	*buf = NULL;
	*len = 0;
	size_str(max, cap, sizeof(cap));
	if (more != SIZE_MAX)
		return kg_err_set(
		        err, KG_E_USAGE,
		        "'%s' is %zu bytes; keygate reads at most %s "
		        "of %s",
		        path, more, cap, what ? what : "this input");
	return kg_err_set(err, KG_E_USAGE,
	                  "'%s' is larger than %s, the most keygate reads "
	                  "of %s; stopped reading there",
	                  path, cap, what ? what : "this input");
}

enum kg_code kg_file_read_head(const char *path, size_t max,
                               unsigned char **buf, size_t *len, size_t *more,
                               struct kg_err *err)
{
	return read_capped(path, max, 1, buf, len, more, err);
}

enum kg_code kg_file_read(const char *path, unsigned char **buf, size_t *len,
                          struct kg_err *err)
{
	return kg_file_read_max(path, KG_FILE_MAX, "any input", buf, len, err);
}
