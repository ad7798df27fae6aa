/* test-registry.c - unit tests of lib/registry. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cfg.h"
#include "registry.h"
#include "tap.h"

static const char config[] =
	"[defaults]\n"                                    /* 1 */
	"model = llama-fast\n"                            /* 2 */
	"timeout = 60\n"                                  /* 3 */
	"\n"                                              /* 4 */
	"[provider.groq]\n"                               /* 5 */
	"type = openai\n"                                 /* 6 */
	"base_url = https://api.groq.com/openai/v1/\n"    /* 7 */
	"api_key = ${T_GROQ_KEY}\n"                       /* 8 */
	"[provider.openai]\n"                             /* 9 */
	"type = openai\n"                                 /* 10 */
	"[provider.together]\n"                           /* 11 */
	"type = openai\n"                                 /* 12 */
	"base_url = https://api.together.xyz/v1\n"        /* 13 */
	"[provider.ollama]\n"                             /* 14 */
	"type = ollama\n"                                 /* 15 */
	"[provider.off]\n"                                /* 16 */
	"type = mock\n"                                   /* 17 */
	"enabled = no\n"                                  /* 18 */
	"[provider.cmd]\n"                                /* 19 */
	"type = anthropic\n"                              /* 20 */
	"api_key_cmd = printf 'sk-test\\n  \\nsecond\\n'\n" /* 21 */
	"[provider.badcmd]\n"                             /* 22 */
	"type = openai\n"                                 /* 23 */
	"api_key_cmd = printf 'sk-secret\\n'; exit 3\n"   /* 24 */
	"[provider.plain]\n"                              /* 25 */
	"type = gemini\n"                                 /* 26 */
	"api_key =\n"                                     /* 27 */
	"[provider.aws]\n"                                /* 28 */
	"type = bedrock\n"                                /* 29 */
	"region = eu-west-1\n"                            /* 30 */
	"[model.llama-fast]\n"                            /* 31 */
	"provider = groq\n"                               /* 32 */
	"name = llama-3.1-8b-instant\n"                   /* 33 */
	"context_window = 131072\n"                       /* 34 */
	"input_cost = 0.05\n"                             /* 35 */
	"output_cost = 0.08\n"                            /* 36 */
	"tags = fast , cheap,\n"                          /* 37 */
	"temperature = 0.7\n"                             /* 38 */
	"[model.gpt-5]\n"                                 /* 39 */
	"provider = openai\n"                             /* 40 */
	"input_cost = 1.25\n"                             /* 41 */
	"output_cost = 10\n"                              /* 42 */
	"cached_input_cost = 0.125\n"                     /* 43 */
	"[model.llama-70b]\n"                             /* 44 */
	"provider = together\n"                           /* 45 */
	"name = meta-llama/Llama-3.3-70B-Instruct-Turbo\n" /* 46 */
	"[model.offline]\n"                               /* 47 */
	"provider = off\n"                                /* 48 */
	"[group.fast]\n"                                  /* 49 */
	"models = llama-fast, ollama/llama3.2\n"          /* 50 */
	"strategy = weighted\n"                           /* 51 */
	"weights = 3, 1\n";                               /* 52 */

/* Build r from text named t.ini; the cfg is gone before r is used. */
static enum llm_status
load(struct registry *r, const char *text, struct buf *err)
{
	struct cfg c = CFG_INIT;
	enum llm_status st;

	buf_reset(err);
	st = cfg_load_string(&c, text, "t.ini", err);
	if (st == LLM_OK)
		st = registry_load(r, &c, err);
	cfg_release(&c);
	return st;
}

/* The message of loading text, which must fail with LLM_ERR_CONFIG. */
static const char *
load_error(const char *text)
{
	static struct buf err = BUF_INIT;
	struct registry r = REGISTRY_INIT;
	enum llm_status st;

	if (text == NULL) {
		buf_release(&err);
		return NULL;
	}
	st = load(&r, text, &err);
	registry_release(&r);
	if (st != LLM_ERR_CONFIG)
		buf_setf(&err, "status %d, not LLM_ERR_CONFIG", (int)st);
	return err.ptr;
}

