/*
 * registry.h - providers, models and groups, built from struct cfg.
 *
 * Sections and keys (anything else is an error naming file and line,
 * with a "did you mean" for a misspelt key):
 *
 *   [defaults]         model, database, timeout, retries,
 *                      connect_timeout, first_byte_timeout, idle_timeout,
 *                      daily_budget_usd, monthly_budget_usd, cooldown,
 *                      cache, cache_ttl
 *   [provider.NAME]    type (openai azure anthropic gemini ollama bedrock
 *                      mock), base_url, api_key, api_key_cmd, enabled,
 *                      timeout, retries, api_version, anthropic_version,
 *                      region, access_key_id, secret_access_key,
 *                      session_token, reply, delay_ms, connect_timeout,
 *                      first_byte_timeout, idle_timeout, rpm, tpm,
 *                      max_parallel, daily_budget_usd, monthly_budget_usd,
 *                      cooldown
 *   [model.NAME]       provider, name, context_window, max_output_tokens,
 *                      input_cost, output_cost, cached_input_cost, tags,
 *                      temperature, top_p, max_tokens, rpm, tpm,
 *                      max_parallel, cache, cache_ttl
 *   [group.NAME]       models, strategy (fallback weighted round-robin
 *                      shadow), weights, cache, cache_ttl
 *
 * A model reference is an alias ([model.NAME]), a group ([group.NAME]) or
 * PROVIDER/MODEL (split at the first '/'; MODEL may hold more slashes).
 * PROVIDER/MODEL uses the metadata of a [model.*] entry with that provider
 * and name when there is one.  $LLM_MODEL overrides [defaults] model.
 *
 * Values: an empty value (also one whose ${VAR} is unset) counts as unset.
 * Booleans are true/false, yes/no, on/off, 1/0.  A [model.NAME] without
 * name uses NAME as the id; provider is required and must be defined.
 * tags and models are comma-separated lists; weights, when given, has one
 * number per model.  A group's strategy defaults to fallback; its members
 * must be models (aliases or PROVIDER/MODEL of a defined provider), not
 * groups.  A provider name may not hold '/'.  type is required; azure
 * also needs a base_url key (if it expands to nothing, as with an unset
 * ${AZURE_OPENAI_ENDPOINT}, loading works and registry_resolve() fails for
 * that provider, naming the variable).  Bedrock's region defaults to
 * us-east-1.
 *
 * struct registry owns everything it points to; registry_release() frees
 * it.  Pointers it returns stay valid until then.
 */
#ifndef LLM_REGISTRY_H
#define LLM_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "cfg.h"
#include "status.h"

/*
 * Time limits, shared limits, budgets, cooldown and cache: the keys of
 * [defaults], [provider.X], [model.X] and [group.X] that each allows
 * (connect_timeout, first_byte_timeout, idle_timeout, cooldown and
 * cache_ttl take seconds or a number with s, m, h or d).
 */
struct policy {
	double connect_timeout, first_byte_timeout, idle_timeout; /* 0 = unset */
	long rpm, tpm, max_parallel;  /* 0 = no limit */
	double daily_budget_usd, monthly_budget_usd; /* < 0 = none */
	double cooldown;  /* seconds after a failure; < 0 = unset */
	int cache;        /* -1 = unset, 0 = off, 1 = on */
	double cache_ttl; /* seconds; < 0 = unset */
};

struct provider {
	char *name;
	char *type;     /* one of the types above */
	char *base_url; /* without a trailing '/'; the type's default if unset */
	char *api_key;  /* expanded; NULL when not configured or empty */
	char *api_key_cmd;
	char *key_var;  /* the variable named in api_key's raw text, or NULL */
	bool auth;      /* api_key or api_key_cmd is configured */
	bool enabled;
	double timeout; /* seconds; 0 = unset */
	int retries;    /* -1 = unset */
	char *api_version, *anthropic_version;
	char *region, *access_key_id, *secret_access_key, *session_token;
	char *reply;   /* mock: a fixed reply */
	long delay_ms; /* mock: simulated latency */
	char *file;    /* where the section was defined (first key) */
	int line;
	char *enabled_file; /* where enabled was set, or NULL */
	int enabled_line;
	char *base_url_var; /* the variable named in base_url's raw text */
	struct policy policy; /* timeouts, rpm, tpm, max_parallel, budgets,
				 cooldown */
};

