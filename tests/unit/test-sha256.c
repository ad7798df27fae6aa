/* test-sha256.c - unit tests of lib/sha256: the FIPS 180-4 / NIST example
 * vectors, incremental updates split at every boundary, and HMAC-SHA256
 * against RFC 4231. */
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "tap.h"

static const char two_block[] =
	"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

static void
hex_of(const void *p, size_t n, char out[SHA256_HEX_LEN + 1])
{
	unsigned char d[SHA256_LEN];

	sha256(p, n, d);
	sha256_hex(d, sizeof(d), out);
}

static void
hmac_hex(const void *k, size_t kn, const void *m, size_t mn, size_t bytes,
	char out[SHA256_HEX_LEN + 1])
{
	unsigned char d[SHA256_LEN];

	sha256_hmac(k, kn, m, mn, d);
	sha256_hex(d, bytes, out);
}

/* Every split of p into two slices, and into slices of every size,
 * gives the one-shot digest. */
static int
splits_agree(const char *p, size_t n)
{
	unsigned char want[SHA256_LEN], got[SHA256_LEN];
	struct sha256 c;
	size_t i, step;

	sha256(p, n, want);
	for (i = 0; i <= n; i++) {
		sha256_init(&c);
		sha256_update(&c, p, i);
		sha256_update(&c, p + i, n - i);
		sha256_final(&c, got);
		if (memcmp(got, want, sizeof(want)) != 0)
			return 0;
	}
	for (step = 1; step <= n; step++) {
		sha256_init(&c);
		for (i = 0; i < n; i += step)
			sha256_update(&c, p + i, i + step < n ? step : n - i);
		sha256_final(&c, got);
		if (memcmp(got, want, sizeof(want)) != 0)
			return 0;
	}
	return 1;
}

int
main(void)
{
	char hex[SHA256_HEX_LEN + 1], *a, data[200];
	const char *msg;
	unsigned char key[131];
	struct sha256 c;
	unsigned char d[SHA256_LEN];
	size_t i;

	hex_of("abc", 3, hex);
	is_str(hex,
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"SHA-256 of \"abc\" (one block)");
	hex_of(two_block, strlen(two_block), hex);
	is_str(hex,
		"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
		"SHA-256 of the 448-bit message (two blocks)");
	hex_of("", 0, hex);
	is_str(hex,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"SHA-256 of the empty string");

	a = malloc(1000000);
	memset(a, 'a', 1000000);
	hex_of(a, 1000000, hex);
	is_str(hex,
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
		"SHA-256 of one million 'a'");
	sha256_init(&c);
	for (i = 0; i < 1000000; i += 997)
		sha256_update(&c, a + i, i + 997 < 1000000 ? 997 : 1000000 - i);
	sha256_final(&c, d);
	sha256_hex(d, sizeof(d), hex);
	is_str(hex,
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0",
		"one million 'a' in slices of 997 bytes");
	free(a);

	ok(splits_agree(two_block, strlen(two_block)),
		"the 448-bit message split at every boundary");
	for (i = 0; i < sizeof(data); i++)
		data[i] = (char)(i * 7 + 1);
	ok(splits_agree(data, 55) && splits_agree(data, 56) &&
			splits_agree(data, 63) && splits_agree(data, 64) &&
			splits_agree(data, 65) && splits_agree(data, 200),
		"padding edges 55, 56, 63, 64, 65 and 200 bytes split "
		"everywhere");

	/* RFC 4231 */
	memset(key, 0x0b, 20);
	hmac_hex(key, 20, "Hi There", 8, SHA256_LEN, hex);
	is_str(hex,
		"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
		"HMAC-SHA256 RFC 4231 test case 1");
	hmac_hex("Jefe", 4, "what do ya want for nothing?", 28, SHA256_LEN,
		hex);
	is_str(hex,
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
		"HMAC-SHA256 RFC 4231 test case 2");
	memset(key, 0xaa, 20);
	memset(data, 0xdd, 50);
	hmac_hex(key, 20, data, 50, SHA256_LEN, hex);
	is_str(hex,
		"773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
		"HMAC-SHA256 RFC 4231 test case 3");
	for (i = 0; i < 25; i++)
		key[i] = (unsigned char)(i + 1);
	memset(data, 0xcd, 50);
	hmac_hex(key, 25, data, 50, SHA256_LEN, hex);
	is_str(hex,
		"82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
		"HMAC-SHA256 RFC 4231 test case 4");
	memset(key, 0x0c, 20);
	hmac_hex(key, 20, "Test With Truncation", 20, 16, hex);
	is_str(hex, "a3b6167473100ee06e0c796c2955552b",
		"HMAC-SHA256 RFC 4231 test case 5 (truncated to 128 bits)");
	memset(key, 0xaa, 131);
	hmac_hex(key, 131,
		"Test Using Larger Than Block-Size Key - Hash Key First", 54,
		SHA256_LEN, hex);
	is_str(hex,
		"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
		"HMAC-SHA256 RFC 4231 test case 6 (key longer than a block)");
	msg = "This is a test using a larger than block-size key and a "
	    "larger than block-size data. The key needs to be hashed before "
	    "being used by the HMAC algorithm.";
	hmac_hex(key, 131, msg, strlen(msg), SHA256_LEN, hex);
	is_str(hex,
		"9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
		"HMAC-SHA256 RFC 4231 test case 7 (long key and data)");
	hmac_hex("", 0, "", 0, SHA256_LEN, hex);
	is_str(hex,
		"b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad",
		"HMAC-SHA256 with an empty key and message");
	return tap_done();
}
