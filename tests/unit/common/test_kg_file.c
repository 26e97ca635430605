/* Atomic writes: mode, no overwrite without force, nothing left on error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/kg_file.h"

static int entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void test_write_modes_and_force(void **state)
{
	char dir[] = "/tmp/kg_file_XXXXXX", path[128];
	unsigned char *buf;
	size_t len;
	struct stat st;
	struct kg_err err;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	assert_int_equal(
	        kg_file_write_atomic(path, "secret", 6, 0600, 0, &err), KG_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* no silent overwrite */
	assert_int_equal(kg_file_write_atomic(path, "other", 5, 0600, 0, &err),
	                 KG_E_RUNTIME);
	assert_non_null(strstr(err.msg, "--force"));
	assert_int_equal(kg_file_read(path, &buf, &len, &err), KG_OK);
	assert_int_equal(len, 6);
	assert_memory_equal(buf, "secret", 6);
	free(buf);
	assert_int_equal(kg_file_write_atomic(path, "other", 5, 0644, 1, &err),
	                 KG_OK);
	assert_int_equal(kg_file_read(path, &buf, &len, &err), KG_OK);
	assert_int_equal(len, 5);
	free(buf);
	assert_int_equal(entries(dir), 1); /* no temporary left behind */
	unlink(path);
	rmdir(dir);
}

static void test_unwritable_and_unreadable(void **state)
{
	unsigned char *buf = NULL;
	size_t len;
	struct kg_err err;

	assert_int_equal(kg_file_write_atomic("/nonexistent-dir/x.pem", "a", 1,
	                                      0600, 0, &err),
	                 KG_E_RUNTIME);
	assert_non_null(strstr(err.msg, "/nonexistent-dir"));
	assert_int_equal(kg_file_read("/nonexistent-file", &buf, &len, &err),
	                 KG_E_USAGE);
	assert_null(buf);
	assert_int_equal(kg_file_read("/tmp", &buf, &len, &err), KG_E_USAGE);
	assert_non_null(strstr(err.msg, "directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_write_modes_and_force),
	        cmocka_unit_test(test_unwritable_and_unreadable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
