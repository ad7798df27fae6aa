/* registry.c - providers, models and groups from struct cfg; see registry.h. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include "buf.h"
#include "cfg.h"
#include "registry.h"
#include "status.h"
#include "xalloc.h"

static const char *const defaults_keys[] = {
	"model", "database", "timeout", "retries", "connect_timeout",
	"first_byte_timeout", "idle_timeout", "daily_budget_usd",
	"monthly_budget_usd", "cooldown", "cache", "cache_ttl", NULL
};
static const char *const provider_keys[] = {
	"type", "base_url", "api_key", "api_key_cmd", "enabled", "timeout",
	"retries", "api_version", "anthropic_version", "region",
	"access_key_id", "secret_access_key", "session_token", "reply",
	"delay_ms", "connect_timeout", "first_byte_timeout", "idle_timeout",
	"rpm", "tpm", "max_parallel", "daily_budget_usd",
	"monthly_budget_usd", "cooldown", NULL
};
static const char *const model_keys[] = {
	"provider", "name", "context_window", "max_output_tokens",
	"input_cost", "output_cost", "cached_input_cost", "tags",
	"temperature", "top_p", "max_tokens", "rpm", "tpm", "max_parallel",
	"cache", "cache_ttl", NULL
};
static const char *const group_keys[] = {
	"models", "strategy", "weights", "cache", "cache_ttl", NULL
};
static const char *const types[] = {
	"openai", "azure", "anthropic", "gemini", "ollama", "bedrock", "mock",
	NULL
};
static const char *const strategies[] = {
	"fallback", "weighted", "round-robin", "shadow", NULL
};

#define MAX_SUGGEST 3
#define MAX_KNOWN   8
#define KEY_OUT_MAX (64 << 10)

/* ==== names and suggestions ==== */

/* A list of borrowed names. */
struct names {
	const char **v;
	size_t n, alloc;
};

static void
names_add(struct names *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return;
	l->v = xgrowarray(l->v, &l->alloc, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = s;
}

static void
names_from_array(struct names *l, const char *const *a)
{
	for (; *a != NULL; a++)
		names_add(l, *a);
}

static void
names_release(struct names *l)
{
	free(l->v);
	l->v = NULL;
	l->n = l->alloc = 0;
}

static bool
in_array(const char *const *a, const char *s)
{
	for (; *a != NULL; a++)
		if (strcmp(*a, s) == 0)
			return true;
	return false;
}

static void
join(struct buf *out, const char *const *v, size_t n, size_t max)
{
	size_t i;

	for (i = 0; i < n && i < max; i++)
		buf_addf(out, "%s%s", i ? ", " : "", v[i]);
	if (n > max)
		buf_adds(out, ", ...");
}

/* Edit distance ignoring case, a swap of neighbours counting as one edit
 * (optimal string alignment). */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), w = lb + 1, i, j, d, r;
	size_t *t = xmalloc((la + 1) * w * sizeof(*t));

#define D(i, j) t[(i) * w + (j)]
#define EQ(x, y) (tolower((unsigned char)(x)) == tolower((unsigned char)(y)))
	for (i = 0; i <= la; i++)
		D(i, 0) = i;
	for (j = 0; j <= lb; j++)
		D(0, j) = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			d = D(i - 1, j - 1) + !EQ(a[i - 1], b[j - 1]);
			if (D(i - 1, j) + 1 < d)
				d = D(i - 1, j) + 1;
			if (D(i, j - 1) + 1 < d)
				d = D(i, j - 1) + 1;
			if (i > 1 && j > 1 && EQ(a[i - 1], b[j - 2]) &&
				EQ(a[i - 2], b[j - 1]) &&
				D(i - 2, j - 2) + 1 < d)
				d = D(i - 2, j - 2) + 1;
			D(i, j) = d;
		}
	}
	r = D(la, lb);
#undef EQ
#undef D
	free(t);
	return r;
}

/* s in lower case without punctuation: "GPT-5.1" gives "gpt51". */
static char *
squash(const char *s)
{
	char *t = xmalloc(strlen(s) + 1), *q = t;

	for (; *s != '\0'; s++)
		if (isalnum((unsigned char)*s))
			*q++ = (char)tolower((unsigned char)*s);
	*q = '\0';
	return t;
}

/* Whether one of a and b holds the other, ignoring case and punctuation;
 * both must have 3 letters or digits at least. */
static bool
similar_part(const char *a, const char *b)
{
	char *x = squash(a), *y = squash(b);
	bool r = false;

	if (strlen(x) >= 3 && strlen(y) >= 3)
		r = strstr(x, y) != NULL || strstr(y, x) != NULL;
	free(x);
	free(y);
	return r;
}

/* Whether a word of cand (split at "-_./") is within limit edits of ref. */
static bool
close_word(const char *ref, const char *cand, size_t limit)
{
	const char *w = cand;
	size_t len;
	char *word;
	bool r = false;

	while (!r && *w != '\0') {
		len = strcspn(w, "-_./");
		if (len > 0) {
			word = xstrndup(w, len);
			r = distance(ref, word) <= limit;
			free(word);
		}
		w += len;
		if (*w != '\0')
			w++;
	}
	return r;
}