static void
test_load(void)
{
	struct registry r = REGISTRY_INIT;
	struct buf err = BUF_INIT;
	struct provider *p;
	struct model *m;
	struct group *g;

	unsetenv("LLM_MODEL");
	unsetenv("T_GROQ_KEY");
	setenv("XDG_DATA_HOME", "/data", 1);
	is_int(load(&r, config, &err), LLM_OK, "config loads");
	is_str(err.ptr, "", "no message");
	is_int((long long)r.nproviders, 9, "nine providers");
	is_str(r.default_model, "llama-fast", "[defaults] model");
	ok(r.timeout == 60 && r.retries == 2, "timeout set, retries default");
	is_str(r.database, "/data/llm/llm.db", "database under XDG_DATA_HOME");

	p = registry_provider(&r, "groq");
	is_str(p ? p->base_url : NULL, "https://api.groq.com/openai/v1",
		"trailing / stripped from base_url");
	ok(p && p->auth && p->api_key == NULL && p->enabled,
		"unset ${VAR} key: auth, no key, enabled");
	is_str(p ? p->key_var : NULL, "T_GROQ_KEY", "key_var from raw text");
	ok(p && strcmp(p->file, "t.ini") == 0 && p->line == 6,
		"provider file and line");
	p = registry_provider(&r, "openai");
	is_str(p ? p->base_url : NULL, "https://api.openai.com/v1",
		"openai default base_url");
	ok(p && !p->auth && p->retries == -1 && p->timeout == 0,
		"no key configured, retries and timeout unset");
	p = registry_provider(&r, "ollama");
	is_str(p ? p->base_url : NULL, "http://localhost:11434",
		"ollama default base_url");
	p = registry_provider(&r, "aws");
	is_str(p ? p->base_url : NULL,
		"https://bedrock-runtime.eu-west-1.amazonaws.com",
		"bedrock base_url from region");
	p = registry_provider(&r, "off");
	ok(p && !p->enabled && p->base_url == NULL, "mock: disabled, no URL");
	ok(registry_provider(&r, "nope") == NULL, "unknown provider is NULL");
	is_str(registry_default_base_url("anthropic"),
		"https://api.anthropic.com", "anthropic default base_url");
	is_str(registry_default_base_url("gemini"),
		"https://generativelanguage.googleapis.com/v1beta",
		"gemini default base_url");
	ok(registry_default_base_url("azure") == NULL, "azure has none");

	m = registry_model(&r, "llama-fast");
	ok(m && strcmp(m->provider, "groq") == 0 &&
			strcmp(m->id, "llama-3.1-8b-instant") == 0 &&
			strcmp(m->ref, "llama-fast") == 0,
		"alias: provider, id, ref");
	ok(m && m->context_window == 131072 && m->max_output_tokens == 0 &&
			m->has_cost && m->cached_input_cost < 0,
		"model metadata");
	ok(m && m->has_temperature && m->temperature == 0.7 && !m->has_top_p,
		"per-model temperature");
	ok(m && m->ntags == 2 && strcmp(m->tags[0], "fast") == 0 &&
			strcmp(m->tags[1], "cheap") == 0,
		"tags trimmed, empty dropped");
	ok(registry_model(&r, "groq/llama-3.1-8b-instant") == m,
		"registry_model by provider/id");
	m = registry_model(&r, "gpt-5");
	is_str(m ? m->id : NULL, "gpt-5", "id defaults to the alias");

	g = registry_group(&r, "fast");
	ok(g && strcmp(g->strategy, "weighted") == 0 && g->nmodels == 2 &&
			strcmp(g->models[1], "ollama/llama3.2") == 0,
		"group members and strategy");
	ok(g && g->weights && g->weights[0] == 3 && g->weights[1] == 1,
		"group weights");
	registry_release(&r);

	setenv("LLM_MODEL", "ollama/qwen3", 1);
	unsetenv("XDG_DATA_HOME");
	setenv("HOME", "/home/u", 1);
	load(&r, config, &err);
	is_str(r.default_model, "ollama/qwen3", "LLM_MODEL beats [defaults]");
	is_str(r.database, "/home/u/.local/share/llm/llm.db",
		"database default under ~/.local/share");
	registry_release(&r);
	registry_release(&r);
	ok(r.providers == NULL && r.nmodels == 0, "release twice is safe");
	unsetenv("LLM_MODEL");
	buf_release(&err);
}

