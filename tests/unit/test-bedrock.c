/* test-bedrock.c - unit tests of lib/bedrock (through lib/provider): the
 * Converse request (URL, body, SigV4 or Bearer headers), whole replies,
 * ConverseStream replies built here frame by frame, in-stream exceptions,
 * truncation, errors and the model listing.  Expected signatures were
 * computed with botocore's SigV4Auth for the same requests. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crc32.h"
#include "provider.h"
#include "tap.h"

enum llm_status bedrock_build_at(const struct llm_request *rq, time_t now,
	struct http_request *h, struct buf *err);
enum llm_status bedrock_list_build_at(const struct provider *p,
	const char *api_key, time_t now, struct http_request *h,
	struct buf *err);

#define NOW 1440938160 /* 2015-08-30T12:36:00Z */
#define BR "https://bedrock-runtime.us-east-1.amazonaws.com"
#define HAIKU "anthropic.claude-3-5-haiku-20241022-v1:0"
#define ARN \
	"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us." HAIKU
#define ARN_ENC \
	"arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Ainference-profile" \
	"%2Fus.anthropic.claude-3-5-haiku-20241022-v1%3A0"
#define AUTHZ(signed, sig) \
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/" \
	"bedrock/aws4_request, SignedHeaders=" signed ", Signature=" sig
#define BODY \
	"{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"Say hi\"}]}]," \
	"\"system\":[{\"text\":\"Be terse.\"}],\"inferenceConfig\":" \
	"{\"maxTokens\":64,\"temperature\":0.3,\"stopSequences\":[\"###\"]}}"

static char s_name[] = "bedrock", s_type[] = "bedrock", s_url[] = BR,
	    s_region[] = "us-east-1", s_akid[] = "AKIDEXAMPLE",
	    s_secret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
	    s_haiku[] = HAIKU, s_arn[] = ARN, s_ref[] = "bedrock/x",
	    s_local[] = "http://127.0.0.1:4567/", s_token[] = "session-token-1";
static struct provider prov = { .name = s_name, .type = s_type,
	.base_url = s_url, .region = s_region, .access_key_id = s_akid,
	.secret_access_key = s_secret };
static struct model mod = { .ref = s_ref, .id = s_haiku };

/* ==== frames ==== */

static void
put32(struct buf *b, uint32_t v)
{
	unsigned char p[4] = { (unsigned char)(v >> 24),
		(unsigned char)(v >> 16), (unsigned char)(v >> 8),
		(unsigned char)v };

	buf_add(b, p, 4);
}

static void
hdr_str(struct buf *h, const char *name, const char *v)
{
	size_t n = strlen(v);

	buf_addch(h, (int)strlen(name));
	buf_adds(h, name);
	buf_addch(h, 7);
	buf_addch(h, (int)(n >> 8));
	buf_addch(h, (int)(n & 0xff));
	buf_add(h, v, n);
}

static void
frame(struct buf *out, const struct buf *h, const char *p)
{
	size_t start = out->len, n = strlen(p);

	put32(out, (uint32_t)(16 + h->len + n));
	put32(out, (uint32_t)h->len);
	put32(out, crc32_compute(out->ptr + start, 8));
	buf_add(out, h->ptr, h->len);
	buf_add(out, p, n);
	put32(out, crc32_compute(out->ptr + start, out->len - start));
}

static void
event(struct buf *out, const char *type, const char *json)
{
	struct buf h = BUF_INIT;

	hdr_str(&h, ":event-type", type);
	hdr_str(&h, ":content-type", "application/json");
	hdr_str(&h, ":message-type", "event");
	frame(out, &h, json);
	buf_release(&h);
}

static void
exception(struct buf *out, const char *type, const char *json)
{
	struct buf h = BUF_INIT;

	hdr_str(&h, ":exception-type", type);
	hdr_str(&h, ":content-type", "application/json");
	hdr_str(&h, ":message-type", "exception");
	frame(out, &h, json);
	buf_release(&h);
}