/*
 * How close cand is to ref: the edit distance when small, one more than
 * the limit when one holds the other or a word of cand is close, or -1
 * when not close.
 */
static long
closeness(const char *ref, const char *cand)
{
	size_t n = strlen(ref), limit = n / 3 > 1 ? n / 3 : 1, d;

	d = distance(ref, cand);
	if (d <= limit)
		return (long)d;
	if (similar_part(ref, cand) || (n >= 4 && close_word(ref, cand, limit)))
		return (long)limit + 1;
	return -1;
}

/* closeness(), also trying the part of a PROVIDER/ID name after '/'. */
static long
closeness_ref(const char *ref, const char *cand)
{
	const char *slash = strchr(cand, '/');
	long a = closeness(ref, cand), b;

	if (slash == NULL || strchr(ref, '/') != NULL)
		return a;
	b = closeness(ref, slash + 1);
	if (a < 0 || (b >= 0 && b < a))
		return b;
	return a;
}

/*
 * Append "; did you mean 'a', 'b'?" for the names close to ref.  When
 * none is and label is set, append "; known LABEL: a, b, ...".
 */
static void
suggest(struct buf *out, const char *ref, const struct names *l,
	bool by_id, const char *label)
{
	const char *best[MAX_SUGGEST];
	long score[MAX_SUGGEST], s;
	size_t nbest = 0, i, j;

	for (i = 0; i < l->n; i++) {
		s = by_id ? closeness_ref(ref, l->v[i]) :
			    closeness(ref, l->v[i]);
		if (s < 0)
			continue;
		/* insert in order of score, keeping the list's order on ties */
		for (j = nbest; j > 0 && score[j - 1] > s; j--) {
			if (j < MAX_SUGGEST) {
				best[j] = best[j - 1];
				score[j] = score[j - 1];
			}
		}
		if (j < MAX_SUGGEST) {
			best[j] = l->v[i];
			score[j] = s;
			if (nbest < MAX_SUGGEST)
				nbest++;
		}
	}
	if (nbest > 0) {
		buf_adds(out, "; did you mean ");
		for (i = 0; i < nbest; i++)
			buf_addf(out, "%s'%s'", i ? ", " : "", best[i]);
		buf_addch(out, '?');
	} else if (label != NULL && l->n > 0) {
		buf_addf(out, "; known %s: ", label);
		join(out, l->v, l->n, MAX_KNOWN);
	}
}

/* ==== lookups ==== */

struct provider *
registry_provider(const struct registry *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nproviders; i++)
		if (strcmp(r->providers[i]->name, name) == 0)
			return r->providers[i];
	return NULL;
}

struct group *
registry_group(const struct registry *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->ngroups; i++)
		if (strcmp(r->groups[i]->name, name) == 0)
			return r->groups[i];
	return NULL;
}

static struct model *
find_alias(const struct registry *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nmodels; i++)
		if (r->models[i]->alias != NULL &&
			strcmp(r->models[i]->alias, name) == 0)
			return r->models[i];
	return NULL;
}

/* A configured model with this provider and id. */
static struct model *
find_configured(const struct registry *r, const char *provider,
	size_t plen, const char *id)
{
	size_t i;
	struct model *m;

	for (i = 0; i < r->nmodels; i++) {
		m = r->models[i];
		if (m->alias != NULL && strlen(m->provider) == plen &&
			strncmp(m->provider, provider, plen) == 0 &&
			strcmp(m->id, id) == 0)
			return m;
	}
	return NULL;
}

struct model *
registry_model(const struct registry *r, const char *ref)
{
	struct model *m = find_alias(r, ref);
	const char *slash;

	if (m == NULL && (slash = strchr(ref, '/')) != NULL)
		m = find_configured(r, ref, (size_t)(slash - ref), slash + 1);
	return m;
}

const char *
registry_default_base_url(const char *type)
{
	if (strcmp(type, "openai") == 0)
		return "https://api.openai.com/v1";
	if (strcmp(type, "anthropic") == 0)
		return "https://api.anthropic.com";
	if (strcmp(type, "gemini") == 0)
		return "https://generativelanguage.googleapis.com/v1beta";
	if (strcmp(type, "ollama") == 0)
		return "http://localhost:11434";
	if (strcmp(type, "bedrock") == 0)
		return "https://bedrock-runtime.us-east-1.amazonaws.com";
	return NULL;
}

void
registry_suggest(const struct registry *r, const char *ref, struct buf *out)
{
	struct names l = { 0 };
	struct buf ids = BUF_INIT;
	size_t i, *off;
	struct model *m;

	/* PROVIDER/ID names live in one buffer; keep offsets, not pointers */
	off = xcalloc(r->nmodels + 1, sizeof(*off));
	for (i = 0; i < r->nmodels; i++) {
		m = r->models[i];
		off[i] = ids.len;
		if (m->alias != NULL) {
			buf_addf(&ids, "%s/%s", m->provider, m->id);
			buf_addch(&ids, '\0');
		}
	}
	for (i = 0; i < r->nmodels; i++)
		if (r->models[i]->alias != NULL)
			names_add(&l, r->models[i]->alias);
	for (i = 0; i < r->ngroups; i++)
		names_add(&l, r->groups[i]->name);
	for (i = 0; i < r->nmodels; i++)
		if (r->models[i]->alias != NULL)
			names_add(&l, ids.ptr + off[i]);
	if (l.n == 0)
		buf_adds(out, "; no models are configured");
	else
		suggest(out, ref, &l, true, "models");
	names_release(&l);
	free(off);
	buf_release(&ids);
}

