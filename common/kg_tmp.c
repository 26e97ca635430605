/* The temporaries a killed keygate left behind. */
#include "common/kg_tmp.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/kg_file.h"

long kg_tmp_owner(const char *name, size_t *base_len)
{
	const char *m = NULL, *p, *q;
	char *end;
	long pid;

	/* the last ".kgtmp." in the name: a final name may hold one too */
	for (p = strstr(name, KG_TMP_MARK); p != NULL;
	     p = strstr(p + 1, KG_TMP_MARK))
		m = p;
	if (m == NULL || m == name)
		return 0;
	q = m + strlen(KG_TMP_MARK);
	if (*q < '1' || *q > '9')
		return 0;
	errno = 0;
	pid = strtol(q, &end, 10);
	if (errno != 0 || pid <= 0 || *end != '.' || strlen(end + 1) != 6)
		return 0;
	*base_len = (size_t)(m - name);
	return pid;
}

static int alive(long pid)
{
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

size_t kg_tmp_sweep(const char *dir, kg_tmp_found cb, void *arg)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0, base;
	long pid, me = (long)getpid();

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char *tmp = NULL, *path = NULL;

		pid = kg_tmp_owner(e->d_name, &base);
		if (pid == 0 || pid == me || alive(pid))
			continue;
		if (asprintf(&tmp, "%s/%s", dir, e->d_name) < 0)
			break;
		if (asprintf(&path, "%s/%.*s", dir, (int)base, e->d_name) <
		    0) {
			free(tmp);
			break;
		}
		if (cb != NULL)
			cb(arg, path, tmp);
		if (unlink(tmp) == 0)
			n++;
		free(tmp);
		free(path);
	}
	closedir(d);
	return n;
}

size_t kg_tmp_sweep_for(const char *path, kg_tmp_found cb, void *arg)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	size_t n;

	if (slash == NULL)
		return kg_tmp_sweep(".", cb, arg);
	if (slash == path)
		return kg_tmp_sweep("/", cb, arg);
	dir = strndup(path, (size_t)(slash - path));
	if (dir == NULL)
		return 0;
	n = kg_tmp_sweep(dir, cb, arg);
	free(dir);
	return n;
}
