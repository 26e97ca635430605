/* The audit chain: single and grouped appends chain alike; breaks named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/kg_audit.h"
#include "common/kg_file.h"

static void test_many_then_one(void **state)
{
	char dir[] = "/tmp/kgaudit.XXXXXX", path[64], why[256];
	struct kg_audit_rec r[3];
	struct kg_err err;
	struct stat st;
	size_t lines = 0, bad = 9;
	FILE *f;
	char buf[8192];
	size_t n;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a.jsonl", dir);
	memset(r, 0, sizeof(r));
	r[0].op = "key-gen";
	r[1].op = "csr";
	r[1].out = "pem";
	r[1].out_len = 3;
	r[2].op = "cert-issue";
	r[2].result = "refused";
	r[2].detail = "does not verify";
	assert_int_equal(kg_audit_append_many(path, r, 0, &err), KG_OK);
	assert_int_equal(stat(path, &st), -1); /* nothing to write: no file */
	assert_int_equal(kg_audit_append_many(path, r, 3, &err), KG_OK);
	assert_int_equal(kg_audit_append(path, &r[0], &err), KG_OK);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(
	        kg_audit_verify(path, &lines, &bad, why, sizeof(why), &err),
	        KG_OK);
	assert_int_equal(lines, 4);
	assert_int_equal(bad, 0);

	/* swap lines 2 and 3: the chain breaks at line 2 */
	f = fopen(path, "r");
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	{
		char *l2 = strchr(buf, '\n') + 1, *l3 = strchr(l2, '\n') + 1,
		     *l4 = strchr(l3, '\n') + 1, out[8192];
		size_t a = (size_t)(l2 - buf), b = (size_t)(l3 - l2),
		       c = (size_t)(l4 - l3);

		memcpy(out, buf, a);
		memcpy(out + a, l3, c);
		memcpy(out + a + c, l2, b);
		strcpy(out + a + b + c, l4);
		f = fopen(path, "w");
		fputs(out, f);
		fclose(f);
	}
	kg_audit_verify(path, &lines, &bad, why, sizeof(why), &err);
	assert_int_equal(bad, 2);
	unlink(path);
	rmdir(dir);
}

static void test_stage_commit(void **state)
{
	char dir[] = "/tmp/kgstage.XXXXXX", path[64], *tmp = NULL;
	struct kg_err err;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/x.pem", dir);
	assert_int_equal(kg_file_stage(path, "one", 3, 0640, 0, &tmp, &err),
	                 KG_OK);
	assert_int_equal(stat(path, &st), -1); /* not in place yet */
	assert_int_equal(kg_file_sync_fs(dir, &err), KG_OK);
	assert_int_equal(kg_file_commit(tmp, path, 0, &err), KG_OK);
	free(tmp);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 3);
	assert_int_equal(st.st_mode & 0777, 0640);
	/* without force an existing file stays, and the staged one goes */
	assert_int_equal(kg_file_stage(path, "two!", 4, 0644, 1, &tmp, &err),
	                 KG_OK);
	assert_int_equal(kg_file_commit(tmp, path, 0, &err), KG_E_RUNTIME);
	assert_non_null(strstr(err.msg, "use --force"));
	assert_int_equal(stat(tmp, &st), -1);
	free(tmp);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 3);
	/* with force it is replaced; a discarded one leaves nothing */
	assert_int_equal(kg_file_stage(path, "two!", 4, 0644, 1, &tmp, &err),
	                 KG_OK);
	assert_int_equal(kg_file_commit(tmp, path, 1, &err), KG_OK);
	free(tmp);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_size, 4);
	assert_int_equal(kg_file_stage(path, "3", 1, 0644, 0, &tmp, &err),
	                 KG_OK);
	kg_file_discard(tmp);
	assert_int_equal(stat(tmp, &st), -1);
	free(tmp);
	assert_int_equal(kg_file_sync_fs("/nonexistent-dir", &err),
	                 KG_E_RUNTIME);
	unlink(path);
	assert_int_equal(rmdir(dir), 0); /* nothing else was left */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	        cmocka_unit_test(test_many_then_one),
	        cmocka_unit_test(test_stage_commit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