static void
test_resolve(void)
{
	struct registry r = REGISTRY_INIT;
	struct buf err = BUF_INIT;
	struct provider *p;
	struct model *m, *m2;
	size_t n;

	load(&r, config, &err);
	is_int(registry_resolve(&r, "llama-fast", &m, &p, &err), LLM_OK,
		"resolve an alias");
	ok(m == registry_model(&r, "llama-fast") && p &&
			strcmp(p->name, "groq") == 0,
		"alias gives its model and provider");
	registry_resolve(&r, "groq/llama-3.1-8b-instant", &m2, &p, &err);
	ok(m2 == m, "PROVIDER/ID of a configured model gives that model");
	registry_resolve(&r,
		"together/meta-llama/Llama-3.3-70B-Instruct-Turbo", &m, &p,
		&err);
	ok(m && m->alias && strcmp(m->alias, "llama-70b") == 0,
		"id with slashes finds the configured model");

	n = r.nmodels;
	is_int(registry_resolve(&r, "together/meta-llama/Other-8B", &m, &p,
		       &err),
		LLM_OK, "unconfigured PROVIDER/MODEL resolves");
	ok(m && m->alias == NULL && strcmp(m->provider, "together") == 0 &&
			strcmp(m->id, "meta-llama/Other-8B") == 0 &&
			strcmp(m->ref, "together/meta-llama/Other-8B") == 0,
		"synthesized: split at the first /");
	ok(m && !m->has_cost && m->cached_input_cost == -1 &&
			m->context_window == 0 && p &&
			strcmp(p->name, "together") == 0,
		"synthesized: unknown metadata");
	is_int((long long)r.nmodels, (long long)n + 1, "appended to models");
	registry_resolve(&r, "together/meta-llama/Other-8B", &m2, &p, &err);
	ok(m2 == m && r.nmodels == n + 1, "synthesized model is reused");
	ok(registry_model(&r, "together/meta-llama/Other-8B") == NULL,
		"registry_model ignores synthesized models");

	is_int(registry_resolve(&r, "grok/x", &m, &p, &err), LLM_ERR_CONFIG,
		"unknown provider status");
	is_str(err.ptr, "unknown provider 'grok' in 'grok/x'; did you mean 'groq'?",
		"unknown provider message");
	ok(m == NULL && p == NULL, "outputs are NULL on error");
	registry_resolve(&r, "fast", &m, &p, &err);
	is_str(err.ptr, "'fast' is a group; resolve its members",
		"a group is not a model");
	registry_resolve(&r, "gpt5", &m, &p, &err);
	is_str(err.ptr, "unknown model 'gpt5'; did you mean 'gpt-5', 'openai/gpt-5'?",
		"did you mean for a model");
	registry_resolve(&r, "zzzzzz", &m, &p, &err);
	is_str(err.ptr,
		"unknown model 'zzzzzz'; known models: llama-fast, gpt-5, "
		"llama-70b, offline, fast, groq/llama-3.1-8b-instant, "
		"openai/gpt-5, together/meta-llama/Llama-3.3-70B-Instruct-Turbo, ...",
		"known models when nothing is close");
	registry_resolve(&r, "lama", &m, &p, &err);
	is_str(err.ptr,
		"unknown model 'lama'; did you mean 'llama-fast', 'llama-70b', "
		"'groq/llama-3.1-8b-instant'?",
		"substring matches, at most three");
	registry_resolve(&r, "fsat", &m, &p, &err);
	is_str(err.ptr,
		"unknown model 'fsat'; did you mean 'fast', 'llama-fast'?",
		"a swap is one edit; a group first, then a close word");
	is_int(registry_resolve(&r, "", &m, &p, &err), LLM_ERR_CONFIG,
		"empty ref status");
	is_str(err.ptr, "no model given: use -m MODEL or set model in [defaults]",
		"empty ref message");
	registry_resolve(&r, "offline", &m, &p, &err);
	is_str(err.ptr, "provider 'off' is disabled (enabled = false in t.ini:18)",
		"disabled provider via alias");
	is_int(registry_resolve(&r, "off/anything", &m, &p, &err),
		LLM_ERR_CONFIG, "disabled provider via PROVIDER/MODEL");
	registry_release(&r);
	buf_release(&err);
}

