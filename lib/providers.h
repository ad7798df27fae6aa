/*
 * providers.h - llm-providers: what is configured, what works, what it
 * costs.
 *
 * providers_run() renders, into out, one of: the provider table (name,
 * type, status, base URL, model count), the model table (--models, with
 * context window, prices per million tokens and tags; --tag filters), the
 * result of live probes (--check: every selected provider's model-listing
 * endpoint, all at once, each with a short timeout), or the models that
 * the providers serve but the registry lacks (--discover); as text or as
 * JSON.  Statuses: ready, no key, disabled, no base_url, and after a
 * probe ok, unreachable, key refused, error.
 *
 * Ownership: everything is borrowed; out and err belong to the caller.
 */
#ifndef LLM_PROVIDERS_H
#define LLM_PROVIDERS_H

#include <stdbool.h>

#include "buf.h"
#include "registry.h"
#include "status.h"

struct providers_opts {
	bool models, check, discover, json;
	const char *tag;
	double timeout; /* per probe, seconds; 0 = 10 */
	char **names;   /* selected providers; none = all */
	int nnames;
};

/* Returns LLM_OK, or, for --check and --discover, the status of the
 * first selected provider that is down (LLM_ERR_UNAVAILABLE when it did
 * not answer, LLM_ERR_AUTH when it refused the key, ...). */
enum llm_status providers_run(struct registry *r,
	const struct providers_opts *o, struct buf *out, struct buf *err);

#endif