/* ==== loading ==== */

enum sect { SECT_NONE, SECT_DEFAULTS, SECT_PROVIDER, SECT_MODEL, SECT_GROUP };

/* The kind of a section and, through name, the part after the dot. */
static enum sect
sect_kind(const char *section, const char **name)
{
	static const struct {
		const char *prefix;
		enum sect kind;
	} kinds[] = {
		{ "provider.", SECT_PROVIDER },
		{ "model.", SECT_MODEL },
		{ "group.", SECT_GROUP },
	};
	size_t i, n;

	*name = NULL;
	if (strcmp(section, "defaults") == 0)
		return SECT_DEFAULTS;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		n = strlen(kinds[i].prefix);
		if (strncmp(section, kinds[i].prefix, n) == 0 &&
			section[n] != '\0') {
			*name = section + n;
			return kinds[i].kind;
		}
	}
	return SECT_NONE;
}

static const char *const *
sect_keys(enum sect k)
{
	switch (k) {
	case SECT_DEFAULTS:
		return defaults_keys;
	case SECT_PROVIDER:
		return provider_keys;
	case SECT_MODEL:
		return model_keys;
	case SECT_GROUP:
		return group_keys;
	case SECT_NONE:
		break;
	}
	return NULL;
}

/* Every section and key must be known. */
static enum llm_status
check_entries(const struct cfg *c, struct buf *err)
{
	const struct cfg_entry *e;
	const char *const *keys;
	const char *name;
	struct names l = { 0 };
	enum sect k;
	size_t i;

	for (i = 0; i < c->n; i++) {
		e = &c->v[i];
		if (*e->section == '\0') {
			buf_setf(err, "%s:%d: key '%s' is outside any section",
				e->file, e->line, e->key);
			return LLM_ERR_CONFIG;
		}
		k = sect_kind(e->section, &name);
		if (k == SECT_NONE) {
			buf_setf(err, "%s:%d: unknown section '[%s]'", e->file,
				e->line, e->section);
			return LLM_ERR_CONFIG;
		}
		if (k == SECT_PROVIDER && strchr(name, '/') != NULL) {
			buf_setf(err,
				"%s:%d: provider name '%s' must not contain '/'",
				e->file, e->line, name);
			return LLM_ERR_CONFIG;
		}
		keys = sect_keys(k);
		if (!in_array(keys, e->key)) {
			buf_setf(err, "%s:%d: unknown key '%s' in [%s]",
				e->file, e->line, e->key, e->section);
			names_from_array(&l, keys);
			suggest(err, e->key, &l, false, NULL);
			names_release(&l);
			return LLM_ERR_CONFIG;
		}
	}
	return LLM_OK;
}

/* The winning entry for key in section, if its value is not empty. */
static const struct cfg_entry *
get(const struct cfg *c, const char *section, const char *key)
{
	const struct cfg_entry *e = cfg_get(c, section, key);

	return e && *e->value != '\0' ? e : NULL;
}

static char *
get_str(const struct cfg *c, const char *section, const char *key)
{
	const struct cfg_entry *e = get(c, section, key);

	return e ? xstrdup(e->value) : NULL;
}

static bool
parse_double(const char *s, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(s, &end);
	return end != s && *end == '\0' && errno == 0 && isfinite(*v);
}

static bool
parse_long(const char *s, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return end != s && *end == '\0' && errno == 0;
}

/* A number >= min from key; *set tells whether there was one. */
static enum llm_status
get_double(const struct cfg *c, const char *section, const char *key,
	double min, double *v, bool *set, struct buf *err)
{
	const struct cfg_entry *e = get(c, section, key);

	if (set != NULL)
		*set = e != NULL;
	if (e == NULL)
		return LLM_OK;
	if (!parse_double(e->value, v) || *v < min) {
		buf_setf(err, "%s:%d: invalid %s '%s' in [%s]: expected %s",
			e->file, e->line, key, e->value, section,
			min >= 0 ? "a number >= 0" : "a number");
		return LLM_ERR_CONFIG;
	}
	return LLM_OK;
}

static enum llm_status
get_long(const struct cfg *c, const char *section, const char *key,
	long max, long *v, struct buf *err)
{
	const struct cfg_entry *e = get(c, section, key);

	if (e == NULL)
		return LLM_OK;
	if (!parse_long(e->value, v) || *v < 0 || *v > max) {
		buf_setf(err,
			"%s:%d: invalid %s '%s' in [%s]: expected a whole number from 0 to %ld",
			e->file, e->line, key, e->value, section, max);
		return LLM_ERR_CONFIG;
	}
	return LLM_OK;
}

