/*
 * PINs changed and unblocked (token pin change / unblock). The secrets
 * come from the caller in locked memory and go to the module only; a
 * wrong PIN is tried once. Once the token took the new PIN, nothing that
 * fails after (logging out) makes the command fail: the PIN is changed,
 * and saying otherwise would send the operator to the old one.
 */
#include "hsm/hsm_int.h"

#include "common/kg_secret.h"

static CK_UTF8CHAR *buf(const struct kg_secret *s)
{
	return s ? (CK_UTF8CHAR *)s->buf : NULL;
}

static CK_ULONG len(const struct kg_secret *s)
{
	return s ? (CK_ULONG)s->len : 0;
}

/* The SO logged in on t's session (t read-write, nobody logged in). */
static enum kg_code so_login(struct hsm_token *t, const struct kg_secret *so,
                             struct kg_err *err)
{
	CK_RV rv;

	if (so == NULL && !(t->info.flags & CKF_PROTECTED_AUTHENTICATION_PATH))
		return kg_err_set(err, KG_E_USAGE, "no SO PIN for token '%s'",
		                  t->label);
	rv = hsm_C_Login(t->f, t->s, CKU_SO, buf(so), len(so));
	if (rv != CKR_OK)
		return hsm_rv_err(err, rv, "C_Login", t->label);
	return KG_OK;
}

/*
 * A C_SetPIN or C_InitPIN that failed: did the token surely keep the old
 * PIN? A device error, a session lost, a token pulled mid-call leave it
 * open; then the message says to try the new PIN first, since every try
 * with the wrong one counts toward locking it.
 */
static enum kg_code pin_failed(struct hsm_token *t, CK_RV rv, const char *fn,
                               const char *which, int *unsure,
                               struct kg_err *err)
{
	switch (rv) {
	case CKR_PIN_INCORRECT:
	case CKR_PIN_INVALID:
	case CKR_PIN_LEN_RANGE:
	case CKR_PIN_LOCKED:
	case CKR_USER_NOT_LOGGED_IN:
	case CKR_SESSION_READ_ONLY:
	case CKR_FUNCTION_NOT_SUPPORTED:
	case CKR_ARGUMENTS_BAD:
	case CKR_TOKEN_WRITE_PROTECTED:
		*unsure = 0;
		return hsm_rv_err(err, rv, fn, t->label);
	default:
		*unsure = 1;
		hsm_rv_err(err, rv, fn, t->label);
		return kg_err_prefix(
		        err,
		        "the token may or may not have taken the new %s: log "
		        "in "
		        "once with the new one before the old one (each wrong "
		        "try counts toward locking it)",
		        which);
	}
}

enum kg_code hsm_pin_change(struct hsm_token *t, int so,
                            const struct kg_secret *so_pin,
                            const struct kg_secret *new_pin, int *unsure,
                            struct kg_err *err)
{
	const struct kg_secret *old = so ? so_pin : hsm_token_pin(t);
	enum kg_code rc;
	CK_RV rv;

	*unsure = 0;
	if (!t->rw)
		return kg_err_set(err, KG_E_RUNTIME,
		                  "token '%s' was opened read-only", t->label);
	if (so) {
		rc = so_login(t, so_pin, err);
		if (rc != KG_OK)
			return rc;
	}
	/* a pinpad takes both PINs itself: none from the host */
	rv = hsm_C_SetPIN(t->f, t->s, buf(old), len(old), buf(new_pin),
	                  len(new_pin));
	if (so)
		(void)hsm_C_Logout(t->f, t->s);
	if (rv != CKR_OK)
		return pin_failed(t, rv, "C_SetPIN", so ? "SO PIN" : "PIN",
		                  unsure, err);
	return KG_OK;
}

enum kg_code hsm_pin_unblock(struct hsm_token *t,
                             const struct kg_secret *so_pin,
                             const struct kg_secret *new_pin, int *unsure,
                             struct kg_err *err)
{
	enum kg_code rc;
	CK_RV rv;

	*unsure = 0;
	if (!t->rw)
		return kg_err_set(err, KG_E_RUNTIME,
		                  "token '%s' was opened read-only", t->label);
	rc = so_login(t, so_pin, err);
	if (rc != KG_OK)
		return rc;
	rv = hsm_C_InitPIN(t->f, t->s, buf(new_pin), len(new_pin));
	(void)hsm_C_Logout(t->f, t->s);
	if (rv != CKR_OK)
		return pin_failed(t, rv, "C_InitPIN", "user PIN", unsure, err);
	return KG_OK;
}

int hsm_token_pinpad(const struct hsm_token *t)
{
	return (t->info.flags & CKF_PROTECTED_AUTHENTICATION_PATH) != 0;
}
