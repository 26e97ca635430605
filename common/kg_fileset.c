/* Several files put in place all or none. */
#include "common/kg_fileset.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "common/kg_file.h"

enum kg_code kg_fileset_stage(struct kg_fileset *s, struct kg_err *err)
{
	size_t i;
	enum kg_code rc;

	for (i = 0; i < s->n; i++) {
		rc = kg_file_check_writable(s->f[i].path, s->force, err);
		if (rc != KG_OK)
			return rc;
	}
	for (i = 0; i < s->n; i++) {
		rc = kg_file_stage(s->f[i].path, s->f[i].data, s->f[i].len,
		                   s->f[i].mode, 1, &s->f[i].tmp, err);
		if (rc != KG_OK) {
			kg_fileset_clear(s);
			return rc;
		}
	}
	return KG_OK;
}

/* A hard link to path under a new name beside it, in *old. */
static int keep_old(const char *path, char **old)
{
	unsigned char r[4];
	int tries;

	for (tries = 0; tries < 8; tries++) {
		if (RAND_bytes(r, sizeof(r)) != 1)
			return -1;
		free(*old);
		*old = NULL;
		if (asprintf(old, "%s.kgold.%ld.%02x%02x%02x%02x", path,
		             (long)getpid(), r[0], r[1], r[2], r[3]) < 0)
			return -1;
		if (link(path, *old) == 0)
			return 0;
		if (errno != EEXIST)
			break;
	}
	free(*old);
	*old = NULL;
	return -1;
}

/* Undoes the renames made so far: old contents back, new files gone. */
static void roll_back(struct kg_fileset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		if (!s->f[i].placed)
			continue;
		if (s->f[i].old != NULL) {
			if (rename(s->f[i].old, s->f[i].path) != 0)
				continue; /* placed stays: the copy is kept */
			free(s->f[i].old);
			s->f[i].old = NULL;
		} else {
			unlink(s->f[i].path);
		}
		s->f[i].placed = 0;
	}
}

enum kg_code kg_fileset_commit(struct kg_fileset *s, struct kg_err *err)
{
	size_t i;
	enum kg_code rc = KG_OK;

	/* first keep every file that will be replaced */
	for (i = 0; i < s->n; i++) {
		if (!s->force || access(s->f[i].path, F_OK) != 0)
			continue;
		if (keep_old(s->f[i].path, &s->f[i].old) != 0) {
			rc = kg_err_set(err, KG_E_RUNTIME,
			                "cannot keep a copy of '%s' while it "
			                "is replaced (%s); nothing was "
			                "changed",
			                s->f[i].path, strerror(errno));
			goto out;
		}
	}
	for (i = 0; i < s->n; i++) {
		rc = kg_file_commit(s->f[i].tmp, s->f[i].path, s->force, err);
		free(s->f[i].tmp);
		s->f[i].tmp = NULL;
		if (rc != KG_OK) {
			roll_back(s);
			kg_err_prefix(err, "nothing of the set was changed");
			goto out;
		}
		s->f[i].placed = 1;
	}
out:
	for (i = 0; i < s->n; i++) {
		if (s->f[i].old == NULL)
			continue;
		/* the copy goes unless it is all that is left of the old
		 * file (a roll-back that failed): then it is named */
		if (rc == KG_OK || !s->f[i].placed) {
			unlink(s->f[i].old);
		} else {
			size_t used = strlen(err->msg);

			snprintf(err->msg + used, sizeof(err->msg) - used,
			         "; the old '%s' is kept as '%s'",
			         s->f[i].path, s->f[i].old);
		}
		free(s->f[i].old);
		s->f[i].old = NULL;
	}
	return rc;
}

void kg_fileset_clear(struct kg_fileset *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		kg_file_discard(s->f[i].tmp);
		free(s->f[i].tmp);
		s->f[i].tmp = NULL;
		free(s->f[i].old); /* commit removed or named the copy */
		s->f[i].old = NULL;
	}
}