static void
test_keys(void)
{
	struct registry r = REGISTRY_INIT;
	struct buf err = BUF_INIT, key = BUF_INIT;

	unsetenv("T_GROQ_KEY");
	load(&r, config, &err);
	is_int(registry_api_key(registry_provider(&r, "groq"), &key, &err),
		LLM_ERR_AUTH, "unset key variable is an auth error");
	is_str(err.ptr, "no API key for provider 'groq': set T_GROQ_KEY",
		"missing key names the variable");
	registry_api_key(registry_provider(&r, "plain"), &key, &err);
	is_str(err.ptr,
		"no API key for provider 'plain': set api_key in [provider.plain]",
		"missing key without a variable");
	buf_adds(&key, "stale");
	is_int(registry_api_key(registry_provider(&r, "ollama"), &key, &err),
		LLM_OK, "no key needed");
	is_str(key.ptr, "", "key emptied when none is needed");
	is_int(registry_api_key(registry_provider(&r, "cmd"), &key, &err),
		LLM_OK, "api_key_cmd runs");
	is_str(key.ptr, "sk-test", "first line of its stdout, trimmed");
	buf_reset(&err);
	is_int(registry_api_key(registry_provider(&r, "badcmd"), &key, &err),
		LLM_ERR_AUTH, "failing api_key_cmd");
	is_str(err.ptr, "api_key_cmd for provider 'badcmd' failed (exit 3)",
		"failing api_key_cmd message");
	ok(strstr(err.ptr, "sk-secret") == NULL && key.len == 0,
		"the command's output is not shown or kept");
	registry_release(&r);

	setenv("T_GROQ_KEY", "gsk-123", 1);
	load(&r, config, &err);
	registry_api_key(registry_provider(&r, "groq"), &key, &err);
	is_str(key.ptr, "gsk-123", "key from the environment");
	registry_release(&r);
	unsetenv("T_GROQ_KEY");
	buf_release(&key);
	buf_release(&err);
}

static void
test_cost(void)
{
	struct registry r = REGISTRY_INIT;
	struct buf err = BUF_INIT;
	struct provider *p;
	struct model *m;

	load(&r, config, &err);
	m = registry_model(&r, "gpt-5");
	ok(m && fabs(registry_cost(m, 1000, 500, 200) - 0.006025) < 1e-12,
		"cost with a cached price: (800*1.25 + 200*0.125 + 500*10)/1e6");
	m = registry_model(&r, "llama-fast");
	ok(m && fabs(registry_cost(m, 1000, 2000, 400) - 0.00021) < 1e-12,
		"cached tokens at the input price when none is set");
	registry_resolve(&r, "ollama/llama3.2", &m, &p, &err);
	ok(m && registry_cost(m, 10, 10, 0) < 0, "unknown prices give < 0");
	registry_release(&r);
	buf_release(&err);
}