static enum llm_status
get_bool(const struct cfg *c, const char *section, const char *key,
	bool *v, struct buf *err)
{
	static const char *const yes[] = { "true", "yes", "on", "1", NULL };
	static const char *const no[] = { "false", "no", "off", "0", NULL };
	const struct cfg_entry *e = get(c, section, key);
	size_t i;

	if (e == NULL)
		return LLM_OK;
	for (i = 0; yes[i] != NULL; i++) {
		if (strcasecmp(e->value, yes[i]) == 0) {
			*v = true;
			return LLM_OK;
		}
		if (strcasecmp(e->value, no[i]) == 0) {
			*v = false;
			return LLM_OK;
		}
	}
	buf_setf(err, "%s:%d: invalid %s '%s' in [%s]: expected true or false",
		e->file, e->line, key, e->value, section);
	return LLM_ERR_CONFIG;
}

/* A duration in seconds: a number with an optional unit s, m, h or d. */
static enum llm_status
get_duration(const struct cfg *c, const char *section, const char *key,
	double *v, struct buf *err)
{
	const struct cfg_entry *e = get(c, section, key);
	char *end;
	double d;

	if (e == NULL)
		return LLM_OK;
	errno = 0;
	d = strtod(e->value, &end);
	if (end != e->value && errno == 0 && d >= 0) {
		const char *unit = strchr("smhd", *end);

		if (*end != '\0' && unit != NULL) {
			d *= unit[0] == 's' ? 1 :
			     unit[0] == 'm' ? 60 :
			     unit[0] == 'h' ? 3600 :
					      86400;
			end++;
		}
		if (*end == '\0') {
			*v = d;
			return LLM_OK;
		}
	}
	buf_setf(err,
		"%s:%d: invalid %s '%s' in [%s]: expected seconds, or a number with s, m, h or d",
		e->file, e->line, key, e->value, section);
	return LLM_ERR_CONFIG;
}

static void
policy_init(struct policy *pl)
{
	memset(pl, 0, sizeof(*pl));
	pl->daily_budget_usd = pl->monthly_budget_usd = -1;
	pl->cooldown = pl->cache_ttl = -1;
	pl->cache = -1;
}

/* The policy keys of a section (check_entries() has made sure that only
 * the ones its kind allows are there). */
static enum llm_status
load_policy(const struct cfg *c, const char *section, struct policy *pl,
	struct buf *err)
{
	enum llm_status st;
	bool cache = false, set = false;

	if ((st = get_duration(c, section, "connect_timeout",
		     &pl->connect_timeout, err)) ||
		(st = get_duration(c, section, "first_byte_timeout",
			 &pl->first_byte_timeout, err)) ||
		(st = get_duration(c, section, "idle_timeout",
			 &pl->idle_timeout, err)) ||
		(st = get_long(c, section, "rpm", 1000000000L, &pl->rpm, err)) ||
		(st = get_long(c, section, "tpm", 1000000000000L, &pl->tpm,
			 err)) ||
		(st = get_long(c, section, "max_parallel", 100000,
			 &pl->max_parallel, err)) ||
		(st = get_double(c, section, "daily_budget_usd", 0,
			 &pl->daily_budget_usd, NULL, err)) ||
		(st = get_double(c, section, "monthly_budget_usd", 0,
			 &pl->monthly_budget_usd, NULL, err)) ||
		(st = get_duration(c, section, "cooldown", &pl->cooldown,
			 err)) ||
		(st = get_duration(c, section, "cache_ttl", &pl->cache_ttl,
			 err)))
		return st;
	set = get(c, section, "cache") != NULL;
	if ((st = get_bool(c, section, "cache", &cache, err)) != LLM_OK)
		return st;
	if (set)
		pl->cache = cache;
	return LLM_OK;
}

/* Split a comma-separated list, trimming each item and dropping empty ones. */
static char **
split_list(const char *s, size_t *n)
{
	char **v = NULL;
	size_t alloc = 0, len;
	const char *end;

	*n = 0;
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		end = strchr(s, ',');
		len = end ? (size_t)(end - s) : strlen(s);
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (len > 0) {
			v = xgrowarray(v, &alloc, *n + 1, sizeof(*v));
			v[(*n)++] = xstrndup(s, len);
		}
		if (end == NULL)
			break;
		s = end + 1;
	}
	return v;
}

static void
free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The file and line where a section starts (its first key). */
static const struct cfg_entry *
first_entry(const struct cfg *c, const char *section)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->v[i].section, section) == 0)
			return &c->v[i];
	return NULL;
}

static void
provider_free(struct provider *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->type);
	free(p->base_url);
	free(p->api_key);
	free(p->api_key_cmd);
	free(p->key_var);
	free(p->api_version);
	free(p->anthropic_version);
	free(p->region);
	free(p->access_key_id);
	free(p->secret_access_key);
	free(p->session_token);
	free(p->reply);
	free(p->file);
	free(p->enabled_file);
	free(p->base_url_var);
	free(p);
}

static void
model_free(struct model *m)
{
	if (m == NULL)
		return;
	free(m->ref);
	free(m->alias);
	free(m->provider);
	free(m->id);
	free_list(m->tags, m->ntags);
	free(m);
}

static void
group_free(struct group *g)
{
	if (g == NULL)
		return;
	free(g->name);
	free(g->strategy);
	free_list(g->models, g->nmodels);
	free(g->weights);
	free(g);
}

