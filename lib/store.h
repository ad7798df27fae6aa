/*
 * store.h - the SQLite log: requests, sessions, messages.
 *
 * One file (DESIGN.md, "The log"), created 0600 with its directory, WAL
 * mode, a busy timeout (and retries on SQLITE_BUSY) so that many
 * processes can log at once, migrations by PRAGMA user_version.  An FTS5
 * index over prompt and response is kept by triggers, so rows that any
 * program inserts are searchable.
 *
 * Schema (version 3):
 *   requests(id INTEGER PRIMARY KEY, created_at TEXT, tool, model,
 *            provider, provider_model, session_id, group_id TEXT, step,
 *            system, prompt, response, status, error, http_status,
 *            input_tokens, output_tokens, cached_tokens, tokens_estimated,
 *            latency_ms, ttft_ms, cost_usd REAL, finish_reason,
 *            finish_reason_raw, temperature REAL, max_tokens, attempts,
 *            response_id, cached, route)
 *   sessions(id, name UNIQUE, model, system, created_at, updated_at)
 *   messages(id, session_id, role, content, request_id, created_at)
 *   requests_fts(prompt, response) content='requests'
 * created_at and updated_at are ISO 8601 UTC with milliseconds,
 * "2026-11-23T08:13:00.123Z".
 *
 * Indexes (version 2): requests_time on (STORE_TIME, model, provider,
 * status, latency_ms, ttft_ms, input_tokens, output_tokens, cost_usd,
 * created_at), covering what llm-log stats reads; (model, STORE_TIME),
 * (provider, STORE_TIME), (status, STORE_TIME); session_id; group_id
 * where it is not NULL;
 * messages(session_id), messages(request_id), sessions(updated_at).
 * Queries that filter or sort by time use the expression STORE_TIME, the
 * normalized created_at, so that they use these indexes and treat rows
 * that other programs wrote ("YYYY-MM-DD HH:MM:SS", an offset) alike; it
 * is NULL when created_at is not a time.
 *
 * The WAL is kept small: the writer that closes the log truncates it once
 * it has grown past about ten requests (without waiting for readers).
 *
 * struct store is opaque.  Strings handed in are borrowed; strings handed
 * out belong to the struct they are in and are freed by its _release().
 */
#ifndef LLM_STORE_H
#define LLM_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "status.h"

struct store;

/* created_at normalized to "YYYY-MM-DDTHH:MM:SS.sssZ" (UTC), as SQL. */
#define STORE_TIME "strftime('%Y-%m-%dT%H:%M:%fZ', created_at)"

/* One row of requests.  NULL strings and negative numbers are stored as
 * NULL (cost_usd < 0, temperature < 0, ...). */
struct store_request {
	const char *tool, *model, *provider, *provider_model;
	const char *group_id;
	long step; /* < 0 = NULL */
	const char *system, *prompt, *response;
	const char *status; /* "ok", "error", "interrupted" */
	const char *error;
	long http_status; /* <= 0 = NULL */
	long input_tokens, output_tokens, cached_tokens; /* < 0 = NULL */
	bool tokens_estimated;
	long latency_ms, ttft_ms; /* < 0 = NULL */
	double cost_usd;          /* < 0 = NULL */
	const char *finish_reason, *finish_reason_raw;
	double temperature; /* < 0 = NULL */
	long max_tokens;    /* <= 0 = NULL */
	long attempts;      /* <= 0 = 1 */
	const char *response_id;
	bool cached;       /* answered from the cache (attempts 0) */
	const char *route; /* the group that chose the model, or NULL */

	/*
	 * Session turn: when session is set, the request is logged under that
	 * session (created with session_model and system when new; its model
	 * and updated_at are updated otherwise), and, if status is "ok", the
	 * user message (session_user, else prompt) and the assistant's
	 * response are appended to its messages.  All in one transaction.
	 */
	const char *session;
	const char *session_model;
	const char *session_user;
};

struct store_session {
	int64_t id;
	char *name, *model, *system, *created_at, *updated_at;
};

struct store_message {
	char *role, *content;
};

/* Open (creating and migrating) the log at path.  Errors: LLM_ERR_IO. */
enum llm_status store_open(struct store **sp, const char *path,
	struct buf *err);
/* Open an existing log read-only (no creation, no migration). */
enum llm_status store_open_readonly(struct store **sp, const char *path,
	struct buf *err);
void store_close(struct store *s);
/*
 * Get ready to log: checkpoint a long WAL, bring the full-text index up
 * to date (up to 64 requests), load the schema and the pages
 * that logging touches, never waiting for a lock.  A program calls it
 * while it waits for the provider (call.h's on_wait), so that logging the
 * answer costs the answer little; store_close() then leaves a long WAL to
 * the next process's wait.  Once per connection; later calls do nothing.
 */
void store_warm(struct store *s);
/* The same for a log opened when first needed: *sp, else path. */
void store_warm_at(struct store **sp, const char *path);
/*
 * The full-text index (requests_fts) is brought up to date in batches,
 * not on each insert: store_index() adds every request above the newest
 * one indexed, *n how many; store_unindexed() counts them.
 */
enum llm_status store_index(struct store *s, long *n, struct buf *err);
enum llm_status store_unindexed(struct store *s, long *n, struct buf *err);

/* Insert one request (and its session turn); *id gets its rowid. */
enum llm_status store_log(struct store *s, const struct store_request *rq,
	int64_t *id, struct buf *err);

/* Find a session by name; *found says whether it exists. */
enum llm_status store_session_find(struct store *s, const char *name,
	struct store_session *out, bool *found, struct buf *err);
/* The most recently used session (largest updated_at). */
enum llm_status store_session_last(struct store *s,
	struct store_session *out, bool *found, struct buf *err);
/* The session's messages, oldest first; free with store_messages_free. */
enum llm_status store_session_messages(struct store *s, int64_t session_id,
	struct store_message **msgs, size_t *n, struct buf *err);
void store_session_release(struct store_session *ss);
void store_messages_free(struct store_message *msgs, size_t n);

/* The current time as ISO 8601 UTC with milliseconds, into out. */
void store_now(struct buf *out);
/* The time ms milliseconds after the epoch, the same way. */
void store_time(struct buf *out, int64_t ms);
/* The underlying handle, for llm-log's queries (sqlite3 *). */
void *store_handle(struct store *s);

#endif
