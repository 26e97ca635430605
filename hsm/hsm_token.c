/* Tokens: list, find by URI, log in, initialise. */
#include "hsm/hsm_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/kg_secret.h"

static void warn(const struct hsm_conf *c, const char *msg)
{
	if (c != NULL && c->warn != NULL)
		c->warn(c->warn_arg, msg);
}

/* ---- list ------------------------------------------------------------ */

void hsm_slot_info_free(struct hsm_slot_info *s, size_t n)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(s[i].module);
		free(s[i].module_desc);
		free(s[i].slot_desc);
		free(s[i].uri);
	}
	free(s);
}

/* "slot 3 of libsofthsm2.so", for messages about a slot. */
static void slot_where(CK_FUNCTION_LIST *f, CK_SLOT_ID id, int with_slot,
                       char *buf, size_t cap)
{
	char *path = hsm_module_path(f), *name = NULL;
	const char *mod, *slash;

	if (path == NULL)
		name = p11_kit_module_get_name(f);
	mod = path ? path : name ? name : "the module";
	slash = strrchr(mod, '/');
	if (with_slot)
		snprintf(buf, cap, "slot %lu of %s", (unsigned long)id,
		         slash ? slash + 1 : mod);
	else
		snprintf(buf, cap, "%s", slash ? slash + 1 : mod);
	free(path);
	free(name);
}

/* The CKR of the last enumeration call that failed, for hsm_token_open. */
static _Thread_local CK_RV last_slot_rv;

static enum kg_code slot_err(struct kg_err *err, CK_RV rv, const char *fn,
                             CK_FUNCTION_LIST *f, CK_SLOT_ID id, int with_slot)
{
	char where[160];

	last_slot_rv = rv;
	slot_where(f, id, with_slot, where, sizeof(where));
	return hsm_rv_err_at(err, rv, fn, where, "(unknown)");
}

/* All slot ids of f (tokens present only if present_only). *ids: free(). */
static enum kg_code slot_ids(CK_FUNCTION_LIST *f, CK_BBOOL present_only,
                             CK_SLOT_ID **ids, CK_ULONG *n, struct kg_err *err)
{
	CK_ULONG count = 0;
	CK_SLOT_ID *v = NULL;
	CK_RV rv;
	int tries = 0, rounds = 0;

	*ids = NULL;
	*n = 0;
	for (;;) {
		do
			rv = hsm_C_GetSlotList(f, present_only, NULL, &count);
		while (hsm_again(rv, &tries));
		if (rv != CKR_OK)
			return slot_err(err, rv, "C_GetSlotList", f, 0, 0);
		if (count == 0)
			return KG_OK;
		free(v);
		v = calloc(count, sizeof(*v));
		if (v == NULL)
			return kg_err_set(err, KG_E_RUNTIME, "out of memory");
		do
			rv = hsm_C_GetSlotList(f, present_only, v, &count);
		while (hsm_again(rv, &tries));
		/* a slot appeared between the two calls: ask again */
		if (rv == CKR_BUFFER_TOO_SMALL && ++rounds < 4)
			continue;
		if (rv != CKR_OK) {
			free(v);
			return slot_err(err, rv, "C_GetSlotList", f, 0, 0);
		}
		break;
	}
	*ids = v;
	*n = count;
	return KG_OK;
}

static CK_RV get_slot_info(CK_FUNCTION_LIST *f, CK_SLOT_ID id,
                           CK_SLOT_INFO *sl)
{
	CK_RV rv;
	int tries = 0;

	do
		rv = hsm_C_GetSlotInfo(f, id, sl);
	while (hsm_again(rv, &tries));
	return rv;
}

static CK_RV get_token_info(CK_FUNCTION_LIST *f, CK_SLOT_ID id,
                            CK_TOKEN_INFO *ti)
{
	CK_RV rv;
	int tries = 0;

	do
		rv = hsm_C_GetTokenInfo(f, id, ti);
	while (hsm_again(rv, &tries));
	return rv;
}

static CK_RV get_info(CK_FUNCTION_LIST *f, CK_INFO *ci)
{
	CK_RV rv;
	int tries = 0;

	do
		rv = hsm_C_GetInfo(f, ci);
	while (hsm_again(rv, &tries));
	return rv;
}

enum kg_code hsm_token_list(const struct hsm_conf *conf,
                            struct hsm_slot_info **out, size_t *n,
                            struct kg_err *err)
{
	struct hsm_modset *m = NULL;
	struct hsm_slot_info *v = NULL, *nv, *e;
	size_t cnt = 0, mi;
	enum kg_code rc;

