/*
 * sha256.h - SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), for AWS
 * Signature Version 4 without linking a crypto library.
 *
 * struct sha256 is a plain value: sha256_init(), any number of
 * sha256_update() calls with slices of any size, then sha256_final().
 * Nothing is allocated.  These are not hardened against timing attacks
 * beyond what the algorithm gives: fine for signing requests.
 */
#ifndef LLM_SHA256_H
#define LLM_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32     /* bytes in a digest */
#define SHA256_HEX_LEN 64 /* hex digits in a digest */

struct sha256 {
	uint32_t h[8];
	uint64_t len;             /* bytes hashed so far */
	unsigned char block[64];  /* a partial block */
	size_t fill;              /* bytes in block */
};

void sha256_init(struct sha256 *c);
/* Hash n more bytes of p. */
void sha256_update(struct sha256 *c, const void *p, size_t n);
/* Finish into out; c must be initialized again before reuse. */
void sha256_final(struct sha256 *c, unsigned char out[SHA256_LEN]);
/* The digest of n bytes of p. */
void sha256(const void *p, size_t n, unsigned char out[SHA256_LEN]);
/* HMAC-SHA256 of msg under key (keys of any length). */
void sha256_hmac(const void *key, size_t klen, const void *msg, size_t mlen,
	unsigned char out[SHA256_LEN]);
/* Lowercase hex of n bytes of p into out, which gets 2n digits + NUL. */
void sha256_hex(const unsigned char *p, size_t n, char *out);

#endif
