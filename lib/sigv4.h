/*
 * sigv4.h - AWS Signature Version 4 for request headers (AWS General
 * Reference, "Signature Version 4 signing process"), done here rather
 * than with CURLOPT_AWS_SIGV4: libcurl before 8.14.0 does not encode the
 * canonical path again, so ids with ':' fail to verify (PROTOCOLS.md 6).
 *
 * The canonical request is, each part on its own line: the method; the
 * canonical URI; the canonical query string; the canonical headers, one
 * "name:value" line each; an empty line; the signed header names joined
 * with ';'; the hex SHA-256 of the payload.  The canonical URI is the
 * path as sent (already percent-encoded), with "." and ".." segments and
 * empty segments removed, percent-encoded once more as AWS does for every
 * service but S3: "/model/a%3A0/converse" signs as
 * "/model/a%253A0/converse".  The string to sign is "AWS4-HMAC-SHA256",
 * the time as 20150830T123600Z, the scope DATE/REGION/SERVICE/aws4_request
 * and the hex SHA-256 of the canonical request, one per line.  The key
 * is HMAC("AWS4" SECRET, DATE) chained over the region, the service and
 * "aws4_request"; the signature is its hex HMAC of the string to sign.
 *
 * The time is a parameter, never read here, so that tests can fix it.
 * struct sigv4 borrows its strings; struct sigv4_parts owns its buffers
 * (sigv4_parts_release).  Secrets never appear in any output but the
 * signature.
 */
#ifndef LLM_SIGV4_H
#define LLM_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "http.h"
#include "sha256.h"
#include "status.h"

struct sigv4 {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token; /* NULL or "" for none */
	const char *region;        /* "us-east-1" */
	const char *service;       /* the signing name: "bedrock" */
	time_t now;                /* the signing time */
};

struct sigv4_header {
	const char *name, *value;
};

/* The steps of one signature. */
struct sigv4_parts {
	struct buf creq;           /* the canonical request */
	struct buf sts;            /* the string to sign */
	struct buf signed_headers; /* "host;x-amz-date" */
	struct buf authorization;  /* the Authorization header's value */
	char signature[SHA256_HEX_LEN + 1];
};

void sigv4_parts_init(struct sigv4_parts *sp);
void sigv4_parts_release(struct sigv4_parts *sp);

/* t as an ISO 8601 basic UTC time, "20150830T123600Z". */
void sigv4_amz_date(time_t t, char out[17]);

/* Append the canonical URI of a path as sent (n bytes of path). */
void sigv4_canonical_uri(struct buf *out, const char *path, size_t n);

/* Append the canonical query string of n bytes of q (without '?'): the
 * parameters decoded and encoded again (all but A-Z a-z 0-9 - . _ ~),
 * "name=value" (also for a parameter without '='), sorted by name, then
 * value, joined with '&'. */
void sigv4_canonical_query(struct buf *out, const char *q, size_t n);

/*
 * Compute every step for a request: method, path and query as sent
 * (query NULL or "" for none), the headers to sign (any case and order;
 * values are trimmed, inner runs of blanks become one space, repeated
 * names are joined with ','), and the payload's hex SHA-256.  The date
 * comes from s->now: the headers must hold an x-amz-date of that time.
 * LLM_ERR_AUTH if the access key or secret is missing.
 */
enum llm_status sigv4_compute(const struct sigv4 *s, const char *method,
	const char *path, const char *query, const struct sigv4_header *h,
	size_t nh, const char *payload_sha256, struct sigv4_parts *out,
	struct buf *err);

/*
 * Sign an HTTP request in place for s->now: adds Host (from the URL,
 * without a default port), X-Amz-Date and, with a session token,
 * X-Amz-Security-Token, then signs host, content-type and every x-amz-*
 * header of h with the SHA-256 of h->body, and adds Authorization.
 * Authorization and X-Amz-Security-Token are marked secret.
 * LLM_ERR_AUTH without an access key or secret, LLM_ERR_CONFIG for a URL
 * without "scheme://host".
 */
enum llm_status sigv4_sign(struct http_request *h, const struct sigv4 *s,
	struct buf *err);

#endif