/* The decoded sequence of PROTOCOLS.md section 6, up to n events. */
static void
converse_stream(struct buf *out, int n, const char *stop)
{
	char msg[80];

	buf_reset(out);
	if (n-- > 0)
		event(out, "messageStart",
			"{\"role\":\"assistant\",\"p\":\"abcdefgh\"}");
	if (n-- > 0)
		event(out, "contentBlockDelta",
			"{\"contentBlockIndex\":0,\"delta\":{\"text\":\"Hi\"},"
			"\"p\":\"abc\"}");
	if (n-- > 0)
		event(out, "contentBlockDelta",
			"{\"contentBlockIndex\":0,\"delta\":{\"text\":\" there\"},"
			"\"p\":\"ab\"}");
	if (n-- > 0)
		event(out, "contentBlockStop",
			"{\"contentBlockIndex\":0,\"p\":\"abcd\"}");
	snprintf(msg, sizeof(msg), "{\"stopReason\":\"%s\",\"p\":\"a\"}",
		stop);
	if (n-- > 0)
		event(out, "messageStop", msg);
	if (n-- > 0)
		event(out, "metadata",
			"{\"usage\":{\"inputTokens\":9,\"outputTokens\":3,"
			"\"totalTokens\":12,\"cacheReadInputTokens\":2},"
			"\"metrics\":{\"latencyMs\":410},\"p\":\"abc\"}");
}

/* ==== streaming ==== */

struct sink {
	struct buf text;
	int calls;
	int fail; /* return this from the first call */
};

static int
on_text(void *ud, const char *p, size_t n)
{
	struct sink *s = ud;

	buf_add(&s->text, p, n);
	s->calls++;
	return s->fail;
}

/* Feed body: a first slice of cut bytes, then the rest in steps of step
 * (0 = at once); returns the status of the last feed or of end. */
static enum llm_status
stream(const struct buf *body, size_t cut, size_t step,
	struct llm_result *res, struct sink *s, struct buf *err)
{
	const struct provider_ops *ops = provider_ops_find("bedrock");
	struct provider_stream ps;
	size_t i, n = body->len;
	enum llm_status st;