static void
test_errors(void)
{
	struct registry r = REGISTRY_INIT;
	struct cfg c = CFG_INIT;
	struct buf err = BUF_INIT;
	struct provider *p;

	is_str(load_error("[provider.p]\ntype = mock\n[model.x]\n"
			  "provider = p\ntempature = 0.5\n"),
		"t.ini:5: unknown key 'tempature' in [model.x]; did you mean 'temperature'?",
		"unknown key with did you mean");
	is_str(load_error("[defaults]\nfrobnicate = 1\n"),
		"t.ini:2: unknown key 'frobnicate' in [defaults]",
		"unknown key, nothing close");
	is_str(load_error("[defaults]\nmodel = a/b\n[foo]\na = 1\n"),
		"t.ini:4: unknown section '[foo]'", "unknown section");
	is_str(load_error("x = 1\n"), "t.ini:1: key 'x' is outside any section",
		"key outside any section");
	is_str(load_error("[provider.x]\ntype = opnai\n"),
		"t.ini:2: unknown provider type 'opnai'; known types: openai, "
		"azure, anthropic, gemini, ollama, bedrock, mock",
		"unknown provider type");
	is_str(load_error("[provider.az]\ntype = azure\n"),
		"t.ini:2: provider 'az' of type azure needs base_url = https://RESOURCE.openai.azure.com",
		"azure needs base_url");
	is_str(load_error("[provider.p]\ntype = mock\n[model.m]\nprovider = p\n"
			  "context_window = abc\n"),
		"t.ini:5: invalid context_window 'abc' in [model.m]: expected a whole number from 0 to 1073741824",
		"invalid whole number");
	is_str(load_error("[provider.p]\ntype = mock\n[model.m]\nprovider = p\n"
			  "temperature = x\n"),
		"t.ini:5: invalid temperature 'x' in [model.m]: expected a number >= 0",
		"invalid number");
	is_str(load_error("[provider.p]\ntype = mock\nenabled = maybe\n"),
		"t.ini:3: invalid enabled 'maybe' in [provider.p]: expected true or false",
		"invalid boolean");
	is_str(load_error("[provider.groq]\ntype = openai\n[model.m]\n"
			  "provider = grq\n"),
		"t.ini:4: model 'm' uses unknown provider 'grq'; did you mean 'groq'?",
		"model with an undefined provider");
	is_str(load_error("[provider.p]\ntype = mock\n[model.a]\nprovider = p\n"
			  "[group.g]\nmodels = a, nope\n"),
		"t.ini:6: unknown model 'nope' in [group.g]; known models: a, g, p/a",
		"group naming an unknown model");
	is_str(load_error("[provider.p]\ntype = mock\n[group.g]\n"
			  "models = p/a, p/b\nweights = 1\n"),
		"t.ini:5: group 'g' has 1 weights for 2 models",
		"weights must match models");
	is_str(load_error("[provider.p]\ntype = mock\n[group.g]\n"
			  "models = p/a\nstrategy = random\n"),
		"t.ini:5: unknown strategy 'random' in [group.g]; known strategies: fallback, weighted, round-robin, shadow",
		"unknown strategy");

	/* azure with an unset ${VAR} base_url loads, but does not resolve */
	unsetenv("T_ENDPOINT");
	is_int(load(&r, "[provider.az]\ntype = azure\n"
			"base_url = ${T_ENDPOINT}\n",
		       &err),
		LLM_OK, "azure base_url from an unset variable loads");
	{
		struct model *m;

		is_int(registry_resolve(&r, "az/deployment", &m, &p, &err),
			LLM_ERR_CONFIG, "but its models do not resolve");
	}
	is_str(err.ptr, "provider 'az' has no base_url: set T_ENDPOINT",
		"the message names the variable");
	registry_release(&r);

	/* a section in two layers is merged key by key */
	cfg_load_string(&c,
		"[provider.x]\ntype = openai\nbase_url = http://a/\n"
		"enabled = off\n",
		"a.ini", &err);
	cfg_load_string(&c, "[provider.x]\nbase_url = http://b/v1\nenabled = Yes\n",
		"b.ini", &err);
	is_int(registry_load(&r, &c, &err), LLM_OK, "merged layers load");
	p = registry_provider(&r, "x");
	ok(p && strcmp(p->type, "openai") == 0 &&
			strcmp(p->base_url, "http://b/v1") == 0 && p->enabled,
		"later layer wins key by key");
	ok(p && strcmp(p->file, "a.ini") == 0 && p->line == 2,
		"provider located at its first key");
	registry_release(&r);
	cfg_release(&c);
	load_error(NULL);
	buf_release(&err);
}

