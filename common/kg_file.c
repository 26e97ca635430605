#include "common/kg_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum kg_code kg_file_read(const char *path, unsigned char **buf, size_t *len,
                          struct kg_err *err)
{
	unsigned char *b = NULL, *nb;
	size_t cap = 0, n = 0;
	int fd, is_stdin = strcmp(path, "-") == 0;
	struct stat st;
	ssize_t r;
	enum kg_code rc = KG_OK;

	*buf = NULL;
	*len = 0;
	fd = is_stdin ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return kg_err_set(err, KG_E_USAGE, "cannot read '%s': %s",
		                  path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		rc = kg_err_set(err, KG_E_USAGE,
		                "cannot read '%s': it is a directory", path);
		goto out;
	}
	for (;;) {
		if (n + 1 >= cap) {
			cap = cap ? cap * 2 : 65536;
			nb = realloc(b, cap);
			if (nb == NULL) {
				rc = kg_err_set(err, KG_E_RUNTIME,
				                "out of memory reading '%s'",
				                path);
				goto out;
			}
			b = nb;
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
		if (n > KG_FILE_MAX) {
			rc = kg_err_set(err, KG_E_USAGE,
			                "'%s' is larger than %u bytes; not "
			                "a certificate, key or request",
			                path, KG_FILE_MAX);
			goto out;
		}
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
out:
	if (!is_stdin)
		close(fd);
	free(b);
	return rc;
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

enum kg_code kg_file_write_atomic(const char *path, const void *data,
                                  size_t len, mode_t mode, int force,
                                  struct kg_err *err)
{
	const unsigned char *p = data;
	char *tmp = NULL;
	size_t off = 0;
	ssize_t w;
	int fd = -1, saved;
	sigset_t hold, old;
	enum kg_code rc;

	rc = kg_file_check_writable(path, force, err);
	if (rc != KG_OK)
		return rc;
	if (asprintf(&tmp, "%s.kgtmp.XXXXXX", path) < 0)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	/*
	 * Ctrl-C waits until the file is in place or gone: an interrupted
	 * batch leaves whole files and no temporaries.
	 */
	sigemptyset(&hold);
	sigaddset(&hold, SIGINT);
	sigaddset(&hold, SIGTERM);
	sigaddset(&hold, SIGHUP);
	sigprocmask(SIG_BLOCK, &hold, &old);
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = kg_err_set(err, KG_E_RUNTIME, "cannot write '%s': %s",
		                path, strerror(errno));
		sigprocmask(SIG_SETMASK, &old, NULL);
		free(tmp);
		return rc;
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
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (force) {
		if (rename(tmp, path) != 0)
			goto fail;
	} else {
		/* link() refuses to replace, closing the check-then-write race
		 */
		if (link(tmp, path) != 0)
			goto fail;
		unlink(tmp);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(tmp);
	return KG_OK;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	sigprocmask(SIG_SETMASK, &old, NULL);
	free(tmp);
	if (saved == EEXIST)
		return kg_err_set(err, KG_E_RUNTIME,
		                  "'%s' exists; use --force to replace it",
		                  path);
	return kg_err_set(err, KG_E_RUNTIME, "cannot write '%s': %s", path,
	                  strerror(saved));
}
