/*
 * audit show, cert revoke, crl create (common/kg_cadb.c): an audit log
 * read as a CA database, after kg_audit_check, for every CA and for one;
 * serials and times straight from the bytes too.
 */
#include "tests/fuzz/fz.h"

#include "common/kg_audit.h"
#include "common/kg_cadb.h"

static void read_db(const char *buf, size_t len, const struct kg_ca_id *id)
{
	struct kg_cadb *db = NULL;
	struct kg_err err;
	size_t i;

	if (kg_cadb_read(buf, len, id, &db, &err) != KG_OK) {
		/* a refusal names its line, and leaves nothing */
		if (db != NULL ||
		    memchr(err.msg, '\0', sizeof(err.msg)) == NULL)
			abort();
		return;
	}
	for (i = 0; i < db->nissued; i++)
		if (db->issued[i].serial == NULL ||
		    db->issued[i].line > db->records ||
		    kg_cadb_find_issued(db, db->issued[i].serial) == NULL)
			abort();
	for (i = 0; i < db->nrevoked; i++)
		if (db->revoked[i].reason == NULL ||
		    kg_cadb_find_revoked(db, db->revoked[i].serial) == NULL)
			abort();
	for (i = 0; i < db->ncrls; i++)
		if (db->crls[i].number == 0 ||
		    db->crls[i].number > db->crl_number)
			abort();
	kg_cadb_free(db);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct kg_ca_id id = {"CN=Test CA", "aa", "1a2b3c4d",
	                                   "0a0b"};
	char *s = fz_str(data, size), why[256], out[KG_SERIAL_LEN];
	size_t lines = 0;
	long long t;

	/* what the commands do: check the chain, then read */
	if (kg_audit_check(s, size, &lines, why, sizeof(why)) == 0) {
		read_db(s, size, NULL);
		read_db(s, size, &id);
	}
	/* and without the check: the reader trusts nothing either way */
	read_db(s, strlen(s), &id);
	if (kg_cadb_serial(s, out) && (out[0] == '\0' || strlen(out) > 40))
		abort();
	(void)kg_cadb_time(s, &t);
	free(s);
	return 0;
}