	*out = NULL;
	*n = 0;
	rc = hsm_modset_open(NULL, conf, &m, err);
	if (rc != KG_OK)
		return rc;
	for (mi = 0; m->list[mi] != NULL; mi++) {
		CK_FUNCTION_LIST *f = m->list[mi];
		CK_SLOT_ID *ids = NULL;
		CK_ULONG ns = 0, si;
		CK_INFO ci;
		char desc[33];

		CK_RV rv;

		rc = slot_ids(f, CK_FALSE, &ids, &ns, err);
		if (rc != KG_OK)
			goto out;
		rv = get_info(f, &ci);
		if (rv != CKR_OK) {
			free(ids);
			rc = slot_err(err, rv, "C_GetInfo", f, 0, 0);
			goto out;
		}
		hsm_pad_copy(desc, ci.libraryDescription, 32);
		for (si = 0; si < ns; si++) {
			CK_SLOT_INFO sl;
			CK_TOKEN_INFO ti;
			char sdesc[65];

			/* a slot that cannot be read is not left out: the
			 * listing fails and says which and why */
			rv = get_slot_info(f, ids[si], &sl);
			if (rv != CKR_OK) {
				rc = slot_err(err, rv, "C_GetSlotInfo", f,
				              ids[si], 1);
				free(ids);
				goto out;
			}
			nv = realloc(v, (cnt + 1) * sizeof(*v));
			if (nv == NULL) {
				free(ids);
				rc = kg_err_set(err, KG_E_RUNTIME,
				                "out of memory");
				goto out;
			}
			v = nv;
			e = &v[cnt++];
			memset(e, 0, sizeof(*e));
			{
				char *mp, *mn;

				hsm_module_ref(m, f, &mp, &mn);
				e->module = mp ? mp : mn;
				e->module_by_name = mp == NULL;
			}
			e->module_desc = strdup(desc);
			e->slot_id = ids[si];
			hsm_pad_copy(sdesc, sl.slotDescription, 64);
			e->slot_desc = strdup(sdesc);
			if (!(sl.flags & CKF_TOKEN_PRESENT))
				continue;
			rv = get_token_info(f, ids[si], &ti);
			if (rv != CKR_OK) {
				rc = slot_err(err, rv, "C_GetTokenInfo", f,
				              ids[si], 1);
				free(ids);
				goto out;
			}
			e->has_token = 1;
			hsm_pad_copy(e->label, ti.label, 32);
			hsm_pad_copy(e->manufacturer, ti.manufacturerID, 32);
			hsm_pad_copy(e->model, ti.model, 16);
			hsm_pad_copy(e->serial, ti.serialNumber, 16);
			e->initialized = !!(ti.flags & CKF_TOKEN_INITIALIZED);
			e->login_required = !!(ti.flags & CKF_LOGIN_REQUIRED);
			e->user_pin_initialized =
			        !!(ti.flags & CKF_USER_PIN_INITIALIZED);
			e->write_protected =
			        !!(ti.flags & CKF_WRITE_PROTECTED);
			e->pin_locked = !!(ti.flags & CKF_USER_PIN_LOCKED);
			e->pin_count_low =
			        !!(ti.flags & CKF_USER_PIN_COUNT_LOW);
			e->protected_auth_path = !!(
			        ti.flags & CKF_PROTECTED_AUTHENTICATION_PATH);
			rc = hsm_uri_build(
			        &ti, e->module_by_name ? NULL : e->module,
			        e->module_by_name ? e->module : NULL, NULL,
			        NULL, 0, (CK_OBJECT_CLASS)-1, &e->uri, err);
			if (rc != KG_OK) {
				free(ids);
				goto out;
			}
		}
		free(ids);
	}
	*out = v;
	*n = cnt;
	v = NULL;
	cnt = 0;
	rc = KG_OK;
out:
	hsm_slot_info_free(v, cnt);
	hsm_modset_close(m);
	return rc;
}

/* ---- find ------------------------------------------------------------ */

struct match {
	CK_FUNCTION_LIST *f;
	CK_SLOT_ID slot;
	CK_TOKEN_INFO ti;
};

/*
 * Does the slot match every token/slot/module attribute the URI names?
 * 1 yes, 0 no, -1 a call failed (err says which, with its CKR).
 */
static int slot_matches(P11KitUri *u, CK_FUNCTION_LIST *f, CK_SLOT_ID id,
                        CK_TOKEN_INFO *ti, int want_uninit, struct kg_err *err)
{
	CK_SLOT_INFO sl;
	CK_INFO ci;
	CK_SLOT_ID want = p11_kit_uri_get_slot_id(u);
	CK_RV rv;

	if (want != (CK_SLOT_ID)-1 && want != id)
		return 0;
	if ((rv = get_slot_info(f, id, &sl)) != CKR_OK) {
		slot_err(err, rv, "C_GetSlotInfo", f, id, 1);
		return -1;
	}
	if (!p11_kit_uri_match_slot_info(u, &sl))
		return 0;
	if ((rv = get_info(f, &ci)) != CKR_OK) {
		slot_err(err, rv, "C_GetInfo", f, id, 0);
		return -1;
	}
	if (!p11_kit_uri_match_module_info(u, &ci))
		return 0;
	if ((rv = get_token_info(f, id, ti)) != CKR_OK) {
		slot_err(err, rv, "C_GetTokenInfo", f, id, 1);
		return -1;
	}
	if (want_uninit)
		return !(ti->flags & CKF_TOKEN_INITIALIZED);
	/* a free slot's blank token holds no keys: never a match for them */
	return (ti->flags & CKF_TOKEN_INITIALIZED) &&
	       p11_kit_uri_match_token_info(u, ti);
}

