/* test-sigv4.c - unit tests of lib/sigv4 against the public AWS SigV4
 * test suite (aws-sig-v4-test-suite: fixed credentials AKIDEXAMPLE,
 * 20150830T123600Z, us-east-1, service "service"), checking the canonical
 * request, the string to sign and the Authorization header byte for
 * byte; then sigv4_sign() on whole HTTP requests, and Bedrock's paths
 * (model ids with ':' and ARNs), whose expected signatures were computed
 * with botocore's SigV4Auth. */
#include <stdlib.h>
#include <string.h>

#include "sigv4.h"
#include "tap.h"

#define NOW 1440938160 /* 2015-08-30T12:36:00Z */
#define EMPTY_SHA \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HOST_DATE \
	"host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
#define STS(hash) \
	"AWS4-HMAC-SHA256\n20150830T123600Z\n" \
	"20150830/us-east-1/service/aws4_request\n" hash
#define AUTHZ(signed, sig) \
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/" \
	"service/aws4_request, SignedHeaders=" signed ", Signature=" sig
#define UNRESERVED \
	"-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
#define TOKEN \
	"AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwd" \
	"QWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/k" \
	"McGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXD" \
	"vp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64" \
	"lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2I" \
	"CCR/oLxBA=="

static const struct sigv4 suite = {
	.access_key_id = "AKIDEXAMPLE",
	.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	.region = "us-east-1",
	.service = "service",
	.now = NOW,
};

struct suite_case {
	const char *name, *method, *path, *query;
	struct sigv4_header h[4];
	const char *payload_sha, *creq, *sts, *authz;
};

