/*
 * crc32.h - CRC-32 with the IEEE 802.3 polynomial (reflected 0xEDB88320,
 * initial and final XOR 0xFFFFFFFF): zlib's crc32(), the checksum of the
 * AWS event-stream prelude and message.  Nothing is allocated.
 */
#ifndef LLM_CRC32_H
#define LLM_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* The CRC of n bytes of p. */
uint32_t crc32_compute(const void *p, size_t n);
/* Continue crc (the CRC of earlier bytes, 0 for none) over n more bytes:
 * crc32_update(crc32_compute(a), b) == crc32_compute(a followed by b). */
uint32_t crc32_update(uint32_t crc, const void *p, size_t n);

#endif