/* What one pass over every slot of every module found. */
struct scan {
	struct match first;
	size_t nmatch;
	size_t blank;       /* present tokens that read as uninitialised */
	struct kg_err fail; /* the first call that failed, if any */
	char list[1400];    /* the matches' URIs */
};

static enum kg_code found_token(const struct scan *sc, const char *text,
                                const char *hint, int want_uninit,
                                struct match *out, struct kg_err *err);

static void scan_tokens(struct hsm_modset *m, P11KitUri *u, int want_uninit,
                        struct scan *sc)
{
	size_t mi, used = 0;
	int r;

	memset(sc, 0, sizeof(*sc));
	for (mi = 0; m->list[mi] != NULL; mi++) {
		CK_FUNCTION_LIST *f = m->list[mi];
		CK_SLOT_ID *ids;
		CK_ULONG ns, si;
		CK_TOKEN_INFO ti;

		/* a broken module does not hide the others' tokens, but
		 * when nothing matches, its failure is the answer */
		if (slot_ids(f, CK_TRUE, &ids, &ns,
		             sc->fail.code == KG_OK ? &sc->fail : NULL) !=
		    KG_OK)
			continue;
		for (si = 0; si < ns; si++) {
			char *uri = NULL, *path, *name;

			ti.flags = CKF_TOKEN_INITIALIZED; /* until read */
			r = slot_matches(u, f, ids[si], &ti, want_uninit,
			                 sc->fail.code == KG_OK ? &sc->fail
			                                        : NULL);
			if (r < 0 && sc->fail.code == KG_OK)
				sc->fail.code = KG_E_TOKEN;
			if (r == 0 && !(ti.flags & CKF_TOKEN_INITIALIZED))
				sc->blank++;
			if (r <= 0)
				continue;
			if (sc->nmatch++ == 0) {
				sc->first.f = f;
				sc->first.slot = ids[si];
				sc->first.ti = ti;
			}
			hsm_module_ref(m, f, &path, &name);
			if (hsm_uri_build(&ti, path, name, NULL, NULL, 0,
			                  (CK_OBJECT_CLASS)-1, &uri,
			                  NULL) == KG_OK &&
			    used + strlen(uri) + 8 < sizeof(sc->list)) {
				used += (size_t)snprintf(
				        sc->list + used,
				        sizeof(sc->list) - used, "%s%s",
				        used ? "  " : "", uri);
			}
			free(uri);
			free(path);
			free(name);
		}
		free(ids);
	}
}

/*
 * The one token the URI names. want_uninit: only tokens not yet
 * initialised count (token init). Ambiguity lists the candidates.
 */
static enum kg_code find_token_again(struct hsm_modset *m, P11KitUri *u,
                                     const char *text, int want_uninit,
                                     struct match *out, int *again,
                                     struct kg_err *err);

static enum kg_code find_token(struct hsm_modset *m, P11KitUri *u,
                               const char *text, int want_uninit,
                               struct match *out, struct kg_err *err)
{
	int again;

	return find_token_again(m, u, text, want_uninit, out, &again, err);
}

/* find_token; *again: the failure may pass with the module started anew */
static enum kg_code find_token_again(struct hsm_modset *m, P11KitUri *u,
                                     const char *text, int want_uninit,
                                     struct match *out, int *again,
                                     struct kg_err *err)
{
	struct scan *sc = malloc(sizeof(*sc));
	enum kg_code rc;
	int tries = 0;

	*again = 0;
	if (sc == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	/*
	 * SoftHSM2 shows a token whose files another process is writing as
	 * an uninitialised one for a moment: when nothing matched and some
	 * token read as blank, look again a few times before saying so.
	 */
	for (;;) {
		scan_tokens(m, u, want_uninit, sc);
		if (sc->nmatch > 0 || want_uninit || sc->blank == 0 ||
		    tries >= HSM_RESCANS ||
		    !hsm_again(CKR_GENERAL_ERROR, &tries))
			break;
	}
	rc = found_token(sc, text, m->hint_tokens, want_uninit, out, err);
	if (rc != KG_OK && sc->fail.code != KG_OK &&
	    hsm_rv_transient(last_slot_rv))
		*again = 1;
	else if (rc != KG_OK && sc->nmatch == 0 && sc->blank > 0 &&
	         !want_uninit)
		*again = 2;
	free(sc);
	return rc;
}

static enum kg_code found_token(const struct scan *sc, const char *text,
                                const char *hint, int want_uninit,
                                struct match *out, struct kg_err *err)
{
	size_t nmatch = sc->nmatch;

