/*
 * cache.h - answers kept for reuse (opt-in: --cache, or cache = true for a
 * model, a group or [defaults]), in the SQLite database beside the log.
 *
 * The table, cache, lives in the log's file (store.c's migrations make
 * it).  Each process opens the file once per path (store_open(), so with
 * the log's mode, WAL and busy timeout) and keeps that connection until it
 * exits; a child after fork() opens its own.  Rows are written with
 * INSERT OR REPLACE, so processes that store the same answer at once do
 * not fail: the last one wins.  created_at is ISO 8601 UTC with
 * milliseconds, like the log's.
 *
 * Ownership: strings handed in are borrowed; cache_get() fills a
 * struct llm_result the caller has initialized and releases.
 */
#ifndef LLM_CACHE_H
#define LLM_CACHE_H

#include <stdbool.h>

#include "buf.h"
#include "provider.h"
#include "status.h"

/* cache_put() prunes after every CACHE_PRUNE_EVERY-th row (by rowid,
 * across all processes), removing rows older than CACHE_PRUNE_AGE
 * seconds: a cache_ttl longer than that is cut to it. */
#define CACHE_PRUNE_EVERY 50
#define CACHE_PRUNE_AGE   (30.0 * 86400.0)

/*
 * The cache key of a request into hex (replacing its contents): 64 hex
 * digits of SHA-256 over a length-prefixed serialization of the
 * provider's name, type, base_url (and api_version, anthropic_version,
 * region, reply when set), the model id sent, the system prompt, every
 * message (role and content, in order), temperature, top_p, max_tokens,
 * the stop sequences in order, and the -o options sorted by key (the last
 * of a repeated key wins; values compared as they are sent, so x=abc and
 * x="abc" are one).  Never the API key or headers; not the stream flag,
 * so a streamed and a whole request share answers.  A NULL system is the
 * same as "".
 */
void cache_key(const struct llm_request *rq, struct buf *hex);

/*
 * Look up key.  A row younger than ttl seconds (none when ttl <= 0) fills
 * res (text, usage, finish and finish_raw, id; done = true) and sets
 * *hit; otherwise res is left alone.  A database that cannot be opened
 * or read (missing directory, read-only file) gives a miss, a message in
 * err and LLM_ERR_IO; callers then go on without the cache.
 */
enum llm_status cache_get(const char *db_path, const char *key, double ttl,
	struct llm_result *res, bool *hit, struct buf *err);

/*
 * Store a complete answer under key, replacing an older one.  The caller
 * stores only answers of status ok; an answer whose finish is "error" is
 * not stored (LLM_OK).  Every CACHE_PRUNE_EVERY-th row also prunes.
 * Errors: LLM_ERR_IO.
 */
enum llm_status cache_put(const char *db_path, const char *key,
	const char *provider, const char *model_id,
	const struct llm_result *res, struct buf *err);

/* Remove the rows at least max_age seconds old (all when max_age <= 0);
 * *removed (may be NULL) gets their number.  Errors: LLM_ERR_IO. */
enum llm_status cache_prune(const char *db_path, double max_age,
	long *removed, struct buf *err);

/* Close this process's connections (also run at exit; before a fork). */
void cache_close_all(void);

#endif