static enum llm_status
load_provider(struct registry *r, const struct cfg *c, const char *section,
	const char *name, struct buf *err)
{
	const struct cfg_entry *first = first_entry(c, section), *e;
	struct provider *p = xcalloc(1, sizeof(*p));
	enum llm_status st = LLM_OK;
	struct buf url = BUF_INIT;
	struct names l = { 0 };
	long n;

	policy_init(&p->policy);
	p->name = xstrdup(name);
	p->file = xstrdup(first->file);
	p->line = first->line;
	p->enabled = true;
	p->retries = -1;
	r->providers = xgrowarray(r->providers, &r->providers_alloc,
		r->nproviders + 1, sizeof(*r->providers));
	r->providers[r->nproviders++] = p;

	e = get(c, section, "type");
	if (e == NULL) {
		buf_setf(err, "%s:%d: provider '%s' has no type; known types: ",
			p->file, p->line, name);
		names_from_array(&l, types);
		join(err, l.v, l.n, l.n);
		st = LLM_ERR_CONFIG;
		goto out;
	}
	if (!in_array(types, e->value)) {
		buf_setf(err, "%s:%d: unknown provider type '%s'; known types: ",
			e->file, e->line, e->value);
		names_from_array(&l, types);
		join(err, l.v, l.n, l.n);
		st = LLM_ERR_CONFIG;
		goto out;
	}
	p->type = xstrdup(e->value);

	p->region = get_str(c, section, "region");
	if (p->region == NULL && strcmp(p->type, "bedrock") == 0)
		p->region = xstrdup("us-east-1");
	e = get(c, section, "base_url");
	if (e != NULL)
		buf_adds(&url, e->value);
	else if (strcmp(p->type, "bedrock") == 0)
		buf_setf(&url, "https://bedrock-runtime.%s.amazonaws.com",
			p->region);
	else if (registry_default_base_url(p->type) != NULL)
		buf_adds(&url, registry_default_base_url(p->type));
	while (url.len > 0 && url.ptr[url.len - 1] == '/')
		buf_truncate(&url, url.len - 1);
	e = cfg_get(c, section, "base_url");
	if (e != NULL)
		p->base_url_var = cfg_var_name(e->raw);
	if (e == NULL && strcmp(p->type, "azure") == 0) {
		buf_setf(err,
			"%s:%d: provider '%s' of type azure needs base_url = https://RESOURCE.openai.azure.com",
			p->file, p->line, name);
		st = LLM_ERR_CONFIG;
		goto out;
	}
	if (url.len > 0)
		p->base_url = buf_detach(&url);

	/* present at all, even if it expands to nothing */
	e = cfg_get(c, section, "api_key");
	if (e != NULL) {
		p->auth = true;
		p->key_var = cfg_var_name(e->raw);
	}
	if (cfg_get(c, section, "api_key_cmd") != NULL)
		p->auth = true;
	p->api_key = get_str(c, section, "api_key");
	p->api_key_cmd = get_str(c, section, "api_key_cmd");

	e = get(c, section, "enabled");
	if ((st = get_bool(c, section, "enabled", &p->enabled, err)) != LLM_OK)
		goto out;
	if (e != NULL) {
		p->enabled_file = xstrdup(e->file);
		p->enabled_line = e->line;
	}
	if ((st = get_double(c, section, "timeout", 0, &p->timeout, NULL,
		     err)) != LLM_OK)
		goto out;
	n = p->retries;
	if ((st = get_long(c, section, "retries", 100, &n, err)) != LLM_OK)
		goto out;
	p->retries = (int)n;
	if ((st = get_long(c, section, "delay_ms", 3600000, &p->delay_ms,
		     err)) != LLM_OK)
		goto out;
	p->api_version = get_str(c, section, "api_version");
	p->anthropic_version = get_str(c, section, "anthropic_version");
	p->access_key_id = get_str(c, section, "access_key_id");
	p->secret_access_key = get_str(c, section, "secret_access_key");
	p->session_token = get_str(c, section, "session_token");
	p->reply = get_str(c, section, "reply");
	st = load_policy(c, section, &p->policy, err);
out:
	names_release(&l);
	buf_release(&url);
	return st;
}