	llm_result_release(res);
	llm_result_init(res);
	buf_reset(&s->text);
	s->calls = 0;
	provider_stream_init(&ps, ops, res, on_text, s);
	st = ops->feed(&ps, body->ptr, cut);
	for (i = cut; i < n && st == LLM_OK; i += step ? step : n)
		st = ops->feed(&ps, body->ptr + i,
			step && i + step < n ? step : n - i);
	if (st == LLM_OK)
		st = ops->end(&ps);
	buf_reset(err);
	buf_add(err, ps.err.ptr, ps.err.len);
	provider_stream_release(&ps);
	return st;
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

static void
headers_of(const struct http_request *h, struct buf *out)
{
	size_t i;

	buf_reset(out);
	for (i = 0; i < h->nheaders; i++)
		buf_addf(out, "%s%s%s", h->headers[i].name,
			h->headers[i].secret ? "(secret)" : "",
			i + 1 < h->nheaders ? " " : "");
}

int
main(void)
{
	const struct provider_ops *ops = provider_ops_find("bedrock");
	const char *stops[] = { "###" };
	const char *opts[] = { "additionalModelRequestFields={\"top_k\":5}",
		"performanceConfig={\"latency\":\"optimized\"}" };
	struct llm_message msgs[] = { { "user", "Say hi" } };
	struct llm_message turns[] = { { "user", "a" }, { "assistant", "b" },
		{ "user", "c" } };
	struct llm_request rq = { .provider = &prov, .model = &mod,
		.api_key = "", .system = "Be terse.", .messages = msgs,
		.nmessages = 1, .has_temperature = true, .temperature = 0.3,
		.max_tokens = 64, .stop = stops, .nstop = 1, .stream = true };
	struct http_request h = HTTP_REQUEST_INIT;
	struct buf err = BUF_INIT, dump = BUF_INIT, body = BUF_INIT,
		   names = BUF_INIT;
	struct sink s = { BUF_INIT, 0, 0 };
	struct llm_result res;
	enum llm_status st;
	size_t i, full;
	int allok;
	const char *b;

	ok(ops != NULL && strcmp(ops->type, "bedrock") == 0,
		"the bedrock type exists");
	ok(ops->list_build != NULL && ops->list_parse != NULL,
		"it lists models");

	/* ==== build: SigV4 ==== */
	is_int(bedrock_build_at(&rq, NOW, &h, &err), LLM_OK, "build");
	is_str(h.method, "POST", "POST");
	is_str(h.url,
		BR "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/"
		   "converse-stream",
		"ConverseStream URL, ':' as %3A");
	is_str(h.body.ptr, BODY, "body: messages, system, inferenceConfig");
	headers_of(&h, &names);
	is_str(names.ptr,
		"Content-Type Accept Host X-Amz-Date Authorization(secret)",
		"headers, Authorization secret");
	is_str(header(&h, "Accept"), "application/vnd.amazon.eventstream",
		"Accept for the event stream");
	is_str(header(&h, "Host"), "bedrock-runtime.us-east-1.amazonaws.com",
		"Host");
	is_str(header(&h, "X-Amz-Date"), "20150830T123600Z",
		"X-Amz-Date of the signing time");
	is_str(header(&h, "Authorization"),
		AUTHZ("content-type;host;x-amz-date",
			"2a585afe61c9be753d3b523bf14b841886624644ffd66b6e2e8e"
			"f79a581b778b"),
		"signed Authorization (as botocore signs it)");
	http_request_dump(&h, &dump);
	ok(strstr(dump.ptr, "Authorization: ***\n") != NULL,
		"the dump redacts the signature");
	ok(strstr(dump.ptr, "EXAMPLEKEY") == NULL, "and has no secret");
	http_request_release(&h);

	prov.session_token = s_token;
	bedrock_build_at(&rq, NOW, &h, &err);
	prov.session_token = NULL;
	headers_of(&h, &names);
	is_str(names.ptr,
		"Content-Type Accept Host X-Amz-Date "
		"X-Amz-Security-Token(secret) Authorization(secret)",
		"a session token adds a secret X-Amz-Security-Token");
	is_str(header(&h, "Authorization"),
		AUTHZ("content-type;host;x-amz-date;x-amz-security-token",
			"9855de3f4ddd7752651c971b581984e8cbe8f181aa788fd90882"
			"e8f4aa444dfc"),
		"and signs it");
	http_request_dump(&h, &dump);
	ok(strstr(dump.ptr, "X-Amz-Security-Token: ***\n") != NULL &&
			strstr(dump.ptr, "session-token-1") == NULL,
		"the dump redacts the token");
	http_request_release(&h);

	/* ==== build: Bearer ==== */
	rq.api_key = "br-key-1";
	bedrock_build_at(&rq, NOW, &h, &err);
	headers_of(&h, &names);
	is_str(names.ptr, "Content-Type Accept Authorization(secret)",
		"an API key: no signing headers");
	is_str(header(&h, "Authorization"), "Bearer br-key-1",
		"Authorization: Bearer KEY");
	buf_reset(&dump);
	http_request_dump(&h, &dump);
	ok(strstr(dump.ptr, "Authorization: Bearer ***\n") != NULL &&
			strstr(dump.ptr, "br-key-1") == NULL,
		"the dump redacts the key");
	http_request_release(&h);
	prov.access_key_id = prov.secret_access_key = NULL;
	is_int(bedrock_build_at(&rq, NOW, &h, &err), LLM_OK,
		"the API key alone is enough");
	http_request_release(&h);

	/* ==== build: no credentials ==== */
	rq.api_key = "";
	buf_reset(&err);
	is_int(bedrock_build_at(&rq, NOW, &h, &err), LLM_ERR_AUTH,
		"no key and no access key pair: LLM_ERR_AUTH");
	is_str(err.ptr,
		"no AWS credentials for provider 'bedrock': set "
		"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or "
		"AWS_BEARER_TOKEN_BEDROCK",
		"the message names the variables");
	http_request_release(&h);
	prov.access_key_id = s_akid;
	is_int(bedrock_build_at(&rq, NOW, &h, &err), LLM_ERR_AUTH,
		"an access key without its secret: LLM_ERR_AUTH");
	http_request_release(&h);
	prov.secret_access_key = s_secret;

	/* ==== build: ARN, Converse, options, bare body ==== */
	mod.id = s_arn;
	rq.stream = false;
	rq.system = NULL;
	rq.has_temperature = false;
	rq.max_tokens = 0;
	rq.nstop = 0;
	rq.messages = turns;
	rq.nmessages = 3;
	rq.options = opts;
	rq.noptions = 2;
	rq.has_top_p = true;
	rq.top_p = 0.9;
	bedrock_build_at(&rq, NOW, &h, &err);
	is_str(h.url, BR "/model/" ARN_ENC "/converse",
		"an inference-profile ARN is one path segment; Converse");
	is_str(header(&h, "Accept"), "application/json", "Accept JSON");
	is_str(h.body.ptr,
		"{\"messages\":[{\"role\":\"user\",\"content\":[{\"text\":\"a\"}]},"
		"{\"role\":\"assistant\",\"content\":[{\"text\":\"b\"}]},"
		"{\"role\":\"user\",\"content\":[{\"text\":\"c\"}]}],"
		"\"inferenceConfig\":{\"topP\":0.9},"
		"\"additionalModelRequestFields\":{\"top_k\":5},"
		"\"performanceConfig\":{\"latency\":\"optimized\"}}",
		"turns in order, no system, -o options passed through");
	http_request_release(&h);
	rq.has_top_p = false;
	rq.noptions = 0;
	bedrock_build_at(&rq, NOW, &h, &err);
	ok(strstr(h.body.ptr, "inferenceConfig") == NULL,
		"no inferenceConfig when nothing is set");
	http_request_release(&h);
	prov.base_url = s_local;
	mod.id = s_haiku;
	bedrock_build_at(&rq, NOW, &h, &err);
	is_str(h.url,
		"http://127.0.0.1:4567/model/"
		"anthropic.claude-3-5-haiku-20241022-v1%3A0/converse",
		"another base_url (the test provider)");
	is_str(header(&h, "Host"), "127.0.0.1:4567", "its Host has the port");
	http_request_release(&h);
	prov.base_url = s_url;
	is_int(ops->build(&rq, &h, &err), LLM_OK, "build with the clock");
	ok(header(&h, "X-Amz-Date") && strlen(header(&h, "X-Amz-Date")) == 16 &&
			strcmp(header(&h, "X-Amz-Date"), "20150830T123600Z") != 0,
		"signed at the current time");
	http_request_release(&h);

	/* ==== parse Converse ==== */
	llm_result_init(&res);
	b = "{\"output\":{\"message\":{\"role\":\"assistant\",\"content\":["
	    "{\"text\":\"Hello\"},{\"toolUse\":{\"name\":\"x\"}},"
	    "{\"text\":\" world\"}]}},\"stopReason\":\"end_turn\","
	    "\"usage\":{\"inputTokens\":12,\"outputTokens\":4,"
	    "\"totalTokens\":16,\"cacheReadInputTokens\":8},"
	    "\"metrics\":{\"latencyMs\":321}}";
	is_int(ops->parse(b, strlen(b), &res, &err), LLM_OK, "parse Converse");
	is_str(res.text.ptr, "Hello world", "text blocks joined, others skipped");
	is_str(res.finish, "stop", "end_turn is stop");
	is_str(res.finish_raw, "end_turn", "raw finish kept");
	is_int(res.usage.input, 12, "inputTokens");
	is_int(res.usage.output, 4, "outputTokens");
	is_int(res.usage.cached, 8, "cacheReadInputTokens");
	ok(res.done, "done");
	llm_result_release(&res);
	llm_result_init(&res);
	b = "{\"output\":{\"message\":{\"content\":[{\"text\":\"cut\"}]}},"
	    "\"stopReason\":\"max_tokens\"}";
	ops->parse(b, strlen(b), &res, &err);
	is_str(res.finish, "length", "max_tokens is length");
	is_int(res.usage.input, -1, "no usage: unknown");
	llm_result_release(&res);
	llm_result_init(&res);
	buf_reset(&err);
	b = "{\"message\":\"Malformed input request\"}";
	is_int(ops->parse(b, strlen(b), &res, &err), LLM_ERR_UNAVAILABLE,
		"an error document in a 2xx");
	is_str(err.ptr, "error in the reply: Malformed input request",
		"its message");
	buf_reset(&err);
	is_int(ops->parse("{\"x\":1}", 7, &res, &err), LLM_ERR_DATA,
		"no output.message");
	is_str(err.ptr, "malformed reply: no output.message", "says what");
	buf_reset(&err);
	is_int(ops->parse("<html>", 6, &res, &err), LLM_ERR_DATA, "not JSON");
	llm_result_release(&res);

	/* ==== errors ==== */
	buf_reset(&err);
	b = "{\"message\":\"The security token included in the request is "
	    "invalid.\"}";
	ops->error(b, strlen(b), &err);
	is_str(err.ptr,
		"The security token included in the request is invalid.",
		"error body {\"message\":...}");
	buf_reset(&err);
	b = "{\"Message\":\"User: x is not authorized\"}";
	ops->error(b, strlen(b), &err);
	is_str(err.ptr, "User: x is not authorized", "or {\"Message\":...}");
	buf_reset(&err);
	b = "\n<html>Bad Gateway</html>\nmore";
	ops->error(b, strlen(b), &err);
	is_str(err.ptr, "<html>Bad Gateway</html>", "text: its first line");
	buf_reset(&err);
	ops->error("", 0, &err);
	is_str(err.ptr, "no error message", "empty body");

	/* ==== ConverseStream ==== */
	llm_result_init(&res);
	converse_stream(&body, 6, "end_turn");
	is_int(stream(&body, 0, 0, &res, &s, &err), LLM_OK,
		"a whole ConverseStream");
	is_str(res.text.ptr, "Hi there", "text of the deltas");
	is_str(s.text.ptr, "Hi there", "passed on as it came");
	is_int(s.calls, 2, "one callback per delta");
	is_str(res.finish, "stop", "end_turn is stop");
	is_str(res.finish_raw, "end_turn", "raw end_turn");
	is_int(res.usage.input, 9, "usage input from metadata");
	is_int(res.usage.output, 3, "usage output");
	is_int(res.usage.cached, 2, "usage cached");
	ok(res.done, "done");
	full = body.len;
	for (i = 0, allok = 1; i <= full; i++) {
		st = stream(&body, i, 0, &res, &s, &err);
		allok &= st == LLM_OK &&
			strcmp(res.text.ptr, "Hi there") == 0 &&
			res.usage.output == 3 && res.done;
	}
	ok(allok, "split at every byte: the same answer");
	is_int(stream(&body, 0, 1, &res, &s, &err), LLM_OK, "byte by byte");
	is_str(res.text.ptr, "Hi there", "byte by byte: same text");

	converse_stream(&body, 6, "max_tokens");
	stream(&body, 0, 0, &res, &s, &err);
	is_str(res.finish, "length", "max_tokens is length");
	is_str(res.finish_raw, "max_tokens", "raw max_tokens");

	converse_stream(&body, 5, "end_turn");
	is_int(stream(&body, 0, 0, &res, &s, &err), LLM_OK,
		"messageStop without metadata is complete");
	is_int(res.usage.input, -1, "usage unknown then");

	converse_stream(&body, 4, "end_turn");
	is_int(stream(&body, 0, 0, &res, &s, &err), LLM_ERR_DATA,
		"no messageStop: truncated");
	is_str(err.ptr, "the stream ended without messageStop",
		"the message says so");
	is_str(res.text.ptr, "Hi there", "the text that arrived is kept");
	ok(!res.done, "not done");

	converse_stream(&body, 6, "end_turn");
	body.len -= 5;
	is_int(stream(&body, 0, 0, &res, &s, &err), LLM_ERR_DATA,
		"cut inside the last frame");
	ok(strstr(err.ptr, "ended inside an event-stream message") != NULL,
		"says so");
	body.len += 5;

	body.ptr[30] ^= 0x01;
	is_int(stream(&body, 0, 0, &res, &s, &err), LLM_ERR_DATA,
		"a corrupted frame");
	ok(strstr(err.ptr, "CRC mismatch") != NULL, "a CRC error");
	body.ptr[30] ^= 0x01;

	/* Exceptions mid-stream. */
	converse_stream(&body, 3, "end_turn");
	exception(&body, "throttlingException",
		"{\"message\":\"Too many tokens, please wait.\"}");
	event(&body, "contentBlockDelta",
		"{\"contentBlockIndex\":0,\"delta\":{\"text\":\"!\"}}");
	is_int(stream(&body, 0, 0, &res, &s, &err), LLM_ERR_TEMP,
		"throttlingException is temporary");
	is_str(err.ptr,
		"error in the stream: throttlingException: Too many tokens, "
		"please wait.",
		"its message");
	is_str(res.text.ptr, "Hi there", "what arrived is kept, nothing after");
	ok(!res.done, "not done");
	for (i = 0, allok = 1; i <= body.len; i += 3) {
		st = stream(&body, i, 0, &res, &s, &err);
		allok &= st == LLM_ERR_TEMP &&
			strcmp(res.text.ptr, "Hi there") == 0;
	}
	ok(allok, "the same at every third split");

	converse_stream(&body, 2, "end_turn");
	exception(&body, "modelStreamErrorException",
		"{\"message\":\"Model failed\",\"originalStatusCode\":500}");
	is_int(stream(&body, 0, 0, &res, &s, &err), LLM_ERR_UNAVAILABLE,
		"modelStreamErrorException is unavailable");
	is_str(res.text.ptr, "Hi", "text kept");
	converse_stream(&body, 1, "end_turn");
	exception(&body, "internalServerException", "{\"message\":\"x\"}");
	is_int(stream(&body, 0, 0, &res, &s, &err), LLM_ERR_UNAVAILABLE,
		"internalServerException is unavailable");
	converse_stream(&body, 1, "end_turn");
	exception(&body, "serviceUnavailableException", "{\"message\":\"x\"}");
	is_int(stream(&body, 0, 0, &res, &s, &err), LLM_ERR_UNAVAILABLE,
		"serviceUnavailableException is unavailable");
	converse_stream(&body, 1, "end_turn");
	exception(&body, "validationException",
		"{\"message\":\"maxTokens too large\"}");
	is_int(stream(&body, 0, 0, &res, &s, &err), LLM_ERR_DATA,
		"validationException is bad data");
	is_str(err.ptr,
		"error in the stream: validationException: maxTokens too large",
		"its message");
	converse_stream(&body, 1, "end_turn");
	exception(&body, "somethingNewException", "not json");
	is_int(stream(&body, 0, 0, &res, &s, &err), LLM_ERR_UNAVAILABLE,
		"an unknown exception is unavailable");
	is_str(err.ptr,
		"error in the stream: somethingNewException: no error message",
		"without a message");
	{
		struct buf hh = BUF_INIT;

		converse_stream(&body, 2, "end_turn");
		hdr_str(&hh, ":message-type", "error");
		hdr_str(&hh, ":error-code", "InternalFailure");
		hdr_str(&hh, ":error-message", "An internal error occurred");
		frame(&body, &hh, "");
		buf_release(&hh);
	}
	is_int(stream(&body, 0, 0, &res, &s, &err), LLM_ERR_UNAVAILABLE,
		"an error message");
	is_str(err.ptr,
		"error in the stream: InternalFailure: An internal error "
		"occurred",
		"from its headers");
	is_str(res.text.ptr, "Hi", "text kept");

	converse_stream(&body, 2, "end_turn");
	event(&body, "contentBlockDelta", "{not json");
	is_int(stream(&body, 0, 0, &res, &s, &err), LLM_ERR_DATA,
		"a malformed event payload");
	is_str(err.ptr, "malformed event in the stream: '{not json'",
		"quoted");

	converse_stream(&body, 6, "end_turn");
	s.fail = LLM_ERR_PIPE;
	is_int(stream(&body, 0, 0, &res, &s, &err), LLM_ERR_PIPE,
		"the text callback's status stops the stream");
	is_int(s.calls, 1, "after the first delta");
	s.fail = 0;
	llm_result_release(&res);

	/* ==== model listing ==== */
	is_int(bedrock_list_build_at(&prov, "", NOW, &h, &err), LLM_OK,
		"list_build");
	is_str(h.method, "GET", "GET");
	is_str(h.url, "https://bedrock.us-east-1.amazonaws.com/foundation-models",
		"the control plane's foundation-models");
	is_str(header(&h, "Authorization"),
		AUTHZ("host;x-amz-date",
			"3ae8d5903227ef87c779c39a26e97dbb87a76de7f807e5771f5e"
			"5d58d5a49a26"),
		"signed with service bedrock");
	http_request_release(&h);
	bedrock_list_build_at(&prov, "br-key-1", NOW, &h, &err);
	is_str(header(&h, "Authorization"), "Bearer br-key-1",
		"or with the API key");
	http_request_release(&h);
	prov.base_url = s_local;
	bedrock_list_build_at(&prov, "", NOW, &h, &err);
	is_str(h.url, "http://127.0.0.1:4567/foundation-models",
		"under another base_url");
	http_request_release(&h);
	prov.base_url = s_url;
	prov.access_key_id = NULL;
	is_int(bedrock_list_build_at(&prov, "", NOW, &h, &err), LLM_ERR_AUTH,
		"no credentials");
	http_request_release(&h);
	prov.access_key_id = s_akid;
	buf_reset(&body);
	b = "{\"modelSummaries\":[{\"modelArn\":\"arn:x\",\"modelId\":"
	    "\"amazon.nova-lite-v1:0\"},{\"modelId\":\"" HAIKU "\"},"
	    "{\"modelName\":\"no id\"}]}";
	is_int(ops->list_parse(b, strlen(b), &body, &err), LLM_OK,
		"list_parse");
	is_str(body.ptr, "amazon.nova-lite-v1:0\n" HAIKU "\n",
		"modelSummaries[].modelId, one per line");
	buf_reset(&err);
	is_int(ops->list_parse("{}", 2, &body, &err), LLM_ERR_DATA,
		"no modelSummaries");

	buf_release(&err);
	buf_release(&dump);
	buf_release(&body);
	buf_release(&names);
	buf_release(&s.text);
	return tap_done();
}