	if (nmatch == 0 && sc->fail.code != KG_OK) {
		/* not "no token matches": the token may be there */
		if (err != NULL)
			*err = sc->fail;
		return kg_err_prefix(err, "cannot tell which token '%s' names",
		                     text ? text : "pkcs11:");
	}
	if (nmatch == 0) {
		if (want_uninit)
			return kg_err_set(
			        err, KG_E_TOKEN,
			        "no uninitialised token matches "
			        "'%s'%s",
			        text ? text : "pkcs11:", hsm_hint(hint));
		return kg_err_set(err, KG_E_TOKEN, "no token matches '%s'%s",
		                  text, hsm_hint(hint));
	}
	if (nmatch > 1)
		return kg_err_set(err, KG_E_TOKEN,
		                  "'%s' matches %zu tokens; name one by its "
		                  "token=, serial= or model=: %s",
		                  text ? text : "pkcs11:", nmatch, sc->list);
	*out = sc->first;
	return KG_OK;
}

/* How many present tokens match u. */
static size_t count_tokens(struct hsm_modset *m, P11KitUri *u)
{
	size_t mi, n = 0;

	for (mi = 0; m->list[mi] != NULL; mi++) {
		CK_SLOT_ID *ids;
		CK_ULONG ns, si;
		CK_TOKEN_INFO ti;

		if (slot_ids(m->list[mi], CK_TRUE, &ids, &ns, NULL) != KG_OK)
			continue;
		for (si = 0; si < ns; si++)
			n += slot_matches(u, m->list[mi], ids[si], &ti, 0,
			                  NULL) != 0;
		free(ids);
	}
	return n;
}

/* ---- PIN ------------------------------------------------------------- */

/*
 * A secret from the first source there is: a pin-source (file:, env:,
 * fd:), a value given as is, a prompt; else KG_E_USAGE with what to give.
 */
static enum kg_code secret_from(const char *source, const char *value,
                                const char *what, const char *prompt,
                                const struct hsm_conf *conf,
                                struct kg_secret **out, struct kg_err *err,
                                const char *none)
{
	*out = NULL;
	if (source != NULL)
		return kg_secret_from_source(source, what, out, err);
	if (value != NULL)
		return kg_secret_from_string(value, out, err);
	if (conf != NULL && conf->prompt != NULL)
		return conf->prompt(prompt, out, err);
	return kg_err_set(err, KG_E_USAGE, "%s", none);
}

/* The user PIN: the URI's pin-source, its pin-value, --pin-source,
 * KEYGATE_PIN, a prompt (SPEC order). */
static enum kg_code get_pin(P11KitUri *u, const struct hsm_conf *conf,
                            const char *label, struct kg_secret **pin,
                            struct kg_err *err)
{
	const char *src = p11_kit_uri_get_pin_source(u);
	const char *val = p11_kit_uri_get_pin_value(u);
	char prompt[80], none[200];

	if (src == NULL && val != NULL)
		warn(conf, "the URI carries pin-value=: the PIN may be seen "
		           "in process lists and shell history; prefer "
		           "pin-source=");
	if (src == NULL && val == NULL && conf != NULL) {
		src = conf->pin_source;
		val = src == NULL ? conf->pin : NULL;
	}
	snprintf(prompt, sizeof(prompt), "PIN for token '%s'", label);
	snprintf(none, sizeof(none), "no PIN for token '%s'%s", label,
	         hsm_hint(conf ? conf->hint_pin : NULL));
	return secret_from(src, val, "PIN", prompt, conf, pin, err, none);
}

/* ---- the object store lock (hsm_int.h) -------------------------------- */

void hsm_lock_shared(struct hsm_share *sh)
{
	if (sh != NULL && sh->serial)
		pthread_rwlock_wrlock(&sh->lock);
	else if (sh != NULL)
		pthread_rwlock_rdlock(&sh->lock);
}

void hsm_lock_excl(struct hsm_share *sh)
{
	if (sh != NULL)
		pthread_rwlock_wrlock(&sh->lock);
}

void hsm_unlock(struct hsm_share *sh)
{
	if (sh != NULL)
		pthread_rwlock_unlock(&sh->lock);
}

/*
 * Tokens whose object store is not safe for threads (see hsm_share): 1
 * SoftHSM2 (a writer against readers), 2 opencryptoki's soft token, whose
 * sessions may not even sign at once (3.8: two C_Sign reload the same
 * private object and free it twice, seen under ASan). No question to the
 * module tells either: both claim CKF_OS_LOCKING_OK.
 */
static int needs_share(const CK_TOKEN_INFO *ti)
{
	if (memcmp(ti->manufacturerID, "SoftHSM", 7) == 0)
		return 1;
	if (memcmp(ti->manufacturerID, "IBM Corp.", 9) == 0 &&
	    memcmp(ti->model, "IBM SoftTok", 11) == 0)
		return 2;
	return 0;
}

static void share_drop(struct hsm_share *sh)
{
	if (sh != NULL && --sh->refs == 0) {
		pthread_rwlock_destroy(&sh->lock);
		free(sh);
	}
}

/* ---- open / close ---------------------------------------------------- */

/*
 * Read-only unless rw: a token may write its store for a read-write session
 * (SoftHSM does), which a command that only signs should not pay for.
 */
static enum kg_code open_session(struct hsm_token *t, int rw,
                                 struct kg_err *err)
{
	CK_RV rv;
	int tries = 0;