static enum llm_status
load_model(struct registry *r, const struct cfg *c, const char *section,
	const char *name, struct buf *err)
{
	const struct cfg_entry *first = first_entry(c, section), *e;
	struct model *m = xcalloc(1, sizeof(*m));
	enum llm_status st = LLM_OK;
	struct names l = { 0 };
	size_t i;

	m->alias = xstrdup(name);
	m->ref = xstrdup(name);
	m->cached_input_cost = -1;
	policy_init(&m->policy);
	r->models = xgrowarray(r->models, &r->models_alloc, r->nmodels + 1,
		sizeof(*r->models));
	r->models[r->nmodels++] = m;

	e = get(c, section, "provider");
	if (e == NULL) {
		buf_setf(err, "%s:%d: model '%s' has no provider", first->file,
			first->line, name);
		st = LLM_ERR_CONFIG;
		goto out;
	}
	if (registry_provider(r, e->value) == NULL) {
		buf_setf(err, "%s:%d: model '%s' uses unknown provider '%s'",
			e->file, e->line, name, e->value);
		for (i = 0; i < r->nproviders; i++)
			names_add(&l, r->providers[i]->name);
		suggest(err, e->value, &l, false, "providers");
		st = LLM_ERR_CONFIG;
		goto out;
	}
	m->provider = xstrdup(e->value);
	m->id = get_str(c, section, "name");
	if (m->id == NULL)
		m->id = xstrdup(name);

	if ((st = get_long(c, section, "context_window", 1L << 30,
		     &m->context_window, err)) != LLM_OK ||
		(st = get_long(c, section, "max_output_tokens", 1L << 30,
			 &m->max_output_tokens, err)) != LLM_OK ||
		(st = get_long(c, section, "max_tokens", 1L << 30,
			 &m->max_tokens, err)) != LLM_OK)
		goto out;
	{
		bool has_in, has_out;

		if ((st = get_double(c, section, "input_cost", 0,
			     &m->input_cost, &has_in, err)) != LLM_OK ||
			(st = get_double(c, section, "output_cost", 0,
				 &m->output_cost, &has_out, err)) != LLM_OK ||
			(st = get_double(c, section, "cached_input_cost", 0,
				 &m->cached_input_cost, NULL, err)) != LLM_OK)
			goto out;
		m->has_cost = has_in && has_out;
	}
	if ((st = get_double(c, section, "temperature", 0, &m->temperature,
		     &m->has_temperature, err)) != LLM_OK ||
		(st = get_double(c, section, "top_p", 0, &m->top_p,
			 &m->has_top_p, err)) != LLM_OK)
		goto out;
	if ((st = load_policy(c, section, &m->policy, err)) != LLM_OK)
		goto out;
	e = get(c, section, "tags");
	if (e != NULL)
		m->tags = split_list(e->value, &m->ntags);
out:
	names_release(&l);
	return st;
}

/* A group member must name a model: an alias or PROVIDER/ID. */
static enum llm_status
check_member(const struct registry *r, const struct cfg_entry *e,
	const char *group, const char *ref, struct buf *err)
{
	const char *slash = strchr(ref, '/');
	size_t i, plen;

	if (find_alias(r, ref) != NULL)
		return LLM_OK;
	if (registry_group(r, ref) != NULL || strcmp(ref, group) == 0) {
		buf_setf(err,
			"%s:%d: group '%s' names group '%s'; groups cannot be nested",
			e->file, e->line, group, ref);
		return LLM_ERR_CONFIG;
	}
	if (slash != NULL && slash[1] != '\0') {
		plen = (size_t)(slash - ref);
		for (i = 0; i < r->nproviders; i++)
			if (strlen(r->providers[i]->name) == plen &&
				strncmp(r->providers[i]->name, ref, plen) == 0)
				return LLM_OK;
	}
	buf_setf(err, "%s:%d: unknown model '%s' in [group.%s]", e->file,
		e->line, ref, group);
	registry_suggest(r, ref, err);
	return LLM_ERR_CONFIG;
}

static enum llm_status
load_group(struct registry *r, const struct cfg *c, const char *section,
	const char *name, struct buf *err)
{
	const struct cfg_entry *first = first_entry(c, section), *e;
	struct group *g = xcalloc(1, sizeof(*g));
	enum llm_status st = LLM_OK;
	struct names l = { 0 };
	char **w = NULL;
	size_t nw = 0, i;

	g->name = xstrdup(name);
	policy_init(&g->policy);
	r->groups = xgrowarray(r->groups, &r->groups_alloc, r->ngroups + 1,
		sizeof(*r->groups));
	r->groups[r->ngroups++] = g;
	if ((st = load_policy(c, section, &g->policy, err)) != LLM_OK)
		goto out;

	if (find_alias(r, name) != NULL) {
		buf_setf(err, "%s:%d: '%s' is both [model.%s] and [group.%s]",
			first->file, first->line, name, name, name);
		st = LLM_ERR_CONFIG;
		goto out;
	}
	e = get(c, section, "strategy");
	if (e != NULL && !in_array(strategies, e->value)) {
		buf_setf(err,
			"%s:%d: unknown strategy '%s' in [group.%s]; known strategies: ",
			e->file, e->line, e->value, name);
		names_from_array(&l, strategies);
		join(err, l.v, l.n, l.n);
		st = LLM_ERR_CONFIG;
		goto out;
	}
	g->strategy = xstrdup(e ? e->value : "fallback");

	e = get(c, section, "models");
	if (e != NULL)
		g->models = split_list(e->value, &g->nmodels);
	if (g->nmodels == 0) {
		e = e ? e : first;
		buf_setf(err, "%s:%d: group '%s' has no models", e->file,
			e->line, name);
		st = LLM_ERR_CONFIG;
		goto out;
	}
	for (i = 0; i < g->nmodels; i++)
		if ((st = check_member(r, e, name, g->models[i], err)) !=
			LLM_OK)
			goto out;

	e = get(c, section, "weights");
	if (e == NULL)
		goto out;
	w = split_list(e->value, &nw);
	if (nw != g->nmodels) {
		buf_setf(err,
			"%s:%d: group '%s' has %zu weights for %zu models",
			e->file, e->line, name, nw, g->nmodels);
		st = LLM_ERR_CONFIG;
		goto out;
	}
	g->weights = xcalloc(nw, sizeof(*g->weights));
	for (i = 0; i < nw; i++) {
		if (!parse_double(w[i], &g->weights[i]) || g->weights[i] < 0) {
			buf_setf(err,
				"%s:%d: invalid weight '%s' in [group.%s]: expected a number >= 0",
				e->file, e->line, w[i], name);
			st = LLM_ERR_CONFIG;
			goto out;
		}
	}
out:
	free_list(w, nw);
	names_release(&l);
	return st;
}