/* The policy keys: time limits, shared limits, budgets, cache. */
static void
test_policy(void)
{
	struct registry r = REGISTRY_INIT;
	struct buf err = BUF_INIT;
	struct model *m;
	struct provider *p;

	is_int(load(&r, "[provider.p]\ntype = mock\n", &err), LLM_OK,
		"defaults only");
	ok(r.policy.cooldown == 30 && r.policy.cache == 0 &&
			r.policy.cache_ttl == 86400 &&
			r.policy.daily_budget_usd < 0,
		"[defaults]: cooldown 30 s, cache off for a day, no budget");
	p = registry_provider(&r, "p");
	ok(p->policy.rpm == 0 && p->policy.cooldown < 0 &&
			p->policy.first_byte_timeout == 0,
		"a provider without keys sets nothing");
	is_int(load(&r,
		       "[defaults]\ncache = yes\ncache_ttl = 2h\n"
		       "daily_budget_usd = 1.5\n"
		       "[provider.p]\ntype = mock\nrpm = 60\ntpm = 1000\n"
		       "max_parallel = 2\nfirst_byte_timeout = 1.5\n"
		       "idle_timeout = 30s\nconnect_timeout = 1m\n"
		       "cooldown = 1d\nmonthly_budget_usd = 20\n"
		       "[model.a]\nprovider = p\nrpm = 5\ncache = off\n"
		       "[group.g]\nmodels = a\ncache_ttl = 90\n",
		       &err),
		LLM_OK, "every policy key");
	ok(r.policy.cache == 1 && r.policy.cache_ttl == 7200 &&
			r.policy.daily_budget_usd == 1.5,
		"[defaults] values, 2h in seconds");
	p = registry_provider(&r, "p");
	ok(p->policy.rpm == 60 && p->policy.tpm == 1000 &&
			p->policy.max_parallel == 2 &&
			p->policy.first_byte_timeout == 1.5 &&
			p->policy.idle_timeout == 30 &&
			p->policy.connect_timeout == 60 &&
			p->policy.cooldown == 86400 &&
			p->policy.monthly_budget_usd == 20,
		"provider values");
	m = registry_model(&r, "a");
	ok(m && m->policy.rpm == 5 && m->policy.cache == 0 &&
			m->policy.cache_ttl < 0,
		"model values");
	ok(registry_group(&r, "g")->policy.cache_ttl == 90, "group values");
	registry_release(&r);

	is_str(load_error("[provider.p]\ntype = mock\ncooldown = 5x\n"),
		"t.ini:3: invalid cooldown '5x' in [provider.p]: expected seconds, or a number with s, m, h or d",
		"a bad duration");
	is_str(load_error("[provider.p]\ntype = mock\n[model.a]\n"
			  "provider = p\ncooldown = 5\n"),
		"t.ini:5: unknown key 'cooldown' in [model.a]",
		"cooldown belongs to providers");
	is_str(load_error("[provider.p]\ntype = mock\nrpm = -1\n"),
		"t.ini:3: invalid rpm '-1' in [provider.p]: expected a whole number from 0 to 1000000000",
		"a negative rpm");
	load_error(NULL);
	buf_release(&err);
}

int
main(void)
{
	test_load();
	test_resolve();
	test_keys();
	test_cost();
	test_errors();
	test_policy();
	return tap_done();
}