	do
		rv = hsm_C_OpenSession(t->f, t->slot,
		                       CKF_SERIAL_SESSION |
		                               (rw ? CKF_RW_SESSION : 0),
		                       NULL, NULL, &t->s);
	while (hsm_again(rv, &tries));
	if (rv != CKR_OK)
		return hsm_rv_err(err, rv, "C_OpenSession", t->label);
	t->have_session = 1;
	t->rw = rw;
	return KG_OK;
}

/*
 * Logs the user in. The PIN is read from its source once, on the first
 * call, and kept in *pin (locked memory) for a start anew. *again: the
 * failure may pass with the module started anew.
 */
static enum kg_code login(struct hsm_token *t, P11KitUri *u,
                          const struct hsm_conf *conf, struct kg_secret **pin,
                          int *again, struct kg_err *err)
{
	enum kg_code rc;
	CK_RV rv;
	int tries = 0;

	*again = 0;
	if (!(t->info.flags & CKF_LOGIN_REQUIRED))
		return KG_OK;
	if (!(t->info.flags & CKF_PROTECTED_AUTHENTICATION_PATH) &&
	    *pin == NULL) {
		rc = get_pin(u, conf, t->label, pin, err);
		if (rc != KG_OK)
			return rc;
	}
	/*
	 * A wrong PIN is never tried again (CKR_PIN_INCORRECT is not
	 * transient). CKR_USER_PIN_NOT_INITIALIZED is what SoftHSM says when
	 * its store read fails under a parallel writer (even when the token
	 * info read a moment before said the PIN is set): retried like any
	 * transient failure; no PIN is checked, so nothing is counted.
	 */
	for (;;) {
		rv = hsm_C_Login(t->f, t->s, CKU_USER,
		                 *pin ? (CK_UTF8CHAR *)(*pin)->buf : NULL,
		                 *pin ? (*pin)->len : 0);
		if (rv == CKR_USER_PIN_NOT_INITIALIZED &&
		    hsm_again(CKR_GENERAL_ERROR, &tries))
			continue;
		if (!hsm_again(rv, &tries))
			break;
	}
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
		return KG_OK;
	*again = rv == CKR_USER_PIN_NOT_INITIALIZED || hsm_rv_transient(rv);
	return hsm_rv_err(err, rv, "C_Login", t->label);
}

/* One try of hsm_token_open on a fresh t (its URI already parsed). */
static enum kg_code open_once(struct hsm_token *t, P11KitUri *u,
                              const char *uri, const struct hsm_conf *conf,
                              int lg, struct kg_secret **pin, int *again,
                              struct kg_err *err)
{
	struct match mt;
	enum kg_code rc;
	int share;