static const struct suite_case cases[] = {
	{ "get-vanilla", "GET", "/", NULL,
		{ { "Host", "example.amazonaws.com" },
			{ "X-Amz-Date", "20150830T123600Z" } },
		EMPTY_SHA,
		"GET\n/\n\n" HOST_DATE "\nhost;x-amz-date\n" EMPTY_SHA,
		STS("bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25"
		    "292927e63"),
		AUTHZ("host;x-amz-date",
			"5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8a"
			"ae1d763fbf31") },
	{ "get-vanilla-query-order-key-case", "GET", "/",
		"Param2=value2&Param1=value1",
		{ { "Host", "example.amazonaws.com" },
			{ "X-Amz-Date", "20150830T123600Z" } },
		EMPTY_SHA,
		"GET\n/\nParam1=value1&Param2=value2\n" HOST_DATE
		"\nhost;x-amz-date\n" EMPTY_SHA,
		STS("816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc3"
		    "9e2cf19e0"),
		AUTHZ("host;x-amz-date",
			"b97d918cfa904a5beff61c982a1b6f458b799221646efd99d321"
			"9ec94cdf2500") },
	{ "get-vanilla-query-unreserved", "GET", "/",
		UNRESERVED "=" UNRESERVED,
		{ { "Host", "example.amazonaws.com" },
			{ "X-Amz-Date", "20150830T123600Z" } },
		EMPTY_SHA,
		"GET\n/\n" UNRESERVED "=" UNRESERVED "\n" HOST_DATE
		"\nhost;x-amz-date\n" EMPTY_SHA,
		STS("c30d4703d9f799439be92736156d47ccfb2d879ddf56f5befa6d1d6"
		    "aab979177"),
		AUTHZ("host;x-amz-date",
			"9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c2"
			"1bb143a40197") },
	{ "post-vanilla", "POST", "/", NULL,
		{ { "Host", "example.amazonaws.com" },
			{ "X-Amz-Date", "20150830T123600Z" } },
		EMPTY_SHA,
		"POST\n/\n\n" HOST_DATE "\nhost;x-amz-date\n" EMPTY_SHA,
		STS("553f88c9e4d10fc9e109e2aeb65f030801b70c2f6468faca261d401"
		    "ae622fc87"),
		AUTHZ("host;x-amz-date",
			"5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb6"
			"8e92efbe5d6b") },
	{ "post-x-www-form-urlencoded", "POST", "/", NULL,
		{ { "Content-Type", "application/x-www-form-urlencoded" },
			{ "Host", "example.amazonaws.com" },
			{ "X-Amz-Date", "20150830T123600Z" } },
		"9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d"
		"0b6e",
		"POST\n/\n\ncontent-type:application/x-www-form-urlencoded\n"
		"host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
		"content-type;host;x-amz-date\n"
		"9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d"
		"0b6e",
		STS("42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2"
		    "154021281"),
		AUTHZ("content-type;host;x-amz-date",
			"ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d1"
			"96a0fe09473a") },
	{ "get-utf8", "GET", "/\xE1\x88\xB4", NULL,
		{ { "Host", "example.amazonaws.com" },
			{ "X-Amz-Date", "20150830T123600Z" } },
		EMPTY_SHA,
		"GET\n/%E1%88%B4\n\n" HOST_DATE "\nhost;x-amz-date\n" EMPTY_SHA,
		STS("2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f52"
		    "49ac42102"),
		AUTHZ("host;x-amz-date",
			"8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891f"
			"d03141be5d85") },
	{ "normalize-path/get-space", "GET", "/example space/", NULL,
		{ { "Host", "example.amazonaws.com" },
			{ "X-Amz-Date", "20150830T123600Z" } },
		EMPTY_SHA,
		"GET\n/example%20space/\n\n" HOST_DATE "\nhost;x-amz-date\n"
		EMPTY_SHA,
		STS("63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706"
		    "ee9390d86"),
		AUTHZ("host;x-amz-date",
			"652487583200325589f1fba4c7e578f72c47cb61beeca81406b3"
			"9ddec1366741") },
	{ "normalize-path/get-slashes", "GET", "//example//", NULL,
		{ { "Host", "example.amazonaws.com" },
			{ "X-Amz-Date", "20150830T123600Z" } },
		EMPTY_SHA,
		"GET\n/example/\n\n" HOST_DATE "\nhost;x-amz-date\n" EMPTY_SHA,
		STS("cb96b4ac96d501f7c5c15bc6d67b3035061cfced4af6585ad927f7e"
		    "6c985c015"),
		AUTHZ("host;x-amz-date",
			"9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846"
			"570885f57e84") },
	{ "normalize-path/get-slash-dot-slash", "GET", "/./", NULL,
		{ { "Host", "example.amazonaws.com" },
			{ "X-Amz-Date", "20150830T123600Z" } },
		EMPTY_SHA,
		"GET\n/\n\n" HOST_DATE "\nhost;x-amz-date\n" EMPTY_SHA,
		STS("bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25"
		    "292927e63"),
		AUTHZ("host;x-amz-date",
			"5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8a"
			"ae1d763fbf31") },
	{ "normalize-path/get-slash-pointless-dot", "GET", "/./example", NULL,
		{ { "Host", "example.amazonaws.com" },
			{ "X-Amz-Date", "20150830T123600Z" } },
		EMPTY_SHA,
		"GET\n/example\n\n" HOST_DATE "\nhost;x-amz-date\n" EMPTY_SHA,
		STS("214d50c111a8edc4819da6a636336472c916b5240f51e9a51b5c330"
		    "5180cf702"),
		AUTHZ("host;x-amz-date",
			"ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db"
			"7089db637ec5") },
	{ "post-sts-token/post-sts-header-before", "POST", "/", NULL,
		{ { "Host", "example.amazonaws.com" },
			{ "X-Amz-Date", "20150830T123600Z" },
			{ "X-Amz-Security-Token", TOKEN } },
		EMPTY_SHA,
		"POST\n/\n\n" HOST_DATE "x-amz-security-token:" TOKEN "\n\n"
		"host;x-amz-date;x-amz-security-token\n" EMPTY_SHA,
		STS("c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e7156"
		    "7c1a882f6"),
		AUTHZ("host;x-amz-date;x-amz-security-token",
			"85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c645"
			"33a82be05ead") },
};

static size_t
nheaders(const struct suite_case *c)
{
	size_t n = 0;

	while (n < 4 && c->h[n].name)
		n++;
	return n;
}