/* Call load for each distinct section of kind k, in order of appearance. */
static enum llm_status
load_kind(struct registry *r, const struct cfg *c, enum sect k,
	enum llm_status (*load)(struct registry *, const struct cfg *,
		const char *, const char *, struct buf *),
	struct buf *err)
{
	const char *name;
	size_t i;
	enum llm_status st;

	for (i = 0; i < c->n; i++) {
		if (sect_kind(c->v[i].section, &name) != k)
			continue;
		if (first_entry(c, c->v[i].section) != &c->v[i])
			continue; /* seen */
		if ((st = load(r, c, c->v[i].section, name, err)) != LLM_OK)
			return st;
	}
	return LLM_OK;
}

enum llm_status
registry_load(struct registry *r, const struct cfg *c, struct buf *err)
{
	enum llm_status st;
	const char *s;
	long n = 2;

	registry_release(r);
	if ((st = check_entries(c, err)) != LLM_OK)
		goto out;

	r->timeout = 120;
	if ((st = get_double(c, "defaults", "timeout", 0, &r->timeout, NULL,
		     err)) != LLM_OK)
		goto out;
	if ((st = get_long(c, "defaults", "retries", 100, &n, err)) != LLM_OK)
		goto out;
	r->retries = (int)n;
	policy_init(&r->policy);
	r->policy.cooldown = 30;
	r->policy.cache = 0;
	r->policy.cache_ttl = 86400;
	if ((st = load_policy(c, "defaults", &r->policy, err)) != LLM_OK)
		goto out;
	r->database = get_str(c, "defaults", "database");
	if (r->database == NULL)
		r->database =
			cfg_expand("${XDG_DATA_HOME:-~/.local/share}/llm/llm.db");
	s = getenv("LLM_MODEL");
	if (s != NULL && *s != '\0')
		r->default_model = xstrdup(s);
	else
		r->default_model = get_str(c, "defaults", "model");

	if ((st = load_kind(r, c, SECT_PROVIDER, load_provider, err)) !=
			LLM_OK ||
		(st = load_kind(r, c, SECT_MODEL, load_model, err)) != LLM_OK ||
		(st = load_kind(r, c, SECT_GROUP, load_group, err)) != LLM_OK)
		goto out;
out:
	if (st != LLM_OK)
		registry_release(r);
	return st;
}

void
registry_release(struct registry *r)
{
	size_t i;

	for (i = 0; i < r->nproviders; i++)
		provider_free(r->providers[i]);
	free(r->providers);
	for (i = 0; i < r->nmodels; i++)
		model_free(r->models[i]);
	free(r->models);
	for (i = 0; i < r->ngroups; i++)
		group_free(r->groups[i]);
	free(r->groups);
	free(r->default_model);
	free(r->database);
	memset(r, 0, sizeof(*r));
}

/* ==== resolving ==== */

enum llm_status
registry_resolve(struct registry *r, const char *ref, struct model **mp,
	struct provider **pp, struct buf *err)
{
	struct model *m = NULL;
	struct provider *p = NULL;
	struct names l = { 0 };
	enum llm_status st = LLM_OK;
	const char *slash = NULL;
	size_t i, plen;
	char *pname = NULL;