	*again = 0;
	rc = hsm_modset_open(u, conf, &t->mods, err);
	if (rc != KG_OK)
		return rc;
	rc = find_token_again(t->mods, u, uri, 0, &mt, again, err);
	if (rc != KG_OK)
		return rc;
	t->f = mt.f;
	t->slot = mt.slot;
	t->info = mt.ti;
	hsm_pad_copy(t->label, t->info.label, 32);
	hsm_pad_copy(t->serial, t->info.serialNumber, 16);
	hsm_module_ref(t->mods, t->f, &t->module_path, &t->module_name);
	rc = hsm_uri_build(&t->info, t->module_path, t->module_name, NULL,
	                   NULL, 0, (CK_OBJECT_CLASS)-1, &t->uri, err);
	if (rc != KG_OK)
		return rc;
	share = needs_share(&t->info);
	if (share) {
		t->sh = calloc(1, sizeof(*t->sh));
		if (t->sh == NULL ||
		    pthread_rwlock_init(&t->sh->lock, NULL) != 0) {
			free(t->sh);
			t->sh = NULL;
			return kg_err_set(err, KG_E_RUNTIME, "out of memory");
		}
		t->sh->refs = 1;
		t->sh->serial = share == 2;
	}
	rc = open_session(t, (lg & HSM_RW) != 0, err);
	if (rc != KG_OK) {
		*again = 1; /* open_session retried the transient ones */
		return rc;
	}
	if (lg & HSM_LOGIN_USER)
		return login(t, u, conf, pin, again, err);
	return KG_OK;
}

/* Closes what open_once opened of t and clears it for another try. */
static void open_undo(struct hsm_token *t)
{
	if (t->have_session)
		hsm_C_CloseSession(t->f, t->s);
	hsm_modset_close(t->mods);
	share_drop(t->sh);
	free(t->module_path);
	free(t->module_name);
	free(t->uri);
	memset(t, 0, sizeof(*t));
}

enum kg_code hsm_token_open(const char *uri, const struct hsm_conf *conf,
                            int lg, struct hsm_token **out, struct kg_err *err)
{
	struct hsm_token *t;
	struct kg_secret *pin = NULL;
	struct kg_err later;
	P11KitUri *u = NULL;
	enum kg_code rc;
	int again, starts = 0;

	*out = NULL;
	if (!hsm_is_uri(uri))
		return kg_err_set(err, KG_E_USAGE,
		                  "'%s' is not a pkcs11: URI (example: "
		                  "pkcs11:token=ci)",
		                  uri);
	rc = hsm_uri_parse(uri, &u, err);
	if (rc != KG_OK)
		return rc;
	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		hsm_uri_free(u);
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	}
	/*
	 * SoftHSM2 keeps a token it could not read (another process was
	 * writing its files) broken for the rest of the process: asking
	 * again does not help, starting the module anew does. Opening
	 * changes nothing on the token, so it is safe to start over, a few
	 * times, each after a growing pause.
	 */
	for (;;) {
		rc = open_once(t, u, uri, conf, lg, &pin, &again,
		               starts == 0 ? err : &later);
		/* a token that only read as blank (again == 2) is most
		 * likely not there at all: fewer starts anew for it */
		if (rc == KG_OK || !again ||
		    starts >= (again == 2 ? HSM_RESTARTS_BLANK : HSM_RESTARTS))
			break;
		open_undo(t);
		hsm_pause(starts++);
	}
	if (rc != KG_OK && starts > 0 && err != NULL &&
	    strcmp(err->msg, later.msg) != 0) {
		/* the first failure is the one to name; what the starts anew
		 * met (a pulled token fails C_Initialize) comes after it */
		size_t used = strlen(err->msg);

		snprintf(err->msg + used, sizeof(err->msg) - used,
		         "; opened anew %d time%s, it still failed: %s",
		         starts, starts == 1 ? "" : "s", later.msg);
		err->code = rc;
	}
	if (rc != KG_OK) {
		kg_secret_free(pin);
		hsm_uri_free(u);
		hsm_token_close(t);
		return rc;
	}
	/* kept for hsm_token_restart; the PIN in locked memory */
	t->open_u = u;
	t->conf = conf;
	t->lg = lg;
	t->pin = pin;
	*out = t;
	return KG_OK;
}

enum kg_code hsm_token_restart(struct hsm_token *t, struct kg_err *err)
{
	CK_FUNCTION_LIST *f = t->f;
	struct match mt;
	enum kg_code rc;
	double t0;
	CK_RV rv;
	int again, starts = 0;

	if (t->forked || t->forks > 0 || t->keys > 0 || t->open_u == NULL ||
	    f == NULL)
		return kg_err_set(err, KG_E_TOKEN,
		                  "cannot start the module of token '%s' anew "
		                  "while other sessions or keys use it",
		                  t->label);
	/*
	 * The same loaded module, finalised and initialised: its function
	 * list stays valid whatever fails, so a token that cannot be opened
	 * again fails every later call cleanly (no session, or
	 * CKR_CRYPTOKI_NOT_INITIALIZED), never on a dangling pointer.
	 */
	for (;;) {
		if (t->have_session)
			hsm_C_CloseSession(f, t->s);
		t->have_session = 0;
		t0 = hsm_trace_t0();
		rv = p11_kit_module_finalize(f);
		hsm_trace_note(f, "C_Finalize", rv, t0);
		t0 = hsm_trace_t0();
		rv = p11_kit_module_initialize(f);
		hsm_trace_note(f, "C_Initialize", rv, t0);
		again = 0;
		if (rv != CKR_OK) {
			rc = hsm_rv_err(err, rv, "C_Initialize", t->label);
			again = hsm_rv_transient(rv);
		} else {
			rc = find_token_again(t->mods, t->open_u, t->uri, 0,
			                      &mt, &again, err);
			if (rc == KG_OK &&
			    (mt.f != f ||
			     memcmp(mt.ti.serialNumber, t->info.serialNumber,
			            sizeof(mt.ti.serialNumber)) != 0))
				rc = kg_err_set(err, KG_E_TOKEN,
				                "started anew, %s is another "
				                "token",
				                t->uri);
			if (rc == KG_OK) {
				t->slot = mt.slot;
				t->info = mt.ti;
				rc = open_session(t, t->rw, err);
				again = rc != KG_OK;
			}
			if (rc == KG_OK && (t->lg & HSM_LOGIN_USER))
				rc = login(t, t->open_u, t->conf, &t->pin,
				           &again, err);
		}
		if (rc == KG_OK || !again || starts >= HSM_RESTARTS)
			break;
		hsm_pause(starts++);
	}
	return rc;
}