static const char *
header(const struct http_request *h, const char *name)
{
	size_t i;

	for (i = 0; i < h->nheaders; i++)
		if (strcmp(h->headers[i].name, name) == 0)
			return h->headers[i].value;
	return NULL;
}

static bool
is_secret(const struct http_request *h, const char *name)
{
	size_t i;

	for (i = 0; i < h->nheaders; i++)
		if (strcmp(h->headers[i].name, name) == 0)
			return h->headers[i].secret;
	return false;
}

static void
canon_uri(const char *path, struct buf *out)
{
	buf_reset(out);
	sigv4_canonical_uri(out, path, strlen(path));
}

static void
canon_query(const char *q, struct buf *out)
{
	buf_reset(out);
	sigv4_canonical_query(out, q, strlen(q));
}

#define BR "https://bedrock-runtime.us-east-1.amazonaws.com"
#define HAIKU "anthropic.claude-3-5-haiku-20241022-v1"
#define ARN_ENC \
	"arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile" \
	"%2Fus." HAIKU "%3A0"
#define ARN_CANON \
	"arn%253Aaws%253Abedrock%253Aus-east-1%253A123456789012%253A" \
	"inference-profile%252Fus." HAIKU "%253A0"
#define BEDROCK_AUTHZ(signed, sig) \
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/" \
	"bedrock/aws4_request, SignedHeaders=" signed ", Signature=" sig

