/* Destroying a token object: done once, whatever a transient failure
 * leaves unclear. */
#include "hsm/hsm_int.h"

/* Is h still an object on t? 1 yes, 0 gone, -1 cannot tell. */
static int still_there(struct hsm_token *t, CK_OBJECT_HANDLE h)
{
	CK_OBJECT_CLASS cls;
	CK_ATTRIBUTE a = {CKA_CLASS, &cls, sizeof(cls)};
	CK_RV rv = hsm_C_GetAttributeValue(t->f, t->s, h, &a, 1);

	if (rv == CKR_OK)
		return 1;
	if (rv == CKR_OBJECT_HANDLE_INVALID)
		return 0;
	return -1;
}

enum kg_code hsm_object_delete(struct hsm_token *t, const struct hsm_object *o,
                               struct kg_err *err)
{
	CK_OBJECT_HANDLE h = (CK_OBJECT_HANDLE)o->handle;
	int tries = 0, there;
	CK_RV rv;

	for (;;) {
		hsm_lock_excl(t->sh);
		rv = hsm_C_DestroyObject(t->f, t->s, h);
		hsm_unlock(t->sh);
		if (rv == CKR_OK || rv == CKR_OBJECT_HANDLE_INVALID)
			return KG_OK;
		if (!hsm_rv_transient(rv))
			break;
		hsm_lock_shared(t->sh);
		there = still_there(t, h);
		hsm_unlock(t->sh);
		if (there == 0)
			return KG_OK; /* destroyed after all */
		if (!hsm_again(rv, &tries))
			break;
	}
	return hsm_rv_err(err, rv, "C_DestroyObject", t->label);
}