enum kg_code hsm_token_fork(struct hsm_token *t, struct hsm_token **out,
                            struct kg_err *err)
{
	struct hsm_token *n;
	enum kg_code rc;

	*out = NULL;
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	n->f = t->f;
	n->slot = t->slot;
	n->info = t->info;
	memcpy(n->label, t->label, sizeof(n->label));
	memcpy(n->serial, t->serial, sizeof(n->serial));
	n->forked = 1;
	n->parent = t;
	t->forks++;
	n->sh = t->sh;
	if (n->sh != NULL)
		n->sh->refs++;
	n->module_path = t->module_path ? strdup(t->module_path) : NULL;
	n->module_name = t->module_name ? strdup(t->module_name) : NULL;
	n->uri = strdup(t->uri);
	/* the same slot: what the parent asked of it holds here too */
	if (t->mechs_read && t->nmechs > 0) {
		n->mechs = malloc(t->nmechs * sizeof(*n->mechs));
		if (n->mechs != NULL) {
			memcpy(n->mechs, t->mechs,
			       t->nmechs * sizeof(*n->mechs));
			n->nmechs = t->nmechs;
			n->mechs_known = t->mechs_known;
			n->mechs_read = 1;
		}
	}
	if ((t->module_path != NULL && n->module_path == NULL) ||
	    (t->module_name != NULL && n->module_name == NULL) ||
	    n->uri == NULL) {
		hsm_token_close(n);
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	}
	/* PKCS#11 logs in the application, not the session: no PIN again */
	rc = open_session(n, t->rw, err);
	if (rc != KG_OK) {
		hsm_token_close(n);
		return rc;
	}
	*out = n;
	return KG_OK;
}

void hsm_token_close(struct hsm_token *t)
{
	if (t == NULL)
		return;
	if (t->have_session)
		hsm_C_CloseSession(t->f, t->s);
	if (!t->forked)
		hsm_modset_close(t->mods);
	if (t->parent != NULL)
		t->parent->forks--;
	kg_secret_free(t->pin);
	hsm_uri_free(t->open_u);
	share_drop(t->sh);
	free(t->module_path);
	free(t->module_name);
	free(t->uri);
	free(t->mechs);
	free(t);
}

const struct kg_secret *hsm_token_pin(const struct hsm_token *t)
{
	return t->forked && t->parent != NULL ? t->parent->pin : t->pin;
}

const char *hsm_token_label(const struct hsm_token *t)
{
	return t->label;
}

const char *hsm_token_serial(const struct hsm_token *t)
{
	return t->serial;
}

const char *hsm_token_uri(const struct hsm_token *t)
{
	return t->uri;
}

/* ---- init ------------------------------------------------------------ */

static void pad_label(CK_UTF8CHAR out[32], const char *label)
{
	size_t n = strlen(label);

	memset(out, ' ', 32);
	memcpy(out, label, n > 32 ? 32 : n);
}

enum kg_code hsm_token_init(const char *uri, const char *label,
                            const char *so_pin_source,
                            const struct hsm_conf *conf, char **uri_out,
                            struct kg_err *err)
{
	struct hsm_modset *m = NULL;
	struct kg_secret *so = NULL, *pin = NULL;
	struct match mt;
	P11KitUri *u = NULL;
	char none[300];
	CK_UTF8CHAR lab[32];
	CK_SESSION_HANDLE s = CK_INVALID_HANDLE;
	CK_TOKEN_INFO ti;
	char *path = NULL, *name = NULL;
	enum kg_code rc;
	CK_RV rv;