int
main(void)
{
	struct sigv4_parts sp;
	struct sigv4 s = suite;
	struct http_request h = HTTP_REQUEST_INIT;
	struct buf err = BUF_INIT, b = BUF_INIT, dump = BUF_INIT;
	struct sigv4_header dup[] = { { "My-Header1", "  value2  " },
		{ "Host", "example.amazonaws.com" },
		{ "my-header1", "a   b\t c" },
		{ "X-Amz-Date", "20150830T123600Z" } };
	char date[17], name[128];
	size_t i;

	sigv4_amz_date(NOW, date);
	is_str(date, "20150830T123600Z", "amz date of the suite's time");
	sigv4_amz_date(0, date);
	is_str(date, "19700101T000000Z", "amz date of the epoch");

	sigv4_parts_init(&sp);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct suite_case *c = &cases[i];

		ok(sigv4_compute(&suite, c->method, c->path, c->query, c->h,
			   nheaders(c), c->payload_sha, &sp, &err) == LLM_OK,
			c->name);
		snprintf(name, sizeof(name), "%s: canonical request", c->name);
		is_str(sp.creq.ptr, c->creq, name);
		snprintf(name, sizeof(name), "%s: string to sign", c->name);
		is_str(sp.sts.ptr, c->sts, name);
		snprintf(name, sizeof(name), "%s: Authorization", c->name);
		is_str(sp.authorization.ptr, c->authz, name);
	}
	is_str(sp.signed_headers.ptr, "host;x-amz-date;x-amz-security-token",
		"signed headers listed");
	is_str(sp.signature,
		"85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
		"signature alone");

	/* Header canonicalization beyond the cases above. */
	sigv4_compute(&suite, "GET", "/", "", dup, 4, EMPTY_SHA, &sp, &err);
	is_str(sp.creq.ptr,
		"GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,a b c\n"
		"x-amz-date:20150830T123600Z\n\n"
		"host;my-header1;x-amz-date\n" EMPTY_SHA,
		"names lowercased and sorted, values trimmed and collapsed, "
		"repeats joined in order");

	/* Canonical URI and query helpers. */
	canon_uri("", &b);
	is_str(b.ptr, "/", "empty path is /");
	canon_uri("/example/..", &b);
	is_str(b.ptr, "/", "get-relative: /example/.. is /");
	canon_uri("/example1/example2/../..", &b);
	is_str(b.ptr, "/", "get-relative-relative is /");
	canon_uri("/a/./b/../c/", &b);
	is_str(b.ptr, "/a/c/", "dot segments inside, trailing slash kept");
	canon_uri("/model/" HAIKU "%3A0/converse", &b);
	is_str(b.ptr, "/model/" HAIKU "%253A0/converse",
		"an escaped ':' is encoded again (%3A -> %253A)");
	canon_uri("/model/" ARN_ENC "/converse-stream", &b);
	is_str(b.ptr, "/model/" ARN_CANON "/converse-stream",
		"an ARN's %3A and %2F are encoded again");
	canon_uri("/a b*+=~", &b);
	is_str(b.ptr, "/a%20b%2A%2B%3D~", "reserved bytes encoded, ~ kept");
	canon_query("b=2&a=3&a=1&c", &b);
	is_str(b.ptr, "a=1&a=3&b=2&c=", "query sorted by name then value, "
					"a bare name gets '='");
	canon_query("k=a%2fb%20c&s=x y&e=%zz", &b);
	is_str(b.ptr, "e=%25zz&k=a%2Fb%20c&s=x%20y",
		"query values decoded and encoded again in uppercase");
	canon_query("", &b);
	is_str(b.ptr, "", "empty query");

	s.secret_access_key = "";
	is_int(sigv4_compute(&s, "GET", "/", NULL, NULL, 0, EMPTY_SHA, &sp,
		       &err),
		LLM_ERR_AUTH, "no secret: LLM_ERR_AUTH");
	s = suite;
	s.access_key_id = NULL;
	buf_reset(&err);
	http_request_set(&h, "GET", "https://example.amazonaws.com/");
	is_int(sigv4_sign(&h, &s, &err), LLM_ERR_AUTH,
		"sigv4_sign without an access key: LLM_ERR_AUTH");
	ok(strstr(err.ptr, "access key") != NULL, "the message says why");
	is_int((long long)h.nheaders, 0, "and nothing is added");
	http_request_release(&h);
	http_request_set(&h, "GET", "example.amazonaws.com/");
	is_int(sigv4_sign(&h, &suite, &err), LLM_ERR_CONFIG,
		"a URL without a scheme cannot be signed");
	http_request_release(&h);

	/* sigv4_sign on whole requests reproduces the suite. */
	http_request_set(&h, "GET", "https://example.amazonaws.com/");
	is_int(sigv4_sign(&h, &suite, &err), LLM_OK, "sign get-vanilla");
	is_str(header(&h, "Host"), "example.amazonaws.com", "Host added");
	is_str(header(&h, "X-Amz-Date"), "20150830T123600Z",
		"X-Amz-Date added");
	is_str(header(&h, "Authorization"), cases[0].authz,
		"get-vanilla Authorization from sigv4_sign");
	ok(is_secret(&h, "Authorization"), "Authorization is secret");
	ok(header(&h, "X-Amz-Security-Token") == NULL,
		"no token header without a token");
	http_request_release(&h);

	http_request_set(&h, "GET",
		"https://user:pw@example.amazonaws.com:443/?Param2=value2&"
		"Param1=value1#frag");
	sigv4_sign(&h, &suite, &err);
	is_str(header(&h, "Host"), "example.amazonaws.com",
		"userinfo and the default port are not in Host");
	is_str(header(&h, "Authorization"), cases[1].authz,
		"get-vanilla-query-order-key-case from a URL");
	http_request_release(&h);

	http_request_set(&h, "POST", "https://example.amazonaws.com");
	http_request_header(&h, "Content-Type",
		"application/x-www-form-urlencoded", false);
	http_request_header(&h, "Accept", "*/*", false);
	buf_adds(&h.body, "Param1=value1");
	sigv4_sign(&h, &suite, &err);
	is_str(header(&h, "Authorization"), cases[4].authz,
		"post-x-www-form-urlencoded: body hashed, Accept not signed, "
		"empty path is /");
	http_request_release(&h);

	s = suite;
	s.session_token = TOKEN;
	http_request_set(&h, "POST", "https://example.amazonaws.com/");
	sigv4_sign(&h, &s, &err);
	is_str(header(&h, "X-Amz-Security-Token"), TOKEN,
		"session token header added");
	ok(is_secret(&h, "X-Amz-Security-Token"), "and marked secret");
	is_str(header(&h, "Authorization"), cases[10].authz,
		"post-sts-header-before from sigv4_sign");
	http_request_dump(&h, &dump);
	ok(strstr(dump.ptr, "X-Amz-Security-Token: ***\n") != NULL &&
			strstr(dump.ptr, "Authorization: ***\n") != NULL,
		"dumps redact the token and the signature");
	ok(strstr(dump.ptr, "AQoDYXdzEPT") == NULL &&
			strstr(dump.ptr, "EXAMPLEKEY") == NULL,
		"no secret in the dump");
	http_request_release(&h);

	http_request_set(&h, "GET", "http://127.0.0.1:8080/x");
	sigv4_sign(&h, &suite, &err);
	is_str(header(&h, "Host"), "127.0.0.1:8080",
		"a non-default port stays in Host");
	http_request_release(&h);
	http_request_set(&h, "GET", "http://[::1]/x");
	sigv4_sign(&h, &suite, &err);
	is_str(header(&h, "Host"), "[::1]", "an IPv6 host without port");
	http_request_release(&h);

	/* Bedrock: botocore's SigV4Auth(..., "bedrock", "us-east-1") on the
	 * same requests gives these. */
	s = suite;
	s.service = "bedrock";
	http_request_set(&h, "POST", BR "/model/" HAIKU "%3A0/converse");
	http_request_header(&h, "Content-Type", "application/json", false);
	buf_adds(&h.body, "{}");
	sigv4_compute(&s, "POST", "/model/" HAIKU "%3A0/converse", NULL,
		(const struct sigv4_header[]){
			{ "Content-Type", "application/json" },
			{ "Host", "bedrock-runtime.us-east-1.amazonaws.com" },
			{ "X-Amz-Date", "20150830T123600Z" } },
		3,
		"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caa"
		"ff8a",
		&sp, &err);
	is_str(sp.creq.ptr,
		"POST\n/model/" HAIKU "%253A0/converse\n\n"
		"content-type:application/json\n"
		"host:bedrock-runtime.us-east-1.amazonaws.com\n"
		"x-amz-date:20150830T123600Z\n\n"
		"content-type;host;x-amz-date\n"
		"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caa"
		"ff8a",
		"bedrock: canonical request of a model id with ':'");
	is_str(sp.sts.ptr,
		"AWS4-HMAC-SHA256\n20150830T123600Z\n"
		"20150830/us-east-1/bedrock/aws4_request\n"
		"b6403c4fbfb6dcefea26bc2c7718d1b4e733d41b8c9023b7ff871f88bd5a"
		"fda9",
		"bedrock: string to sign");
	sigv4_sign(&h, &s, &err);
	is_str(header(&h, "Authorization"),
		BEDROCK_AUTHZ("content-type;host;x-amz-date",
			"1c9c8fe3a9cdb3b6cf92fb14763a0f2c7972f1493bdebefcc482"
			"5c0299a15ba9"),
		"bedrock: Authorization of a model id with ':' (as botocore)");
	http_request_release(&h);

	http_request_set(&h, "POST", BR "/model/" ARN_ENC "/converse");
	http_request_header(&h, "Content-Type", "application/json", false);
	buf_adds(&h.body, "{}");
	sigv4_sign(&h, &s, &err);
	is_str(header(&h, "Authorization"),
		BEDROCK_AUTHZ("content-type;host;x-amz-date",
			"53bbe2c146e49ba11ccc5cafeaf8cabaeca2dd3d2e7f50d48f0e"
			"b0f08395c264"),
		"bedrock: Authorization of an inference-profile ARN");
	http_request_release(&h);

	http_request_set(&h, "GET",
		"https://bedrock.us-east-1.amazonaws.com/foundation-models");
	sigv4_sign(&h, &s, &err);
	is_str(header(&h, "Authorization"),
		BEDROCK_AUTHZ("host;x-amz-date",
			"3ae8d5903227ef87c779c39a26e97dbb87a76de7f807e5771f5e"
			"5d58d5a49a26"),
		"bedrock: the foundation-model listing");
	http_request_release(&h);

	sigv4_parts_release(&sp);
	buf_release(&err);
	buf_release(&b);
	buf_release(&dump);
	return tap_done();
}
