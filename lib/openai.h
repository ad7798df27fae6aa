/*
 * openai.h - what the OpenAI Chat Completions type (openai.c) shares with
 * the types that speak a variant of it (azure.c).
 *
 * Ownership: the body is the caller's cJSON object; messages are appended
 * to the caller's buffers.
 */
#ifndef LLM_OPENAI_H
#define LLM_OPENAI_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "provider.h"

extern const struct provider_ops openai_ops;

/* Add the Chat Completions fields of rq to body: model, messages (the
 * system prompt first), temperature, top_p, max_completion_tokens (when
 * max_completion) or max_tokens, stop, stream and stream_options, then
 * the -o options. */
void openai_body(const struct llm_request *rq, cJSON *body,
	bool max_completion);

/* The message of an error body ({"error":{"message":…}}, {"error":"…"},
 * {"message":…}, {"detail":…}); a body that is not JSON gives its first
 * line. */
void openai_error(const char *body, size_t n, struct buf *msg);

#endif