	*uri_out = NULL;
	if (label == NULL || *label == '\0' || strlen(label) > 32)
		return kg_err_set(err, KG_E_USAGE,
		                  "token label must be 1 to 32 bytes");
	rc = hsm_uri_parse(uri ? uri : "pkcs11:", &u, err);
	if (rc != KG_OK)
		return rc;
	rc = hsm_modset_open(u, conf, &m, err);
	if (rc != KG_OK)
		goto out;
	rc = find_token(m, u, uri, uri == NULL, &mt, err);
	if (rc != KG_OK)
		goto out;
	snprintf(none, sizeof(none), "no SO PIN%s",
	         hsm_hint(conf ? conf->hint_so_pin : NULL));
	rc = secret_from(so_pin_source,
	                 so_pin_source == NULL && conf ? conf->so_pin : NULL,
	                 "SO PIN", "new SO PIN", conf, &so, err, none);
	if (rc != KG_OK)
		goto out;
	/* the user PIN: same sources as a login, never a retry loop */
	rc = get_pin(u, conf, label, &pin, err);
	if (rc != KG_OK)
		goto out;
	pad_label(lab, label);
	{
		/* we find the token again by label: it must be unique */
		P11KitUri *dup = p11_kit_uri_new();
		size_t others;

		memcpy(p11_kit_uri_get_token_info(dup)->label, lab, 32);
		others = count_tokens(m, dup);
		hsm_uri_free(dup);
		if (others > 0) {
			rc = kg_err_set(
			        err, KG_E_USAGE,
			        "a token labelled '%s' exists already; "
			        "choose another label",
			        label);
			goto out;
		}
	}
	rv = hsm_C_InitToken(mt.f, mt.slot, (CK_UTF8CHAR *)so->buf, so->len,
	                     lab);
	if (rv != CKR_OK) {
		rc = hsm_rv_err(err, rv, "C_InitToken", label);
		goto out;
	}
	/*
	 * SoftHSM moves a freshly initialised token to a new slot id: find
	 * it again by label + serial of the uninitialised one, never by id.
	 */
	{
		P11KitUri *again = p11_kit_uri_new();
		CK_TOKEN_INFO *w = p11_kit_uri_get_token_info(again);

		memcpy(w->label, lab, sizeof(w->label));
		hsm_modset_close(m);
		m = NULL;
		rc = hsm_modset_open(u, conf, &m, err);
		if (rc == KG_OK)
			rc = find_token(m, again, label, 0, &mt, err);
		hsm_uri_free(again);
		if (rc != KG_OK)
			goto out;
	}
	rv = hsm_C_OpenSession(mt.f, mt.slot,
	                       CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
	                       &s);
	if (rv == CKR_OK)
		rv = hsm_C_Login(mt.f, s, CKU_SO, (CK_UTF8CHAR *)so->buf,
		                 so->len);
	kg_secret_free(so);
	so = NULL;
	if (rv == CKR_OK)
		rv = hsm_C_InitPIN(mt.f, s, (CK_UTF8CHAR *)pin->buf, pin->len);
	kg_secret_free(pin);
	pin = NULL;
	if (rv != CKR_OK) {
		rc = hsm_rv_err(err, rv, "C_InitPIN", label);
		goto out;
	}
	hsm_C_Logout(mt.f, s);
	if (hsm_C_GetTokenInfo(mt.f, mt.slot, &ti) != CKR_OK)
		ti = mt.ti;
	hsm_module_ref(m, mt.f, &path, &name);
	rc = hsm_uri_build(&ti, path, name, NULL, NULL, 0, (CK_OBJECT_CLASS)-1,
	                   uri_out, err);
out:
	if (s != CK_INVALID_HANDLE)
		hsm_C_CloseSession(mt.f, s);
	kg_secret_free(so);
	kg_secret_free(pin);
	free(path);
	free(name);
	hsm_uri_free(u);
	hsm_modset_close(m);
	return rc;
}

/* ---- SoftHSM2 throwaway stores --------------------------------------- */

const char *hsm_softhsm_module(void)
{
	static const char *const paths[] = {
	        "/usr/lib/softhsm/libsofthsm2.so",
	        "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
	        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
	        "/usr/local/lib/softhsm/libsofthsm2.so",
	};
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (access(paths[i], R_OK) == 0)
			return paths[i];
	return NULL;
}

enum kg_code hsm_softhsm_prepare(const char *dir, char **conf_out,
                                 struct kg_err *err)
{
	char absdir[PATH_MAX], *conf = NULL, *tokens = NULL, *text = NULL;
	FILE *fp;
	enum kg_code rc = KG_OK;

	*conf_out = NULL;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return kg_err_set(err, KG_E_RUNTIME, "cannot create '%s': %s",
		                  dir, strerror(errno));
	if (realpath(dir, absdir) == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "cannot resolve '%s': %s",
		                  dir, strerror(errno));
	if (asprintf(&conf, "%s/softhsm2.conf", absdir) < 0 ||
	    asprintf(&tokens, "%s/tokens", absdir) < 0) {
		rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
		goto out;
	}
	if (mkdir(tokens, 0700) != 0 && errno != EEXIST) {
		rc = kg_err_set(err, KG_E_RUNTIME, "cannot create '%s': %s",
		                tokens, strerror(errno));
		goto out;
	}
	if (access(conf, F_OK) != 0) {
		fp = fopen(conf, "wx");
		if (fp == NULL) {
			rc = kg_err_set(err, KG_E_RUNTIME,
			                "cannot write '%s': %s", conf,
			                strerror(errno));
			goto out;
		}
		fprintf(fp,
		        "# written by keygate token init --softhsm\n"
		        "directories.tokendir = %s\n"
		        "objectstore.backend = file\n"
		        "log.level = ERROR\n"
		        "slots.removable = false\n",
		        tokens);
		if (fclose(fp) != 0) {
			rc = kg_err_set(err, KG_E_RUNTIME,
			                "cannot write '%s': %s", conf,
			                strerror(errno));
			goto out;
		}
	}
	*conf_out = conf;
	conf = NULL;
out:
	free(conf);
	free(tokens);
	free(text);
	return rc;
}