	*mp = NULL;
	*pp = NULL;
	if (ref == NULL || *ref == '\0') {
		buf_setf(err,
			"no model given: use -m MODEL or set model in [defaults]");
		st = LLM_ERR_CONFIG;
		goto out;
	}
	if ((m = find_alias(r, ref)) != NULL) {
		p = registry_provider(r, m->provider);
		goto found;
	}
	if (registry_group(r, ref) != NULL) {
		buf_setf(err, "'%s' is a group; resolve its members", ref);
		st = LLM_ERR_CONFIG;
		goto out;
	}
	slash = strchr(ref, '/');
	if (slash == NULL) {
		buf_setf(err, "unknown model '%s'", ref);
		registry_suggest(r, ref, err);
		st = LLM_ERR_CONFIG;
		goto out;
	}
	plen = (size_t)(slash - ref);
	pname = xstrndup(ref, plen);
	p = registry_provider(r, pname);
	if (p == NULL) {
		buf_setf(err, "unknown provider '%s' in '%s'", pname, ref);
		for (i = 0; i < r->nproviders; i++)
			names_add(&l, r->providers[i]->name);
		suggest(err, pname, &l, false, "providers");
		st = LLM_ERR_CONFIG;
		goto out;
	}
	if (slash[1] == '\0') {
		buf_setf(err, "no model name after '%s/' in '%s'", pname, ref);
		st = LLM_ERR_CONFIG;
		goto out;
	}
	m = find_configured(r, ref, plen, slash + 1);
found:
	if (p == NULL) {
		buf_setf(err, "unknown provider '%s' for model '%s'",
			m->provider, ref);
		st = LLM_ERR_CONFIG;
		goto out;
	}
	if (!p->enabled) {
		if (p->enabled_file != NULL)
			buf_setf(err,
				"provider '%s' is disabled (enabled = false in %s:%d)",
				p->name, p->enabled_file, p->enabled_line);
		else
			buf_setf(err, "provider '%s' is disabled", p->name);
		st = LLM_ERR_CONFIG;
		goto out;
	}
	if (p->base_url == NULL && strcmp(p->type, "azure") == 0) {
		if (p->base_url_var != NULL)
			buf_setf(err, "provider '%s' has no base_url: set %s",
				p->name, p->base_url_var);
		else
			buf_setf(err,
				"provider '%s' has no base_url: set base_url in [provider.%s]",
				p->name, p->name);
		st = LLM_ERR_CONFIG;
		goto out;
	}
	if (m == NULL) {
		/* reuse the model made for this ref before, or make one */
		for (i = 0; i < r->nmodels && m == NULL; i++)
			if (r->models[i]->alias == NULL &&
				strcmp(r->models[i]->ref, ref) == 0)
				m = r->models[i];
	}
	if (m == NULL) {
		m = xcalloc(1, sizeof(*m));
		m->ref = xstrdup(ref);
		m->provider = pname;
		pname = NULL;
		m->id = xstrdup(slash + 1);
		m->cached_input_cost = -1;
		policy_init(&m->policy);
		r->models = xgrowarray(r->models, &r->models_alloc,
			r->nmodels + 1, sizeof(*r->models));
		r->models[r->nmodels++] = m;
	}
	*mp = m;
	*pp = p;
out:
	free(pname);
	names_release(&l);
	return st;
}

/* ==== keys and costs ==== */

enum llm_status
registry_api_key(const struct provider *p, struct buf *key, struct buf *err)
{
	struct buf out = BUF_INIT;
	enum llm_status st = LLM_OK;
	char chunk[512], *nl;
	FILE *fp;
	size_t n;
	int status;

	buf_reset(key);
	if (p->api_key != NULL && *p->api_key != '\0') {
		buf_adds(key, p->api_key);
		goto out;
	}
	if (p->api_key_cmd != NULL) {
		fp = popen(p->api_key_cmd, "r");
		if (fp == NULL) {
			buf_setf(err,
				"api_key_cmd for provider '%s' failed: %s",
				p->name, strerror(errno));
			st = LLM_ERR_AUTH;
			goto out;
		}
		out.max = KEY_OUT_MAX;
		while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
			buf_add(&out, chunk, n); /* past max: dropped */
		memset(chunk, 0, sizeof(chunk));
		status = pclose(fp);
		if (status == -1) {
			buf_setf(err,
				"api_key_cmd for provider '%s' failed: %s",
				p->name, strerror(errno));
			st = LLM_ERR_AUTH;
			goto out;
		}
		if (WIFSIGNALED(status)) {
			buf_setf(err,
				"api_key_cmd for provider '%s' failed (signal %d)",
				p->name, WTERMSIG(status));
			st = LLM_ERR_AUTH;
			goto out;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			buf_setf(err,
				"api_key_cmd for provider '%s' failed (exit %d)",
				p->name,
				WIFEXITED(status) ? WEXITSTATUS(status) : -1);
			st = LLM_ERR_AUTH;
			goto out;
		}
		if ((nl = memchr(out.ptr, '\n', out.len)) != NULL)
			buf_truncate(&out, (size_t)(nl - out.ptr));
		buf_rtrim(&out);
		if (out.len == 0 || memchr(out.ptr, '\0', out.len) != NULL) {
			buf_setf(err,
				"api_key_cmd for provider '%s' failed (exit 0, no key on its first line)",
				p->name);
			st = LLM_ERR_AUTH;
			goto out;
		}
		buf_add(key, out.ptr, out.len);
		goto out;
	}
	/* Bedrock signs with SigV4 when its api_key expands to nothing. */
	if (p->auth && strcmp(p->type, "bedrock") == 0 &&
		p->access_key_id != NULL && *p->access_key_id != '\0' &&
		p->secret_access_key != NULL && *p->secret_access_key != '\0')
		goto out;
	if (p->auth) {
		if (p->key_var != NULL)
			buf_setf(err, "no API key for provider '%s': set %s",
				p->name, p->key_var);
		else
			buf_setf(err,
				"no API key for provider '%s': set api_key in [provider.%s]",
				p->name, p->name);
		st = LLM_ERR_AUTH;
	}
out:
	if (out.cap > 0)
		memset(out.ptr, 0, out.cap);
	buf_release(&out);
	return st;
}

double
registry_cost(const struct model *m, long input_tokens, long output_tokens,
	long cached_tokens)
{
	double cached_price;

	if (!m->has_cost)
		return -1;
	if (cached_tokens < 0)
		cached_tokens = 0;
	if (cached_tokens > input_tokens)
		cached_tokens = input_tokens;
	cached_price = m->cached_input_cost < 0 ? m->input_cost :
						  m->cached_input_cost;
	return ((double)(input_tokens - cached_tokens) * m->input_cost +
		       (double)cached_tokens * cached_price +
		       (double)output_tokens * m->output_cost) /
		1e6;
}