struct model {
	char *ref;      /* what the user names: alias or PROVIDER/MODEL */
	char *alias;    /* the [model.NAME], or NULL */
	char *provider; /* provider name */
	char *id;       /* the id sent to the API */
	long context_window;    /* 0 = unknown */
	long max_output_tokens; /* 0 = unknown */
	bool has_cost;          /* both prices are known */
	double input_cost, output_cost; /* USD per million tokens */
	double cached_input_cost;       /* < 0 = same as input_cost */
	char **tags;
	size_t ntags;
	bool has_temperature, has_top_p;
	double temperature, top_p; /* per-model defaults */
	long max_tokens;           /* per-model default; 0 = unset */
	struct policy policy; /* rpm, tpm, max_parallel, cache, cache_ttl */
};

struct group {
	char *name;
	char *strategy;
	char **models; /* references, in order */
	size_t nmodels;
	double *weights; /* nmodels of them, or NULL */
	struct policy policy; /* cache, cache_ttl */
};

struct registry {
	struct provider **providers;
	size_t nproviders, providers_alloc;
	struct model **models; /* configured ones first, then synthesized */
	size_t nmodels, models_alloc;
	struct group **groups;
	size_t ngroups, groups_alloc;
	char *default_model; /* $LLM_MODEL, else [defaults] model, or NULL */
	char *database;      /* expanded path; a default under XDG_DATA_HOME */
	double timeout;      /* seconds, default 120 */
	int retries;         /* default 2 */
	struct policy policy; /* [defaults]: timeouts, budgets, cooldown
				 (default 30 s), cache (off), cache_ttl (1 d) */
};

/* clang-format off */
#define REGISTRY_INIT { 0 }
/* clang-format on */

/* Build the registry from c, checking every section and key. */
enum llm_status registry_load(struct registry *r, const struct cfg *c,
	struct buf *err);
void registry_release(struct registry *r);

struct provider *registry_provider(const struct registry *r,
	const char *name);
struct group *registry_group(const struct registry *r, const char *name);
/* An alias, or else a configured model whose provider/id match. */
struct model *registry_model(const struct registry *r, const char *ref);

/*
 * Resolve a model reference (not a group) to a model and its provider.
 * PROVIDER/MODEL without an entry gets a synthesized model with unknown
 * metadata.  Unknown names, unknown or disabled providers give
 * LLM_ERR_CONFIG and a message that lists the closest known names.
 */
enum llm_status registry_resolve(struct registry *r, const char *ref,
	struct model **m, struct provider **p, struct buf *err);

/*
 * The API key of p into key (emptied first): api_key, else the first line
 * of api_key_cmd's stdout.  Returns LLM_OK with an empty key when p needs
 * none, LLM_ERR_AUTH when one is configured but empty or the command
 * fails (the message names the variable to set).
 */
enum llm_status registry_api_key(const struct provider *p, struct buf *key,
	struct buf *err);

/* Append "; did you mean 'a', 'b'?" (or the list of known names when
 * nothing is close) for an unknown reference. */
void registry_suggest(const struct registry *r, const char *ref,
	struct buf *out);

/* Cost in USD of a request, or a negative value when prices are unknown. */
double registry_cost(const struct model *m, long input_tokens,
	long output_tokens, long cached_tokens);

/* Default base URL of a provider type, or NULL (bedrock: the us-east-1
 * one; registry_load() uses the provider's region). */
const char *registry_default_base_url(const char *type);

#endif
