/*
 * fakellm.c - a loopback HTTP/1.1 server that speaks the LLM providers'
 * wire formats and produces the faults that real providers produce.
 *
 * The end-to-end tests and `make demo` start it, point the programs at
 * it through base_url and inspect the requests it logged.  The command
 * line, the model-string mini-language and the log format are described
 * in tests/fake/README.md, which is the reference for test writers.
 *
 * One process listens on 127.0.0.1; every connection is served by a
 * fork()ed child, one request per connection.  A child notices that the
 * server has gone (the read end of a pipe whose write end only the
 * server holds reports end of file), so no child outlives it by much.
 *
 * Sections: utilities; the server; HTTP requests; HTTP responses; the
 * request log; the model-string language; replies; serving a chat
 * request (every protocol: chat_serve() runs the model string's faults
 * and hands the reply to the protocol's struct proto; stream_run()
 * writes a stream through the protocol's struct writer, with the faults
 * in the same places for all); OpenAI Chat Completions; what the
 * protocols below share; Azure OpenAI; Anthropic Messages; Google
 * Gemini; Ollama; Amazon Bedrock; AWS Signature Version 4, verified; the
 * router.  A new protocol gets its own section, a struct proto (and a
 * struct writer) and a line in route().
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "sha256.h" /* lib/sha256.c, the one piece shared with lib/ */

#define LINE_MAX_   8192              /* request line, chunk-size line */
#define HEAD_MAX    (64 * 1024)       /* all header lines together */
#define BODY_MAX    (64 * 1024 * 1024)
#define REPLY_MAX   (64L * 1024 * 1024)
#define IDLE_MS     30000             /* client silent that long: give up */
#define HANG_MS     60000             /* `hang` answers nothing that long */
#define CHILD_MAX_S 900               /* backstop for any child */
#define CREATED     1700000000
#define SLOW_DELAY  500
#define SLOW_GAP    100

/* ==== utilities ==== */

/* Growable byte string; ptr is NULL or NUL-terminated. */
struct sb {
	char *ptr;
	size_t len;
	size_t cap;
};
#define SB_INIT { NULL, 0, 0 }

static _Noreturn void
oom(void)
{
	fputs("fakellm: out of memory\n", stderr);
	_exit(70);
}

static void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

static char *
xstrndup(const char *s, size_t n)
{
	char *p = xrealloc(NULL, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

static void
sb_grow(struct sb *b, size_t n)
{
	size_t want, cap;

	if (n > SIZE_MAX / 2 - b->len)
		oom();
	want = b->len + n + 1;
	if (b->ptr != NULL && want <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < want)
		cap *= 2;
	b->ptr = xrealloc(b->ptr, cap);
	b->cap = cap;
	b->ptr[b->len] = '\0';
}

static void
sb_add(struct sb *b, const void *p, size_t n)
{
	sb_grow(b, n);
	if (n)
		memcpy(b->ptr + b->len, p, n);
	b->len += n;
	b->ptr[b->len] = '\0';
}

static void
sb_adds(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_addf(struct sb *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
sb_addf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	sb_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static const char *
sb_str(const struct sb *b)
{
	return b->ptr ? b->ptr : "";
}

static void
sb_free(struct sb *b)
{
	free(b->ptr);
	b->ptr = NULL;
	b->len = b->cap = 0;
}

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A decimal number of digits only, in [min, max]. */
static bool
parse_num(const char *s, long min, long max, long *out)
{
	long v = 0;

	if (*s == '\0')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		if (v > (LONG_MAX - 9) / 10)
			return false;
		v = v * 10 + (*s - '0');
	}
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/* Whitespace-separated words in s[0..n). */
static long
count_words(const char *s, size_t n)
{
	long words = 0;
	bool in = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (is_ws(s[i]))
			in = false;
		else if (!in) {
			in = true;
			words++;
		}
	}
	return words;
}

/*
 * The length of the valid UTF-8 sequence at u[0..n) and its code point,
 * or 0 if it is not one.
 */
static size_t
utf8_decode(const unsigned char *u, size_t n, unsigned long *cp)
{
	unsigned long c;
	size_t len, i;

	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if (u[0] >= 0xc2 && u[0] <= 0xdf) {
		len = 2;
		c = u[0] & 0x1f;
	} else if (u[0] >= 0xe0 && u[0] <= 0xef) {
		len = 3;
		c = u[0] & 0x0f;
	} else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		len = 4;
		c = u[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((u[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (u[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* The number of bytes of the character at s[0..n): 1 for invalid bytes. */
static size_t
utf8_clen(const char *s, size_t n)
{
	unsigned long cp;
	size_t k = utf8_decode((const unsigned char *)s, n, &cp);

	return k ? k : 1;
}

/*
 * Append JSON text s[0..n) with every non-ASCII character escaped as
 * \uXXXX (a surrogate pair above U+FFFF).  Outside strings JSON text is
 * ASCII, so this only touches string contents.
 */
static void
json_to_ascii(struct sb *out, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned long cp;
	size_t i = 0, k;

	while (i < n) {
		if (u[i] < 0x80 ||
		    (k = utf8_decode(u + i, n - i, &cp)) == 0) {
			sb_add(out, s + i, 1);
			i++;
			continue;
		}
		if (cp < 0x10000)
			sb_addf(out, "\\u%04lx", cp);
		else {
			cp -= 0x10000;
			sb_addf(out, "\\u%04lx\\u%04lx", 0xd800 + (cp >> 10),
				0xdc00 + (cp & 0x3ff));
		}
		i += k;
	}
}

/* Append s[0..n) with NULs and invalid UTF-8 bytes replaced by U+FFFD. */
static void
utf8_clean(struct sb *out, const char *s, size_t n)
{
	unsigned long cp;
	size_t i = 0, k;

	while (i < n) {
		k = utf8_decode((const unsigned char *)s + i, n - i, &cp);
		if (k == 0 || cp == 0) {
			sb_adds(out, "\xef\xbf\xbd");
			i++;
			continue;
		}
		sb_add(out, s + i, k);
		i += k;
	}
}

/* Print j compactly into out (ASCII-only if ascii) and delete j. */
static void
json_emit(struct sb *out, cJSON *j, bool ascii)
{
	char *s = cJSON_PrintUnformatted(j);

	cJSON_Delete(j);
	if (s == NULL)
		oom();
	if (ascii)
		json_to_ascii(out, s, strlen(s));
	else
		sb_adds(out, s);
	cJSON_free(s);
}

/* ==== the server ==== */

static struct server {
	const char *key;          /* -k: required bearer token, or NULL */
	const char *akid;         /* -a: AWS access key id, or NULL */
	const char *secret;       /* -S: AWS secret access key */
	const char *region;       /* -r: AWS region */
	const char *token;        /* -T: required AWS session token, or NULL */
	long skew;                /* -z: seconds added to the clock */
	int log_fd;               /* -l: request log, or -1 */
	int seen_fd;              /* model strings seen by failfirst */
	int death_fd;             /* EOF here once the server has gone */
	volatile sig_atomic_t stop;
} srv = { NULL, NULL, NULL, "us-east-1", NULL, 0, -1, -1, -1, 0 };

static void
on_signal(int sig)
{
	(void)sig;
	srv.stop = 1;
}

/*
 * Wait ms milliseconds.  Returns 0 when the time is up, -1 if the server
 * has gone or (watch_client) the client has closed the connection.
 */
static int
wait_ms(int client_fd, long ms, bool watch_client)
{
	long long end = mono_ms() + ms, now;
	struct pollfd p[2];
	char scratch[512];
	ssize_t n;
	int r;

	while ((now = mono_ms()) < end) {
		p[0].fd = srv.death_fd;
		p[0].events = POLLIN;
		p[1].fd = client_fd;
		p[1].events = POLLIN;
		r = poll(p, watch_client ? 2 : 1, (int)(end - now));
		if (r < 0 && errno != EINTR)
			return -1;
		if (r <= 0)
			continue;
		if (p[0].revents)
			return -1;
		if (watch_client && p[1].revents) {
			n = read(client_fd, scratch, sizeof scratch);
			if (n == 0 || (n < 0 && errno != EINTR))
				return -1;
		}
	}
	return 0;
}

/* ==== HTTP requests ==== */

struct hdr {
	char *name; /* lowercased */
	char *value;
};

struct conn {
	int fd;
	unsigned long id;   /* request number, from 1 */
	struct sb in;       /* bytes received; in.ptr[inpos..] not consumed */
	size_t inpos;
	char *method;
	char *path;
	char *query;
	struct hdr *hdrs;
	size_t nhdrs;
	struct sb body;
	bool split;         /* write the body one byte at a time */
	bool reset_set;     /* reset-N: a 429 says when its limit resets */
	bool reset_bad;     /* reset-bad: in malformed words */
	long reset;         /* N, seconds */
	bool chunked;       /* chunked transfer encoding for streams */
	char *head;         /* NULL or header lines for every response */
	cJSON *auth;        /* NULL or the log's "auth" member */
	int deny;           /* Bedrock: the auth failure's status, or 0 */
	const char *deny_type; /* its x-amzn-ErrorType */
	char *deny_msg;     /* its message */
};

static const char *
conn_header(const struct conn *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nhdrs; i++)
		if (strcmp(c->hdrs[i].name, name) == 0)
			return c->hdrs[i].value;
	return NULL;
}

/* Read more bytes into c->in: 1 if some came, 0 at EOF, timeout, error. */
static int
conn_fill(struct conn *c)
{
	char tmp[16384];
	struct pollfd p[2];
	ssize_t n;
	int r;

	for (;;) {
		p[0].fd = c->fd;
		p[0].events = POLLIN;
		p[1].fd = srv.death_fd;
		p[1].events = POLLIN;
		r = poll(p, 2, IDLE_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || p[1].revents)
			return 0;
		n = read(c->fd, tmp, sizeof tmp);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		sb_add(&c->in, tmp, (size_t)n);
		return 1;
	}
}

/*
 * The next line, without its "\n" or "\r\n", NUL-terminated in place;
 * NULL at EOF or if it is longer than max (then *toolong is set).  The
 * pointer is valid until the next read.
 */
static char *
conn_line(struct conn *c, size_t max, bool *toolong)
{
	char *line, *nl;
	size_t len;

	*toolong = false;
	for (;;) {
		nl = memchr(c->in.ptr + c->inpos, '\n', c->in.len - c->inpos);
		if (nl != NULL)
			break;
		if (c->in.len - c->inpos > max) {
			*toolong = true;
			return NULL;
		}
		if (!conn_fill(c))
			return NULL;
	}
	line = c->in.ptr + c->inpos;
	len = (size_t)(nl - line);
	c->inpos += len + 1;
	if (len > max) {
		*toolong = true;
		return NULL;
	}
	if (len > 0 && line[len - 1] == '\r')
		len--;
	line[len] = '\0';
	return line;
}

/* Move n bytes of input to dst; -1 if the connection ends first. */
static int
conn_bytes(struct conn *c, size_t n, struct sb *dst)
{
	size_t avail, k;

	while (n > 0) {
		avail = c->in.len - c->inpos;
		if (avail == 0) {
			if (!conn_fill(c))
				return -1;
			continue;
		}
		k = avail < n ? avail : n;
		sb_add(dst, c->in.ptr + c->inpos, k);
		c->inpos += k;
		n -= k;
	}
	return 0;
}

static void
conn_add_header(struct conn *c, const char *line)
{
	const char *colon = strchr(line, ':'), *v, *e;
	struct sb joined = SB_INIT;
	char *name, *p;
	size_t i;

	if (colon == NULL || colon == line)
		return;
	name = xstrndup(line, (size_t)(colon - line));
	for (p = name; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	e = v + strlen(v);
	while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
		e--;
	for (i = 0; i < c->nhdrs; i++) {
		if (strcmp(c->hdrs[i].name, name) != 0)
			continue;
		/* A repeated header: join the values, as HTTP allows. */
		sb_adds(&joined, c->hdrs[i].value);
		sb_adds(&joined, ", ");
		sb_add(&joined, v, (size_t)(e - v));
		free(c->hdrs[i].value);
		c->hdrs[i].value = joined.ptr;
		free(name);
		return;
	}
	c->hdrs = xrealloc(c->hdrs, (c->nhdrs + 1) * sizeof *c->hdrs);
	c->hdrs[c->nhdrs].name = name;
	c->hdrs[c->nhdrs].value = xstrndup(v, (size_t)(e - v));
	c->nhdrs++;
}

/* A chunked request body; 0, -1 (connection gone) or an HTTP status. */
static int
conn_read_chunked(struct conn *c)
{
	unsigned long size;
	bool toolong;
	char *line, *end;

	for (;;) {
		line = conn_line(c, LINE_MAX_, &toolong);
		if (line == NULL)
			return toolong ? 400 : -1;
		errno = 0;
		size = strtoul(line, &end, 16);
		if (end == line || errno != 0 ||
		    (*end != '\0' && *end != ';' && *end != ' '))
			return 400;
		if (size == 0)
			break;
		if (size > BODY_MAX || c->body.len + size > BODY_MAX)
			return 413;
		if (conn_bytes(c, size, &c->body) < 0)
			return -1;
		line = conn_line(c, LINE_MAX_, &toolong);
		if (line == NULL)
			return toolong ? 400 : -1;
		if (*line != '\0')
			return 400;
	}
	/* Trailer fields, up to the empty line. */
	for (;;) {
		line = conn_line(c, LINE_MAX_, &toolong);
		if (line == NULL)
			return toolong ? 400 : -1;
		if (*line == '\0')
			return 0;
	}
}

/*
 * Read one request: 0 when it has been read, -1 if the connection ended
 * first, or the HTTP status of the error to answer.
 */
static int
conn_read_request(struct conn *c)
{
	const char *te, *cl, *expect;
	char *line, *sp1, *sp2, *target, *q;
	size_t total = 0;
	bool toolong, chunked;
	long len = 0;

	do {
		line = conn_line(c, LINE_MAX_, &toolong);
		if (line == NULL)
			return toolong ? 414 : -1;
	} while (*line == '\0');
	sp1 = strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (sp1 == NULL || sp2 == NULL || strncmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return 400;
	c->method = xstrndup(line, (size_t)(sp1 - line));
	target = sp1 + 1;
	*sp2 = '\0';
	/* absolute-form, as sent to a proxy */
	if (strncmp(target, "http://", 7) == 0) {
		target = strchr(target + 7, '/');
		if (target == NULL)
			target = sp2; /* "" */
	}
	q = strchr(target, '?');
	if (q != NULL) {
		c->path = xstrndup(target, (size_t)(q - target));
		c->query = xstrdup(q + 1);
	} else {
		c->path = xstrdup(*target ? target : "/");
		c->query = xstrdup("");
	}

	for (;;) {
		line = conn_line(c, HEAD_MAX, &toolong);
		if (line == NULL)
			return toolong ? 431 : -1;
		total += strlen(line) + 2;
		if (total > HEAD_MAX)
			return 431;
		if (*line == '\0')
			break;
		conn_add_header(c, line);
	}

	te = conn_header(c, "transfer-encoding");
	cl = conn_header(c, "content-length");
	expect = conn_header(c, "expect");
	chunked = te != NULL && strlen(te) >= 7 &&
		  strcasecmp(te + strlen(te) - 7, "chunked") == 0;
	if (!chunked && cl != NULL && !parse_num(cl, 0, BODY_MAX, &len))
		return *cl >= '0' && *cl <= '9' ? 413 : 400;
	if (expect != NULL && strcasecmp(expect, "100-continue") == 0 &&
	    (chunked || len > 0) && c->inpos == c->in.len) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

		if (write(c->fd, cont, sizeof cont - 1) < 0)
			return -1;
	}
	sb_grow(&c->body, 0);
	if (chunked)
		return conn_read_chunked(c);
	if (len > 0 && conn_bytes(c, (size_t)len, &c->body) < 0)
		return -1;
	return 0;
}

/* ==== HTTP responses ==== */

static const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 529: return "Site Overloaded";
	default: return "Error";
	}
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Body bytes: one write, or with `split` one write per byte. */
static int
conn_body(struct conn *c, const char *p, size_t n)
{
	struct timespec pause = { 0, 200000 };
	size_t i;

	if (!c->split)
		return write_all(c->fd, p, n);
	for (i = 0; i < n; i++) {
		if (write_all(c->fd, p + i, 1) < 0)
			return -1;
		nanosleep(&pause, NULL);
	}
	return 0;
}

/*
 * The status line and headers.  clen < 0 means a stream: chunked if
 * c->chunked, else delimited by the close.  extra is "" or complete
 * header lines.
 */
static int
conn_head(struct conn *c, int status, const char *ctype, long long clen,
	  const char *extra)
{
	struct sb h = SB_INIT;
	int rc;

	sb_addf(&h, "HTTP/1.1 %d %s\r\n", status, http_reason(status));
	sb_addf(&h, "Content-Type: %s\r\n", ctype);
	if (clen >= 0)
		sb_addf(&h, "Content-Length: %lld\r\n", clen);
	else {
		if (c->chunked)
			sb_adds(&h, "Transfer-Encoding: chunked\r\n");
		sb_adds(&h, "Cache-Control: no-cache\r\n");
	}
	sb_adds(&h, "Connection: close\r\n");
	sb_addf(&h, "x-request-id: req_fake%lu\r\n", c->id);
	sb_adds(&h, c->head ? c->head : "");
	sb_adds(&h, extra ? extra : "");
	sb_adds(&h, "\r\n");
	rc = write_all(c->fd, h.ptr, h.len);
	sb_free(&h);
	return rc;
}

/* A piece of a stream: one HTTP chunk, or raw bytes when close-delimited. */
static int
conn_chunk(struct conn *c, const char *p, size_t n)
{
	struct sb b = SB_INIT;
	int rc;

	if (n == 0)
		return 0;
	if (!c->chunked)
		return conn_body(c, p, n);
	sb_addf(&b, "%zx\r\n", n);
	sb_add(&b, p, n);
	sb_adds(&b, "\r\n");
	rc = conn_body(c, b.ptr, b.len);
	sb_free(&b);
	return rc;
}

static int
conn_stream_end(struct conn *c)
{
	return c->chunked ? conn_body(c, "0\r\n\r\n", 5) : 0;
}

static int
send_json(struct conn *c, int status, const char *extra, const char *json,
	  size_t len)
{
	if (conn_head(c, status, "application/json", (long long)len,
		      extra) < 0)
		return -1;
	return conn_body(c, json, len);
}

/* {"error":{"message","type","param","code"}}, as OpenAI sends errors. */
static int
send_error(struct conn *c, int status, const char *extra, const char *msg,
	   const char *type, const char *param, const char *code)
{
	cJSON *root = cJSON_CreateObject(), *e = cJSON_CreateObject();
	struct sb out = SB_INIT;
	int rc;

	cJSON_AddItemToObject(root, "error", e);
	cJSON_AddStringToObject(e, "message", msg);
	cJSON_AddStringToObject(e, "type", type);
	if (param)
		cJSON_AddStringToObject(e, "param", param);
	else
		cJSON_AddNullToObject(e, "param");
	if (code)
		cJSON_AddStringToObject(e, "code", code);
	else
		cJSON_AddNullToObject(e, "code");
	json_emit(&out, root, false);
	rc = send_json(c, status, extra, out.ptr, out.len);
	sb_free(&out);
	return rc;
}

/* ==== the request log ==== */

/* One compact JSON line per request, with a single write(). */
static void
log_request(const struct conn *c)
{
	cJSON *root, *h, *body;
	const char *end = NULL;
	struct sb line = SB_INIT, raw = SB_INIT;
	size_t i, off;
	ssize_t w;

	if (srv.log_fd < 0)
		return;
	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "method", c->method);
	cJSON_AddStringToObject(root, "path", c->path);
	cJSON_AddStringToObject(root, "query", c->query);
	h = cJSON_AddObjectToObject(root, "headers");
	for (i = 0; i < c->nhdrs; i++)
		cJSON_AddStringToObject(h, c->hdrs[i].name, c->hdrs[i].value);
	body = NULL;
	if (c->body.len > 0) {
		body = cJSON_ParseWithLengthOpts(c->body.ptr, c->body.len,
						 &end, 0);
		if (body != NULL) {
			while (end < c->body.ptr + c->body.len && is_ws(*end))
				end++;
			if (end != c->body.ptr + c->body.len) {
				cJSON_Delete(body);
				body = NULL;
			}
		}
		if (body == NULL) {
			utf8_clean(&raw, c->body.ptr, c->body.len);
			body = cJSON_CreateString(sb_str(&raw));
			raw.len = 0;
		}
	} else
		body = cJSON_CreateNull();
	cJSON_AddItemToObject(root, "body", body);
	if (c->auth != NULL)
		cJSON_AddItemReferenceToObject(root, "auth", c->auth);
	/* Strings from the wire may hold invalid UTF-8: keep the line JSON. */
	json_emit(&raw, root, false);
	utf8_clean(&line, raw.ptr, raw.len);
	sb_adds(&line, "\n");
	for (off = 0; off < line.len; off += (size_t)w) {
		w = write(srv.log_fd, line.ptr + off, line.len - off);
		if (w < 0 && errno == EINTR)
			w = 0;
		else if (w < 0)
			break;
	}
	sb_free(&raw);
	sb_free(&line);
}

/* ==== the model-string language ==== */

enum base {
	BASE_ECHO,
	BASE_SYS,
	BASE_PARAMS,
	BASE_BIG,
	BASE_UTF8,
	BASE_FIXED,
	BASE_SLOW,
};

struct spec {
	enum base base;
	char *text;       /* fixed-TEXT */
	long big;         /* big-N */
	const char *eol;  /* SSE line end */
	bool comments, nospace, multiline, fields, split, ascii, nousage;
	bool words, cut, malformed, midstream_error, hang, close;
	bool thinking, blocked, badcrc, nostop;
	long delay, gap;  /* ms */
	long fail, failfirst;
	long reset;       /* reset-N */
	bool has_reset, reset_bad;
	char *finish;     /* NULL: "stop" */
};

static void
spec_release(struct spec *sp)
{
	free(sp->text);
	free(sp->finish);
	sp->text = sp->finish = NULL;
}

/* base names; the first token may also be an option (then echo) */
static int
spec_base(struct spec *sp, const char *tok)
{
	long n;

	if (strncmp(tok, "fixed-", 6) == 0) {
		sp->base = BASE_FIXED;
		sp->text = xstrdup(tok + 6);
	} else if (strncmp(tok, "echo", 4) == 0)
		sp->base = BASE_ECHO;
	else if (strncmp(tok, "sys", 3) == 0)
		sp->base = BASE_SYS;
	else if (strncmp(tok, "params", 6) == 0)
		sp->base = BASE_PARAMS;
	else if (strncmp(tok, "slow", 4) == 0) {
		sp->base = BASE_SLOW;
		sp->delay = SLOW_DELAY;
		sp->gap = SLOW_GAP;
	} else if (strncmp(tok, "utf8", 4) == 0)
		sp->base = BASE_UTF8;
	else if (strncmp(tok, "big", 3) == 0) {
		sp->base = BASE_BIG;
		sp->big = 4096;
		if (tok[3] == '-' && tok[4] >= '0' && tok[4] <= '9') {
			if (!parse_num(tok + 4, 0, REPLY_MAX, &n))
				return -1;
			sp->big = n;
		}
	} else
		return -1;
	return 0;
}

static bool
opt_num(const char *tok, const char *name, long min, long max, long *out)
{
	size_t n = strlen(name);

	return strncmp(tok, name, n) == 0 && tok[n] == '-' &&
	       parse_num(tok + n + 1, min, max, out);
}

static int
spec_option(struct spec *sp, const char *tok)
{
	if (strcmp(tok, "crlf") == 0)
		sp->eol = "\r\n";
	else if (strcmp(tok, "cr") == 0)
		sp->eol = "\r";
	else if (strcmp(tok, "comments") == 0)
		sp->comments = true;
	else if (strcmp(tok, "nospace") == 0)
		sp->nospace = true;
	else if (strcmp(tok, "multiline") == 0)
		sp->multiline = true;
	else if (strcmp(tok, "fields") == 0)
		sp->fields = true;
	else if (strcmp(tok, "split") == 0)
		sp->split = true;
	else if (strcmp(tok, "ascii") == 0)
		sp->ascii = true;
	else if (strcmp(tok, "nousage") == 0)
		sp->nousage = true;
	else if (strcmp(tok, "words") == 0)
		sp->words = true;
	else if (strcmp(tok, "cut") == 0)
		sp->cut = true;
	else if (strcmp(tok, "malformed") == 0)
		sp->malformed = true;
	else if (strcmp(tok, "midstream-error") == 0)
		sp->midstream_error = true;
	else if (strcmp(tok, "hang") == 0)
		sp->hang = true;
	else if (strcmp(tok, "close") == 0)
		sp->close = true;
	else if (strcmp(tok, "thinking") == 0)
		sp->thinking = true;
	else if (strcmp(tok, "blocked") == 0)
		sp->blocked = true;
	else if (strcmp(tok, "badcrc") == 0)
		sp->badcrc = true;
	else if (strcmp(tok, "nostop") == 0)
		sp->nostop = true;
	else if (strcmp(tok, "reset-bad") == 0)
		sp->reset_bad = true;
	else if (opt_num(tok, "reset", 0, 86400, &sp->reset))
		sp->has_reset = true;
	else if (opt_num(tok, "delay", 0, 600000, &sp->delay) ||
		 opt_num(tok, "gap", 0, 600000, &sp->gap) ||
		 opt_num(tok, "fail", 400, 599, &sp->fail) ||
		 opt_num(tok, "failfirst", 400, 599, &sp->failfirst))
		;
	else if (strncmp(tok, "finish-", 7) == 0 && tok[7] != '\0') {
		free(sp->finish);
		sp->finish = xstrdup(tok + 7);
	} else
		return -1;
	return 0;
}

/*
 * Parse a model string "BASE+OPT+OPT...".  0 on success; otherwise the
 * HTTP status to answer (400 bad option, 404 unknown base), with a
 * message in err.
 */
static int
spec_parse(struct spec *sp, const char *model, struct sb *err)
{
	char *copy = xstrdup(model), *tok, *next;
	int rc = 0;
	bool first = true;

	memset(sp, 0, sizeof *sp);
	sp->eol = "\n";
	for (tok = copy; tok != NULL; tok = next, first = false) {
		next = strchr(tok, '+');
		if (next != NULL)
			*next++ = '\0';
		if (first && spec_base(sp, tok) == 0)
			continue;
		if (spec_option(sp, tok) == 0)
			continue;
		if (first && (strncmp(tok, "big", 3) != 0)) {
			sb_addf(err, "The model `%s` does not exist or you do "
				"not have access to it.", model);
			rc = 404;
		} else {
			sb_addf(err, "fakellm: bad model option '%s' in '%s'",
				tok, model);
			rc = 400;
		}
		break;
	}
	free(copy);
	return rc;
}

/* ==== replies ==== */

/* The text of a message content: a string, or the text parts joined. */
static void
content_text(const cJSON *content, struct sb *out)
{
	const cJSON *part, *text;

	if (cJSON_IsString(content)) {
		sb_adds(out, content->valuestring);
		return;
	}
	if (!cJSON_IsArray(content))
		return;
	cJSON_ArrayForEach(part, content) {
		text = cJSON_GetObjectItemCaseSensitive(part, "text");
		if (cJSON_IsString(part))
			sb_adds(out, part->valuestring);
		else if (cJSON_IsString(text))
			sb_adds(out, text->valuestring);
	}
}

static const char *
msg_role(const cJSON *m)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(m, "role");

	return cJSON_IsString(r) ? r->valuestring : "";
}

/* P: words over all message contents plus 3 per message. */
static long
prompt_tokens(const cJSON *messages)
{
	const cJSON *m;
	struct sb t = SB_INIT;
	long p = 0;

	cJSON_ArrayForEach(m, messages) {
		t.len = 0;
		content_text(cJSON_GetObjectItemCaseSensitive(m, "content"),
			     &t);
		p += 3 + count_words(sb_str(&t), t.len);
	}
	sb_free(&t);
	return p;
}

/*
 * The `params` reply: compact JSON of the nkeys keys of src (null when
 * absent; src may be NULL), then "messages": the number of messages the
 * protocol's request had.
 */
static void
reply_params(const cJSON *src, const char *const *keys, size_t nkeys,
	     int nmessages, struct sb *out)
{
	cJSON *o = cJSON_CreateObject();
	const cJSON *v;
	size_t i;

	for (i = 0; i < nkeys; i++) {
		v = cJSON_GetObjectItemCaseSensitive(src, keys[i]);
		cJSON_AddItemToObject(o, keys[i], v ? cJSON_Duplicate(v, 1)
						    : cJSON_CreateNull());
	}
	cJSON_AddNumberToObject(o, "messages", nmessages);
	json_emit(out, o, false);
}

/*
 * The reply text that the base name asks for.  messages are the request's
 * messages in OpenAI's form ({role, content}, a system prompt as a
 * "system" message); params is the `params` reply.
 */
static void
reply_make(const struct spec *sp, const cJSON *messages, const char *params,
	   struct sb *out)
{
	static const char lorem[] = "lorem ipsum dolor sit amet ";
	static const char utf8[] = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x80\x94 "
		"\xc3\xbcn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 \xe2\x9c\x93 "
		"\xf0\x9f\x98\x80 \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e";
	const cJSON *m, *found = NULL;
	long left;
	size_t k;

	sb_grow(out, 0);
	switch (sp->base) {
	case BASE_ECHO:
	case BASE_SLOW:
		cJSON_ArrayForEach(m, messages)
			if (strcmp(msg_role(m), "user") == 0)
				found = m;
		break;
	case BASE_SYS:
		cJSON_ArrayForEach(m, messages) {
			if (strcmp(msg_role(m), "system") == 0 ||
			    strcmp(msg_role(m), "developer") == 0) {
				found = m;
				break;
			}
		}
		break;
	case BASE_PARAMS:
		sb_adds(out, params);
		return;
	case BASE_BIG:
		for (left = sp->big; left > 0; left -= (long)k) {
			k = sizeof lorem - 1;
			if ((long)k > left)
				k = (size_t)left;
			sb_add(out, lorem, k);
		}
		return;
	case BASE_UTF8:
		sb_adds(out, utf8);
		return;
	case BASE_FIXED:
		sb_adds(out, sp->text);
		return;
	}
	if (found != NULL)
		content_text(cJSON_GetObjectItemCaseSensitive(found, "content"),
			     out);
}

struct piece {
	size_t off;
	size_t len;
};

/*
 * Cut s[0..n) into pieces of at most max bytes without cutting a UTF-8
 * character, or (words) into words each with its trailing whitespace.
 */
static size_t
reply_pieces(const char *s, size_t n, size_t max, bool words,
	     struct piece **out)
{
	struct piece *p = NULL;
	size_t np = 0, cap = 0, i = 0, start, k;

	while (i < n) {
		start = i;
		if (words) {
			while (i < n && !is_ws(s[i]))
				i++;
			while (i < n && is_ws(s[i]))
				i++;
		} else {
			while (i < n) {
				k = utf8_clen(s + i, n - i);
				if (i > start && i - start + k > max)
					break;
				i += k;
			}
		}
		if (np == cap) {
			cap = cap ? 2 * cap : 64;
			p = xrealloc(p, cap * sizeof *p);
		}
		p[np].off = start;
		p[np].len = i - start;
		np++;
	}
	*out = p;
	return np;
}

/* The first comma outside a string, or 0; breaking after it is valid. */
static size_t
json_break(const char *s)
{
	bool str = false;
	size_t i;

	for (i = 0; s[i]; i++) {
		if (str && s[i] == '\\' && s[i + 1])
			i++;
		else if (s[i] == '"')
			str = !str;
		else if (!str && s[i] == ',')
			return i + 1;
	}
	return 0;
}

/* ==== serving a chat request (every protocol) ==== */

/* One answer being written, in any protocol. */
struct gen {
	struct conn *c;
	const struct spec *sp;
	const char *model;  /* the model string */
	const char *finish; /* finish-X, or the protocol's usual reason */
	bool include_usage; /* OpenAI's stream_options.include_usage */
	bool azure;         /* OpenAI chunks with Azure's filter results */
	bool corrupt;       /* Bedrock `badcrc`: spoil the next frame's CRC */
	long ptok, ctok;
	int nevents;
	int npieces;        /* text pieces written so far */
	int idx;            /* the index of the text block */
};

/*
 * Write one SSE event whose data is `data`, shaped by the options; name
 * NULL: no event: line (unless `fields`), else "event: NAME".
 */
static int
sse_send(struct gen *o, const char *name, const char *data)
{
	const struct spec *sp = o->sp;
	const char *pfx = sp->nospace ? "data:" : "data: ";
	struct sb ev = SB_INIT;
	size_t cut;
	int rc;

	if (o->nevents > 0 && sp->gap > 0 &&
	    wait_ms(o->c->fd, sp->gap, false) < 0)
		return -1;
	o->nevents++;
	if (sp->comments)
		sb_addf(&ev, ": keep-alive%s", sp->eol);
	if (name != NULL)
		sb_addf(&ev, "%s%s%s", sp->nospace ? "event:" : "event: ",
			name, sp->eol);
	if (sp->fields)
		sb_addf(&ev, "%s%sid: %d%sretry: 3000%s",
			name ? "" : "event: message", name ? "" : sp->eol,
			o->nevents, sp->eol, sp->eol);
	cut = sp->multiline ? json_break(data) : 0;
	if (cut > 0) {
		sb_adds(&ev, pfx);
		sb_add(&ev, data, cut);
		sb_adds(&ev, sp->eol);
		data += cut;
	}
	sb_addf(&ev, "%s%s%s%s", pfx, data, sp->eol, sp->eol);
	rc = conn_chunk(o->c, ev.ptr, ev.len);
	sb_free(&ev);
	return rc;
}

/*
 * Whether this is the first request with this model string that the
 * server has seen; records it.  The set is a file shared by all the
 * children, under an fcntl() lock.
 */
static bool
seen_first(const char *model)
{
	struct flock fl;
	struct stat st;
	char *all = NULL, *p, *end;
	bool first = true;
	size_t mlen = strlen(model) + 1;

	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	while (fcntl(srv.seen_fd, F_SETLKW, &fl) < 0)
		if (errno != EINTR)
			return true;
	if (fstat(srv.seen_fd, &st) < 0)
		goto out;
	all = xrealloc(NULL, (size_t)st.st_size + 1);
	if (pread(srv.seen_fd, all, (size_t)st.st_size, 0) != st.st_size)
		goto out;
	all[st.st_size] = '\0';
	end = all + st.st_size;
	/* entries are NUL-terminated model strings */
	for (p = all; p < end; p += strlen(p) + 1) {
		if (strcmp(p, model) == 0) {
			first = false;
			goto out;
		}
	}
	if (pwrite(srv.seen_fd, model, mlen, st.st_size) != (ssize_t)mlen)
		goto out;
out:
	fl.l_type = F_UNLCK;
	fcntl(srv.seen_fd, F_SETLK, &fl);
	free(all);
	return first;
}

/*
 * How a protocol writes a stream, for stream_run(): the events before the
 * text, one per piece of text, the events after it (with the end of the
 * body), and the faults that the model string injects after the first
 * piece (or after the opening events if the reply is empty).
 */
struct writer {
	const char *ctype; /* the stream's Content-Type */
	int (*open)(struct gen *o);
	int (*piece)(struct gen *o, const char *s, size_t n);
	int (*malformed)(struct gen *o); /* an event that does not parse */
	int (*error)(struct gen *o);     /* `midstream-error`'s event */
	int (*cut)(struct gen *o);       /* `cut`: NULL closes between events */
	int (*close)(struct gen *o);
};

/* The faults after the first piece: 1 if the stream has been ended, 0 to
 * go on, -1 on a write error. */
static int
stream_inject(struct gen *o, const struct writer *w)
{
	if (o->sp->malformed && w->malformed(o) < 0)
		return -1;
	o->corrupt = o->sp->badcrc;
	if (o->sp->midstream_error) {
		if (w->error(o) < 0 || conn_stream_end(o->c) < 0)
			return -1;
		return 1;
	}
	return 0;
}

/*
 * A streamed reply in any protocol but Gemini's: the head, w->open, one
 * w->piece per piece of at most 16 bytes (64 for `big`) or per word, the
 * faults after the first piece, and w->close; with `cut`, only the first
 * half of the pieces and then w->cut, without the end of the body.
 */
static int
stream_run(struct gen *o, const struct writer *w, const char *reply,
	   size_t rlen)
{
	const struct spec *sp = o->sp;
	struct piece *pieces = NULL;
	size_t n, keep, i;
	int rc = -1, r = 0;

	n = reply_pieces(reply, rlen, sp->base == BASE_BIG ? 64 : 16,
			 sp->words, &pieces);
	keep = sp->cut ? (n + 1) / 2 : n;
	o->c->chunked = !sp->close;
	if (conn_head(o->c, 200, w->ctype, -1, NULL) < 0 || w->open(o) < 0)
		goto out;
	for (i = 0; i < n || i == 0; i++) {
		if (i < n) {
			if (w->piece(o, reply + pieces[i].off,
				     pieces[i].len) < 0)
				goto out;
			o->npieces++;
		}
		if (i == 0 && (r = stream_inject(o, w)) != 0)
			break;
		if (sp->cut && i + 1 >= keep)
			break;
	}
	if (r != 0)
		rc = r < 0 ? -1 : 0;
	else if (sp->cut)
		rc = w->cut ? w->cut(o) : 0; /* no end of the body */
	else
		rc = w->close(o);
out:
	free(pieces);
	return rc;
}

/* What a protocol brings to chat_serve(). */
struct proto {
	const char *finish; /* the usual finish reason */
	/* fail-CODE, and 404 for an unknown model */
	int (*fail)(struct conn *c, long code, const char *model);
	/* 400 for a bad model option, with msg */
	int (*bad)(struct conn *c, const char *msg);
	int (*stream)(struct gen *o, const char *reply, size_t n);
	int (*whole)(struct gen *o, const char *reply, size_t n);
	/* NULL, or the answer to an unknown base name instead of fail-404 */
	int (*unknown)(struct conn *c, const char *model);
};

/* A chat request, whatever its protocol, as chat_serve() needs it. */
struct chatreq {
	cJSON *msgs;        /* [{role, content}], a system prompt first */
	const char *model;  /* the model string (borrowed) */
	bool stream;
	bool include_usage;
	bool azure;
	struct sb params;   /* the `params` reply */
};

static void
chatreq_release(struct chatreq *cr)
{
	cJSON_Delete(cr->msgs);
	cr->msgs = NULL;
	sb_free(&cr->params);
}

/*
 * The model string's behaviour, in the order of the README: hang, then
 * delay-, then failfirst-, then fail-, then the reply.
 */
static int
chat_serve(struct conn *c, const struct proto *pr, struct chatreq *cr)
{
	struct spec sp;
	struct sb err = SB_INIT, reply = SB_INIT;
	struct gen o;
	int rc, status;

	memset(&sp, 0, sizeof sp);
	status = spec_parse(&sp, cr->model, &err);
	if (status != 0) {
		if (status != 404)
			rc = pr->bad(c, err.ptr);
		else if (pr->unknown != NULL)
			rc = pr->unknown(c, cr->model);
		else
			rc = pr->fail(c, 404, cr->model);
		goto out;
	}
	if (sp.hang) {
		wait_ms(c->fd, HANG_MS, true);
		rc = -1;
		goto out;
	}
	if (sp.delay > 0 && wait_ms(c->fd, sp.delay, false) < 0) {
		rc = -1;
		goto out;
	}
	c->split = sp.split;
	c->reset_set = sp.has_reset || sp.reset_bad;
	c->reset_bad = sp.reset_bad;
	c->reset = sp.reset;
	if (sp.failfirst && seen_first(cr->model)) {
		rc = pr->fail(c, sp.failfirst, cr->model);
		goto out;
	}
	if (sp.fail) {
		rc = pr->fail(c, sp.fail, cr->model);
		goto out;
	}
	reply_make(&sp, cr->msgs, sb_str(&cr->params), &reply);
	memset(&o, 0, sizeof o);
	o.c = c;
	o.sp = &sp;
	o.model = cr->model;
	o.finish = sp.finish ? sp.finish : pr->finish;
	o.include_usage = cr->include_usage;
	o.azure = cr->azure;
	o.ptok = prompt_tokens(cr->msgs);
	o.ctok = count_words(sb_str(&reply), reply.len);
	if (cr->stream)
		rc = pr->stream(&o, sb_str(&reply), reply.len);
	else
		rc = pr->whole(&o, sb_str(&reply), reply.len);
out:
	spec_release(&sp);
	sb_free(&reply);
	sb_free(&err);
	return rc;
}

/* ==== OpenAI Chat Completions (PROTOCOLS.md section 1) ==== */

static int
oai_event(struct gen *o, const char *data)
{
	return sse_send(o, NULL, data);
}

/* Azure's prompt_filter_results: nothing filtered. */
static cJSON *
azure_filters(void)
{
	static const char *const cats[] = { "hate", "self_harm", "sexual",
		"violence" };
	cJSON *a = cJSON_CreateArray(), *f = cJSON_CreateObject(), *r, *x;
	size_t i;

	cJSON_AddNumberToObject(f, "prompt_index", 0);
	r = cJSON_AddObjectToObject(f, "content_filter_results");
	for (i = 0; i < sizeof cats / sizeof cats[0]; i++) {
		x = cJSON_AddObjectToObject(r, cats[i]);
		cJSON_AddFalseToObject(x, "filtered");
		cJSON_AddStringToObject(x, "severity", "safe");
	}
	cJSON_AddItemToArray(a, f);
	return a;
}

/* Azure's first event: filter results only, empty choices and id. */
static int
azure_filter_chunk(struct gen *o)
{
	cJSON *j = cJSON_CreateObject();
	struct sb out = SB_INIT;
	int rc;

	cJSON_AddArrayToObject(j, "choices");
	cJSON_AddNumberToObject(j, "created", 0);
	cJSON_AddStringToObject(j, "id", "");
	cJSON_AddStringToObject(j, "model", "");
	cJSON_AddStringToObject(j, "object", "");
	cJSON_AddItemToObject(j, "prompt_filter_results", azure_filters());
	json_emit(&out, j, o->sp->ascii);
	rc = oai_event(o, out.ptr);
	sb_free(&out);
	return rc;
}

/*
 * A chat.completion.chunk.  delta NULL: the usage chunk ("choices":[]).
 * finish NULL: "finish_reason":null.  Consumes delta.
 */
static int
oai_chunk(struct gen *o, cJSON *delta, const char *finish)
{
	cJSON *j = cJSON_CreateObject(), *choices, *ch, *u;
	struct sb out = SB_INIT;
	int rc;

	sb_addf(&out, "chatcmpl-fake%lu", o->c->id);
	cJSON_AddStringToObject(j, "id", out.ptr);
	sb_free(&out);
	cJSON_AddStringToObject(j, "object", "chat.completion.chunk");
	cJSON_AddNumberToObject(j, "created", CREATED);
	cJSON_AddStringToObject(j, "model", o->model);
	cJSON_AddStringToObject(j, "system_fingerprint", "fp_fake");
	choices = cJSON_AddArrayToObject(j, "choices");
	if (delta != NULL) {
		ch = cJSON_CreateObject();
		cJSON_AddNumberToObject(ch, "index", 0);
		cJSON_AddItemToObject(ch, "delta", delta);
		cJSON_AddNullToObject(ch, "logprobs");
		if (finish)
			cJSON_AddStringToObject(ch, "finish_reason", finish);
		else
			cJSON_AddNullToObject(ch, "finish_reason");
		cJSON_AddItemToArray(choices, ch);
		if (o->include_usage)
			cJSON_AddNullToObject(j, "usage");
	} else {
		u = cJSON_AddObjectToObject(j, "usage");
		cJSON_AddNumberToObject(u, "prompt_tokens", (double)o->ptok);
		cJSON_AddNumberToObject(u, "completion_tokens",
					(double)o->ctok);
		cJSON_AddNumberToObject(u, "total_tokens",
					(double)(o->ptok + o->ctok));
	}
	json_emit(&out, j, o->sp->ascii);
	rc = oai_event(o, out.ptr);
	sb_free(&out);
	return rc;
}

static cJSON *
oai_delta(const char *role, const char *content, size_t len)
{
	cJSON *d = cJSON_CreateObject();
	char *s;

	if (role)
		cJSON_AddStringToObject(d, "role", role);
	if (content) {
		s = xstrndup(content, len);
		cJSON_AddStringToObject(d, "content", s);
		free(s);
	}
	return d;
}

/* The comment of `comments`, Azure's filter chunk, the role chunk. */
static int
oai_open(struct gen *o)
{
	struct sb pre = SB_INIT;
	int rc = 0;

	if (o->sp->comments) {
		sb_addf(&pre, ": OPENROUTER PROCESSING%s%s", o->sp->eol,
			o->sp->eol);
		rc = conn_chunk(o->c, pre.ptr, pre.len);
		sb_free(&pre);
	}
	if (rc == 0 && o->azure)
		rc = azure_filter_chunk(o);
	if (rc == 0)
		rc = oai_chunk(o, oai_delta("assistant", "", 0), NULL);
	return rc;
}

static int
oai_piece(struct gen *o, const char *s, size_t n)
{
	return oai_chunk(o, oai_delta(NULL, s, n), NULL);
}

static int
oai_malformed(struct gen *o)
{
	return oai_event(o, "{\"choices\":[{\"delta\":{\"content\":");
}

static int
oai_errevent(struct gen *o)
{
	return oai_event(o, "{\"error\":{\"message\":\"The server had an "
			 "error while processing your request\",\"type\":"
			 "\"server_error\",\"param\":null,\"code\":null}}");
}

/* The finish chunk, the usage chunk if asked for, [DONE]. */
static int
oai_close(struct gen *o)
{
	if (oai_chunk(o, cJSON_CreateObject(), o->finish) < 0)
		return -1;
	if (o->include_usage && !o->sp->nousage && oai_chunk(o, NULL, NULL) < 0)
		return -1;
	if (oai_event(o, "[DONE]") < 0)
		return -1;
	return conn_stream_end(o->c);
}

static const struct writer oai_writer = {
	.ctype = "text/event-stream",
	.open = oai_open,
	.piece = oai_piece,
	.malformed = oai_malformed,
	.error = oai_errevent,
	.close = oai_close,
};

static int
oai_stream(struct gen *o, const char *reply, size_t rlen)
{
	return stream_run(o, &oai_writer, reply, rlen);
}

static int
oai_whole(struct gen *o, const char *reply)
{
	static const char html[] = "<html>oops</html>";
	const struct spec *sp = o->sp;
	cJSON *j, *ch, *m, *u, *d;
	struct sb out = SB_INIT;
	int rc;

	if (sp->malformed) {
		if (conn_head(o->c, 200, "text/html", sizeof html - 1,
			      NULL) < 0)
			return -1;
		return conn_body(o->c, html, sizeof html - 1);
	}
	j = cJSON_CreateObject();
	sb_addf(&out, "chatcmpl-fake%lu", o->c->id);
	cJSON_AddStringToObject(j, "id", out.ptr);
	out.len = 0;
	cJSON_AddStringToObject(j, "object", "chat.completion");
	cJSON_AddNumberToObject(j, "created", CREATED);
	cJSON_AddStringToObject(j, "model", o->model);
	ch = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(j, "choices"), ch);
	cJSON_AddNumberToObject(ch, "index", 0);
	m = cJSON_AddObjectToObject(ch, "message");
	cJSON_AddStringToObject(m, "role", "assistant");
	cJSON_AddStringToObject(m, "content", reply);
	cJSON_AddNullToObject(m, "refusal");
	cJSON_AddNullToObject(ch, "logprobs");
	cJSON_AddStringToObject(ch, "finish_reason",
				o->finish);
	if (!sp->nousage) {
		u = cJSON_AddObjectToObject(j, "usage");
		cJSON_AddNumberToObject(u, "prompt_tokens", (double)o->ptok);
		cJSON_AddNumberToObject(u, "completion_tokens",
					(double)o->ctok);
		cJSON_AddNumberToObject(u, "total_tokens",
					(double)(o->ptok + o->ctok));
		d = cJSON_AddObjectToObject(u, "prompt_tokens_details");
		cJSON_AddNumberToObject(d, "cached_tokens", 0);
		d = cJSON_AddObjectToObject(u, "completion_tokens_details");
		cJSON_AddNumberToObject(d, "reasoning_tokens", 0);
	}
	cJSON_AddStringToObject(j, "system_fingerprint", "fp_fake");
	if (o->azure)
		cJSON_AddItemToObject(j, "prompt_filter_results",
				      azure_filters());
	json_emit(&out, j, sp->ascii);
	if (sp->cut) {
		/* promise all of it, send half, close */
		rc = conn_head(o->c, 200, "application/json",
			       (long long)out.len, NULL);
		if (rc == 0)
			rc = conn_body(o->c, out.ptr, out.len / 2);
	} else
		rc = send_json(o->c, 200, NULL, out.ptr, out.len);
	sb_free(&out);
	return rc;
}

/*
 * reset-N and reset-bad: a 429 says when the limit resets instead of
 * sending Retry-After, the request limit being the one exhausted; with
 * reset-bad, in words no client can read.
 */

/* OpenAI's headers: durations as Go prints them ("1s", "6m0s"). */
static void
oai_reset_headers(const struct conn *c, struct sb *h)
{
	long n = c->reset;

	sb_addf(h, "x-ratelimit-limit-requests: 60\r\n"
		   "x-ratelimit-limit-tokens: 150000\r\n"
		   "x-ratelimit-remaining-requests: 0\r\n"
		   "x-ratelimit-remaining-tokens: 149990\r\n"
		   "x-ratelimit-reset-tokens: 4ms\r\n"
		   "x-ratelimit-reset-requests: ");
	if (c->reset_bad)
		sb_addf(h, "soon");
	else if (n >= 3600)
		sb_addf(h, "%ldh%ldm%lds", n / 3600, n % 3600 / 60, n % 60);
	else if (n >= 60)
		sb_addf(h, "%ldm%lds", n / 60, n % 60);
	else
		sb_addf(h, "%lds", n);
	sb_addf(h, "\r\n");
}

/* Anthropic's: RFC 3339 times, whole seconds rounded up, so that the
 * wait is at least N s; the token limit, not exhausted, resets first. */
static void
anth_reset_headers(const struct conn *c, struct sb *h)
{
	struct timespec ts;
	struct tm tm;
	char now[32], then[32];
	time_t t;

	clock_gettime(CLOCK_REALTIME, &ts);
	t = ts.tv_sec + (ts.tv_nsec > 0);
	gmtime_r(&t, &tm);
	strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tm);
	t += c->reset;
	gmtime_r(&t, &tm);
	strftime(then, sizeof then, "%Y-%m-%dT%H:%M:%SZ", &tm);
	sb_addf(h, "anthropic-ratelimit-requests-limit: 50\r\n"
		   "anthropic-ratelimit-requests-remaining: 0\r\n"
		   "anthropic-ratelimit-requests-reset: %s\r\n"
		   "anthropic-ratelimit-tokens-limit: 40000\r\n"
		   "anthropic-ratelimit-tokens-remaining: 39000\r\n"
		   "anthropic-ratelimit-tokens-reset: %s\r\n",
		c->reset_bad ? "tomorrow" : then, now);
}

/* A forced failure, `fail-CODE`, with OpenAI's error body and headers. */
static int
oai_fail(struct conn *c, long code, const char *model)
{
	static const char ratelimit[] =
		"retry-after: 1\r\n"
		"retry-after-ms: 1000\r\n"
		"x-ratelimit-limit-requests: 60\r\n"
		"x-ratelimit-limit-tokens: 150000\r\n"
		"x-ratelimit-remaining-requests: 0\r\n"
		"x-ratelimit-remaining-tokens: 149990\r\n"
		"x-ratelimit-reset-requests: 1s\r\n"
		"x-ratelimit-reset-tokens: 4ms\r\n";
	struct sb msg = SB_INIT, head = SB_INIT;
	int rc;

	switch (code) {
	case 401:
		rc = send_error(c, 401, NULL, "Incorrect API key provided",
				"invalid_request_error", NULL,
				"invalid_api_key");
		break;
	case 403:
		sb_addf(&msg, "You are not allowed to use the model `%s`",
			model);
		rc = send_error(c, 403, NULL, msg.ptr, "permission_error",
				NULL, "permission_denied");
		break;
	case 404:
		sb_addf(&msg, "The model `%s` does not exist or you do not "
			"have access to it.", model);
		rc = send_error(c, 404, NULL, msg.ptr, "invalid_request_error",
				NULL, "model_not_found");
		break;
	case 408:
		rc = send_error(c, 408, NULL, "Request timed out",
				"timeout_error", NULL, "timeout");
		break;
	case 429:
		if (c->reset_set)
			oai_reset_headers(c, &head);
		rc = send_error(c, 429, c->reset_set ? sb_str(&head) : ratelimit,
				"Rate limit reached for requests",
				"rate_limit_error", NULL,
				"rate_limit_exceeded");
		break;
	case 500:
		rc = send_error(c, 500, NULL,
				"The server had an error while processing "
				"your request. Sorry about that!",
				"server_error", NULL, NULL);
		break;
	case 502:
		rc = send_error(c, 502, NULL, "Bad gateway", "server_error",
				NULL, "bad_gateway");
		break;
	case 503:
		rc = send_error(c, 503, "retry-after: 1\r\n",
				"The engine is currently overloaded, please "
				"try again later", "server_error", NULL,
				"service_unavailable");
		break;
	case 529:
		rc = send_error(c, 529, NULL, "Overloaded", "overloaded_error",
				NULL, "overloaded");
		break;
	default:
		sb_addf(&msg, "fakellm: forced HTTP error %ld", code);
		rc = send_error(c, (int)code, NULL, msg.ptr,
				code < 500 ? "invalid_request_error"
					   : "server_error",
				NULL, NULL);
		break;
	}
	sb_free(&msg);
	sb_free(&head);
	return rc;
}

/* 400 for a bad model option, as OpenAI words a bad request. */
static int
oai_bad(struct conn *c, const char *msg)
{
	return send_error(c, 400, NULL, msg, "invalid_request_error", NULL,
			  NULL);
}

static int
oai_whole_n(struct gen *o, const char *reply, size_t n)
{
	(void)n;
	return oai_whole(o, reply);
}

static const struct proto azure_proto; /* defined with Azure's errors */

static const struct proto oai_proto = {
	.finish = "stop",
	.fail = oai_fail,
	.bad = oai_bad,
	.stream = oai_stream,
	.whole = oai_whole_n,
};

/* The `params` keys of an OpenAI request. */
static void
oai_params(const cJSON *req, const cJSON *messages, struct sb *out)
{
	static const char *const keys[] = { "temperature", "top_p",
		"max_tokens", "max_completion_tokens", "stop" };

	reply_params(req, keys, sizeof keys / sizeof keys[0],
		     cJSON_GetArraySize(messages), out);
}

/*
 * POST …/chat/completions; azure: the deployment of an Azure URL, which
 * is then the model string, or "" for Azure's v1 form (model in the
 * body); NULL for OpenAI itself.
 */
static int
oai_chat(struct conn *c, const char *azure)
{
	const cJSON *model, *messages, *opts;
	cJSON *req;
	struct chatreq cr;
	int rc;

	memset(&cr, 0, sizeof cr);
	req = cJSON_ParseWithLength(c->body.ptr, c->body.len);
	if (!cJSON_IsObject(req)) {
		rc = send_error(c, 400, NULL, "We could not parse the JSON "
				"body of your request.",
				"invalid_request_error", NULL, NULL);
		goto out;
	}
	model = cJSON_GetObjectItemCaseSensitive(req, "model");
	messages = cJSON_GetObjectItemCaseSensitive(req, "messages");
	if ((azure == NULL || *azure == '\0') && !cJSON_IsString(model)) {
		rc = send_error(c, 400, NULL, "you must provide a model "
				"parameter", "invalid_request_error", NULL,
				NULL);
		goto out;
	}
	if (!cJSON_IsArray(messages)) {
		rc = send_error(c, 400, NULL, "Missing required parameter: "
				"'messages'.", "invalid_request_error",
				"messages", "missing_required_parameter");
		goto out;
	}
	cr.model = azure && *azure ? azure : model->valuestring;
	cr.msgs = cJSON_Duplicate(messages, 1);
	cr.azure = azure != NULL;
	cr.stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req,
								   "stream"));
	opts = cJSON_GetObjectItemCaseSensitive(req, "stream_options");
	cr.include_usage = cJSON_IsTrue(
		cJSON_GetObjectItemCaseSensitive(opts, "include_usage"));
	oai_params(req, messages, &cr.params);
	rc = chat_serve(c, azure ? &azure_proto : &oai_proto, &cr);
out:
	chatreq_release(&cr);
	cJSON_Delete(req);
	return rc;
}

static const char *const oai_model_ids[] = {
	"echo-model", "sys-model", "params-model", "big-model",
	"slow-model", "utf8-model", "fixed-hello",
};
#define NMODELS (sizeof oai_model_ids / sizeof oai_model_ids[0])

static cJSON *
oai_model_object(const char *id)
{
	cJSON *m = cJSON_CreateObject();

	cJSON_AddStringToObject(m, "id", id);
	cJSON_AddStringToObject(m, "object", "model");
	cJSON_AddNumberToObject(m, "created", CREATED);
	cJSON_AddStringToObject(m, "owned_by", "fakellm");
	return m;
}

/* GET .../models, or .../models/ID when id is not NULL. */
static int
oai_models(struct conn *c, const char *id)
{
	struct spec sp;
	struct sb out = SB_INIT, err = SB_INIT;
	cJSON *j, *data, *m;
	size_t i;
	int rc;

	if (id != NULL) {
		if (spec_parse(&sp, id, &err) != 0) {
			sb_free(&err);
			sb_addf(&err, "The model `%s` does not exist or you "
				"do not have access to it.", id);
			rc = send_error(c, 404, NULL, err.ptr,
					"invalid_request_error", NULL,
					"model_not_found");
			goto out;
		}
		spec_release(&sp);
		j = oai_model_object(id);
	} else {
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "object", "list");
		data = cJSON_AddArrayToObject(j, "data");
		for (i = 0; i < NMODELS; i++) {
			m = oai_model_object(oai_model_ids[i]);
			cJSON_AddItemToArray(data, m);
		}
	}
	json_emit(&out, j, false);
	rc = send_json(c, 200, NULL, out.ptr, out.len);
out:
	sb_free(&err);
	sb_free(&out);
	return rc;
}

/* -k: `Authorization: Bearer KEY`, else 401 (false). */
static bool
oai_auth(struct conn *c, int *rc)
{
	const char *h = conn_header(c, "authorization");

	if (srv.key == NULL || (h != NULL && strncmp(h, "Bearer ", 7) == 0 &&
				strcmp(h + 7, srv.key) == 0))
		return true;
	*rc = send_error(c, 401, NULL, "Incorrect API key provided",
			 "invalid_request_error", NULL, "invalid_api_key");
	return false;
}

/* ==== what the protocols below share ==== */

#define THINKING  "Let me think about that."
#define CREATED_T "2023-11-14T22:13:20Z" /* CREATED as a time */

/* Whether the request came with header name equal to the -k key. */
static bool
header_is_key(const struct conn *c, const char *name)
{
	const char *h = conn_header(c, name);

	return h != NULL && strcmp(h, srv.key) == 0;
}

static bool
bearer_is_key(const struct conn *c)
{
	const char *h = conn_header(c, "authorization");

	return h != NULL && strncmp(h, "Bearer ", 7) == 0 &&
	       strcmp(h + 7, srv.key) == 0;
}

static bool
path_ends(const char *path, const char *suffix)
{
	size_t n = strlen(path), k = strlen(suffix);

	return n >= k && strcmp(path + n - k, suffix) == 0;
}

/* The value of query parameter name (malloc'ed, not decoded), or NULL. */
static char *
query_param(const struct conn *c, const char *name)
{
	const char *q = c->query, *amp, *eq;
	size_t k = strlen(name);

	while (*q) {
		amp = strchr(q, '&');
		if (amp == NULL)
			amp = q + strlen(q);
		eq = memchr(q, '=', (size_t)(amp - q));
		if (eq != NULL && (size_t)(eq - q) == k &&
		    strncmp(q, name, k) == 0)
			return xstrndup(eq + 1, (size_t)(amp - eq - 1));
		q = *amp ? amp + 1 : amp;
	}
	return NULL;
}

static int
hexval(char h)
{
	if (h >= '0' && h <= '9')
		return h - '0';
	if (h >= 'a' && h <= 'f')
		return h - 'a' + 10;
	if (h >= 'A' && h <= 'F')
		return h - 'A' + 10;
	return -1;
}

/* s[0..n) with %XX decoded (malloc'ed). */
static char *
pct_decode(const char *s, size_t n)
{
	struct sb out = SB_INIT;
	size_t i;
	int hi, lo;

	sb_grow(&out, n);
	for (i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n &&
		    (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			char ch = (char)(hi << 4 | lo);

			sb_add(&out, &ch, 1);
			i += 2;
		} else
			sb_add(&out, s + i, 1);
	}
	return out.ptr;
}

/* A stream's opening comment, for `comments` (SSE only). */
static int
sse_preamble(struct gen *o)
{
	struct sb pre = SB_INIT;
	int rc = 0;

	if (o->sp->comments) {
		sb_addf(&pre, ": ok%s%s", o->sp->eol, o->sp->eol);
		rc = conn_chunk(o->c, pre.ptr, pre.len);
	}
	sb_free(&pre);
	return rc;
}

/* `malformed`, not streamed: a 200 that is not JSON. */
static int
send_oops(struct conn *c)
{
	static const char html[] = "<html>oops</html>";

	if (conn_head(c, 200, "text/html", sizeof html - 1, NULL) < 0)
		return -1;
	return conn_body(c, html, sizeof html - 1);
}

/* A whole JSON answer; with `cut`, half of it, then the close. */
static int
send_whole(struct gen *o, const char *json, size_t len)
{
	if (!o->sp->cut)
		return send_json(o->c, 200, NULL, json, len);
	if (conn_head(o->c, 200, "application/json", (long long)len,
		      NULL) < 0)
		return -1;
	return conn_body(o->c, json, len / 2);
}

/* Add a string of n bytes (not NUL-terminated) to obj. */
static void
add_strn(cJSON *obj, const char *key, const char *s, size_t n)
{
	char *t = xstrndup(s, n);

	cJSON_AddStringToObject(obj, key, t);
	free(t);
}

/* ==== Azure OpenAI (PROTOCOLS.md section 2) ==== */

/* {"error":{"code":CODE,"message":M}}, as Azure's own layer answers. */
static int
azure_error(struct conn *c, int status, const char *extra, const char *code,
	    const char *msg)
{
	cJSON *root = cJSON_CreateObject(), *e;
	struct sb out = SB_INIT;
	int rc;

	e = cJSON_AddObjectToObject(root, "error");
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", msg);
	json_emit(&out, root, false);
	rc = send_json(c, status, extra, out.ptr, out.len);
	sb_free(&out);
	return rc;
}

static int
azure_fail(struct conn *c, long code, const char *model)
{
	static const char ratelimit[] = "retry-after: 1\r\n"
					"retry-after-ms: 1000\r\n";
	struct sb msg = SB_INIT, num = SB_INIT, head = SB_INIT;
	int rc;

	(void)model;
	sb_addf(&num, "%ld", code);
	switch (code) {
	case 401:
		rc = azure_error(c, 401, NULL, "401", "Access denied due to "
				 "invalid subscription key or wrong API "
				 "endpoint. Make sure to provide a valid key "
				 "for an active subscription and use a "
				 "correct regional API endpoint for your "
				 "resource.");
		break;
	case 404:
		rc = azure_error(c, 404, NULL, "DeploymentNotFound",
				 "The API deployment for this resource does "
				 "not exist. If you created the deployment "
				 "within the last 5 minutes, please wait a "
				 "moment and try again.");
		break;
	case 429:
		if (c->reset_set)
			oai_reset_headers(c, &head);
		rc = azure_error(c, 429,
				 c->reset_set ? sb_str(&head) : ratelimit,
				 "429", "Requests to the "
				 "ChatCompletions_Create Operation under "
				 "Azure OpenAI API version 2024-10-21 have "
				 "exceeded token rate limit of your current "
				 "OpenAI S0 pricing tier. Please retry after "
				 "1 second.");
		break;
	case 500:
		rc = send_error(c, 500, NULL, "The server had an error while "
				"processing your request. Sorry about that!",
				"server_error", NULL, NULL);
		break;
	case 503:
		rc = azure_error(c, 503, "retry-after: 1\r\n",
				 "ServiceUnavailable", "The service is "
				 "temporarily unable to process your request. "
				 "Please try again later.");
		break;
	default:
		sb_addf(&msg, "fakellm: forced HTTP error %ld", code);
		rc = azure_error(c, (int)code, NULL, num.ptr, msg.ptr);
		break;
	}
	sb_free(&msg);
	sb_free(&num);
	sb_free(&head);
	return rc;
}

static const struct proto azure_proto = {
	.finish = "stop",
	.fail = azure_fail,
	.bad = oai_bad,
	.stream = oai_stream,
	.whole = oai_whole_n,
};

/* -k: `api-key: KEY` (or an Entra-style `Authorization: Bearer KEY`). */
static bool
azure_auth(struct conn *c, int *rc)
{
	if (srv.key == NULL || header_is_key(c, "api-key") || bearer_is_key(c))
		return true;
	*rc = azure_fail(c, 401, NULL);
	return false;
}

/*
 * POST …/openai/deployments/DEP/chat/completions?api-version=V (dep is
 * DEP, still percent-encoded) or, dep NULL, …/openai/v1/chat/completions.
 */
static int
azure_chat(struct conn *c, const char *dep, size_t deplen)
{
	char *ver, *name;
	int rc = 0;

	if (!azure_auth(c, &rc))
		return rc;
	if (dep == NULL)
		return oai_chat(c, "");
	ver = query_param(c, "api-version");
	if (ver == NULL || *ver == '\0') {
		free(ver);
		return azure_error(c, 404, NULL, "404", "Resource not found");
	}
	free(ver);
	name = pct_decode(dep, deplen);
	rc = oai_chat(c, name);
	free(name);
	return rc;
}

/* ==== Anthropic Messages (PROTOCOLS.md section 3) ==== */

/* {"type":"error","error":{"type":T,"message":M},"request_id":…} */
static int
anth_error(struct conn *c, int status, const char *extra, const char *type,
	   const char *msg)
{
	cJSON *root = cJSON_CreateObject(), *e;
	struct sb out = SB_INIT, id = SB_INIT;
	int rc;

	cJSON_AddStringToObject(root, "type", "error");
	e = cJSON_AddObjectToObject(root, "error");
	cJSON_AddStringToObject(e, "type", type);
	cJSON_AddStringToObject(e, "message", msg);
	sb_addf(&id, "req_fake%lu", c->id);
	cJSON_AddStringToObject(root, "request_id", id.ptr);
	json_emit(&out, root, false);
	rc = send_json(c, status, extra, out.ptr, out.len);
	sb_free(&out);
	sb_free(&id);
	return rc;
}

static int
anth_fail(struct conn *c, long code, const char *model)
{
	static const char ratelimit[] =
		"retry-after: 1\r\n"
		"anthropic-ratelimit-requests-limit: 50\r\n"
		"anthropic-ratelimit-requests-remaining: 0\r\n"
		"anthropic-ratelimit-requests-reset: 2023-11-14T22:13:21Z\r\n";
	struct sb msg = SB_INIT, head = SB_INIT;
	const char *type, *m = NULL, *extra = NULL;
	int rc;

	switch (code) {
	case 401:
		type = "authentication_error";
		m = "invalid x-api-key";
		break;
	case 403:
		type = "permission_error";
		m = "Your API key does not have permission to use the "
		    "specified resource.";
		break;
	case 404:
		type = "not_found_error";
		sb_addf(&msg, "model: %s", model);
		break;
	case 413:
		type = "request_too_large";
		m = "Request exceeds the maximum allowed number of bytes.";
		break;
	case 429:
		type = "rate_limit_error";
		m = "This request would exceed the rate limit for your "
		    "organization of 50 requests per minute.";
		extra = ratelimit;
		if (c->reset_set) {
			anth_reset_headers(c, &head);
			extra = sb_str(&head);
		}
		break;
	case 500:
		type = "api_error";
		m = "Internal server error";
		break;
	case 504:
		type = "timeout_error";
		m = "Request timeout";
		break;
	case 529:
		type = "overloaded_error";
		m = "Overloaded";
		break;
	default:
		type = code < 500 ? "invalid_request_error" : "api_error";
		sb_addf(&msg, "fakellm: forced HTTP error %ld", code);
		break;
	}
	rc = anth_error(c, (int)code, extra, type, m ? m : sb_str(&msg));
	sb_free(&msg);
	sb_free(&head);
	return rc;
}

static int
anth_bad(struct conn *c, const char *msg)
{
	return anth_error(c, 400, NULL, "invalid_request_error", msg);
}

/* -k: `x-api-key: KEY`. */
static bool
anth_auth(struct conn *c, int *rc)
{
	if (srv.key == NULL || header_is_key(c, "x-api-key"))
		return true;
	*rc = anth_fail(c, 401, NULL);
	return false;
}

/* An event named after its data's type; consumes j. */
static int
anth_event(struct gen *o, cJSON *j)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "type");
	struct sb out = SB_INIT, name = SB_INIT;
	int rc;

	sb_adds(&name, t->valuestring);
	json_emit(&out, j, o->sp->ascii);
	rc = sse_send(o, name.ptr, out.ptr);
	sb_free(&out);
	sb_free(&name);
	return rc;
}

static cJSON *
anth_typed(const char *type)
{
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "type", type);
	return j;
}

static void
anth_usage(const struct gen *o, cJSON *parent, bool input, long output)
{
	cJSON *u;

	if (o->sp->nousage)
		return;
	u = cJSON_AddObjectToObject(parent, "usage");
	if (input) {
		cJSON_AddNumberToObject(u, "input_tokens", (double)o->ptok);
		cJSON_AddNumberToObject(u, "cache_creation_input_tokens", 0);
		cJSON_AddNumberToObject(u, "cache_read_input_tokens", 0);
	}
	cJSON_AddNumberToObject(u, "output_tokens", (double)output);
}

/* The Message object; content is consumed. */
static cJSON *
anth_message(const struct gen *o, cJSON *content, const char *stop,
	     long output)
{
	cJSON *m = anth_typed("message");
	struct sb id = SB_INIT;

	sb_addf(&id, "msg_fake%lu", o->c->id);
	cJSON_AddStringToObject(m, "id", id.ptr);
	sb_free(&id);
	cJSON_AddStringToObject(m, "role", "assistant");
	cJSON_AddStringToObject(m, "model", o->model);
	cJSON_AddItemToObject(m, "content", content);
	if (stop)
		cJSON_AddStringToObject(m, "stop_reason", stop);
	else
		cJSON_AddNullToObject(m, "stop_reason");
	cJSON_AddNullToObject(m, "stop_sequence");
	anth_usage(o, m, true, output);
	return m;
}

static int
anth_block(struct gen *o, const char *event, int index, const char *type)
{
	cJSON *j = anth_typed(event), *b;

	cJSON_AddNumberToObject(j, "index", index);
	if (type != NULL) {
		b = cJSON_AddObjectToObject(j, "content_block");
		cJSON_AddStringToObject(b, "type", type);
		cJSON_AddStringToObject(b, strcmp(type, "thinking") == 0 ?
					   "thinking" : "text", "");
	}
	return anth_event(o, j);
}

static int
anth_delta(struct gen *o, int index, const char *type, const char *field,
	   const char *s, size_t n)
{
	cJSON *j = anth_typed("content_block_delta"), *d;

	cJSON_AddNumberToObject(j, "index", index);
	d = cJSON_AddObjectToObject(j, "delta");
	cJSON_AddStringToObject(d, "type", type);
	add_strn(d, field, s, n);
	return anth_event(o, j);
}

#define ANTH_SIG "ZmFrZWxsbQ==" /* the thinking block's signature */

/* message_start, a thinking block with `thinking`, the text block's
 * content_block_start, a ping. */
static int
anth_open(struct gen *o)
{
	cJSON *j;

	if (sse_preamble(o) < 0)
		return -1;
	j = anth_typed("message_start");
	cJSON_AddItemToObject(j, "message",
			      anth_message(o, cJSON_CreateArray(), NULL, 1));
	if (anth_event(o, j) < 0)
		return -1;
	if (o->sp->thinking) {
		if (anth_block(o, "content_block_start", 0, "thinking") < 0 ||
		    anth_delta(o, 0, "thinking_delta", "thinking", THINKING,
			       strlen(THINKING)) < 0 ||
		    anth_delta(o, 0, "signature_delta", "signature", ANTH_SIG,
			       strlen(ANTH_SIG)) < 0 ||
		    anth_block(o, "content_block_stop", 0, NULL) < 0)
			return -1;
		o->idx = 1;
	}
	if (anth_block(o, "content_block_start", o->idx, "text") < 0)
		return -1;
	return anth_event(o, anth_typed("ping"));
}

static int
anth_piece(struct gen *o, const char *s, size_t n)
{
	return anth_delta(o, o->idx, "text_delta", "text", s, n);
}

static int
anth_malformed(struct gen *o)
{
	return sse_send(o, "content_block_delta", "{\"type\":"
			"\"content_block_delta\",\"index\":0,\"delta\":"
			"{\"type\":\"text_delta\",\"text\":");
}

static int
anth_errevent(struct gen *o)
{
	return sse_send(o, "error", "{\"type\":\"error\",\"error\":"
			"{\"type\":\"overloaded_error\",\"message\":"
			"\"Overloaded\"}}");
}

/* content_block_stop, message_delta, message_stop. */
static int
anth_close(struct gen *o)
{
	cJSON *j, *d;

	if (anth_block(o, "content_block_stop", o->idx, NULL) < 0)
		return -1;
	j = anth_typed("message_delta");
	d = cJSON_AddObjectToObject(j, "delta");
	cJSON_AddStringToObject(d, "stop_reason", o->finish);
	cJSON_AddNullToObject(d, "stop_sequence");
	anth_usage(o, j, false, o->ctok);
	if (anth_event(o, j) < 0 ||
	    anth_event(o, anth_typed("message_stop")) < 0)
		return -1;
	return conn_stream_end(o->c);
}

static const struct writer anth_writer = {
	.ctype = "text/event-stream",
	.open = anth_open,
	.piece = anth_piece,
	.malformed = anth_malformed,
	.error = anth_errevent,
	.close = anth_close,
};

static int
anth_stream(struct gen *o, const char *reply, size_t rlen)
{
	return stream_run(o, &anth_writer, reply, rlen);
}

static int
anth_whole(struct gen *o, const char *reply, size_t rlen)
{
	cJSON *content, *b;
	struct sb out = SB_INIT;
	int rc;

	if (o->sp->malformed)
		return send_oops(o->c);
	content = cJSON_CreateArray();
	if (o->sp->thinking) {
		b = anth_typed("thinking");
		cJSON_AddStringToObject(b, "thinking", THINKING);
		cJSON_AddStringToObject(b, "signature", ANTH_SIG);
		cJSON_AddItemToArray(content, b);
	}
	if (rlen > 0) {
		b = anth_typed("text");
		add_strn(b, "text", reply, rlen);
		cJSON_AddItemToArray(content, b);
	}
	json_emit(&out, anth_message(o, content, o->finish, o->ctok),
		  o->sp->ascii);
	rc = send_whole(o, out.ptr, out.len);
	sb_free(&out);
	return rc;
}

static const struct proto anth_proto = {
	.finish = "end_turn",
	.fail = anth_fail,
	.bad = anth_bad,
	.stream = anth_stream,
	.whole = anth_whole,
};

/* POST …/v1/messages */
static int
anth_messages(struct conn *c)
{
	static const char *const keys[] = { "temperature", "top_p",
		"max_tokens", "stop_sequences" };
	const cJSON *model, *messages, *system, *m, *role;
	cJSON *req, *nm;
	struct chatreq cr;
	struct sb text = SB_INIT, msg = SB_INIT;
	int rc, i = 0;

	memset(&cr, 0, sizeof cr);
	req = cJSON_ParseWithLength(c->body.ptr, c->body.len);
	if (conn_header(c, "anthropic-version") == NULL) {
		rc = anth_bad(c, "anthropic-version: header is required");
		goto out;
	}
	if (!cJSON_IsObject(req)) {
		rc = anth_bad(c, "There was an error parsing the body of "
			      "your request. Please make sure it is valid "
			      "JSON.");
		goto out;
	}
	model = cJSON_GetObjectItemCaseSensitive(req, "model");
	messages = cJSON_GetObjectItemCaseSensitive(req, "messages");
	system = cJSON_GetObjectItemCaseSensitive(req, "system");
	if (!cJSON_IsString(model)) {
		rc = anth_bad(c, "model: Field required");
		goto out;
	}
	if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(req,
							     "max_tokens"))) {
		rc = anth_bad(c, "max_tokens: Field required");
		goto out;
	}
	if (!cJSON_IsArray(messages)) {
		rc = anth_bad(c, "messages: Field required");
		goto out;
	}
	if (system != NULL && !cJSON_IsString(system) &&
	    !cJSON_IsArray(system)) {
		rc = anth_bad(c, "system: Input should be a valid list");
		goto out;
	}
	cr.msgs = cJSON_CreateArray();
	if (system != NULL) {
		content_text(system, &text);
		nm = cJSON_CreateObject();
		cJSON_AddStringToObject(nm, "role", "system");
		cJSON_AddStringToObject(nm, "content", sb_str(&text));
		cJSON_AddItemToArray(cr.msgs, nm);
	}
	cJSON_ArrayForEach(m, messages) {
		role = cJSON_GetObjectItemCaseSensitive(m, "role");
		if (!cJSON_IsString(role) ||
		    (strcmp(role->valuestring, "user") != 0 &&
		     strcmp(role->valuestring, "assistant") != 0)) {
			sb_addf(&msg, "messages.%d.role: Input should be "
				"'user' or 'assistant'", i);
			rc = anth_bad(c, msg.ptr);
			goto out;
		}
		cJSON_AddItemToArray(cr.msgs, cJSON_Duplicate(m, 1));
		i++;
	}
	cr.model = model->valuestring;
	cr.stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req,
								   "stream"));
	reply_params(req, keys, sizeof keys / sizeof keys[0],
		     cJSON_GetArraySize(messages), &cr.params);
	rc = chat_serve(c, &anth_proto, &cr);
out:
	chatreq_release(&cr);
	sb_free(&text);
	sb_free(&msg);
	cJSON_Delete(req);
	return rc;
}

/* GET …/v1/models with anthropic-version */
static int
anth_models(struct conn *c)
{
	cJSON *j = cJSON_CreateObject(), *data, *m;
	struct sb out = SB_INIT;
	size_t i;
	int rc;

	data = cJSON_AddArrayToObject(j, "data");
	for (i = 0; i < NMODELS; i++) {
		m = anth_typed("model");
		cJSON_AddStringToObject(m, "id", oai_model_ids[i]);
		cJSON_AddStringToObject(m, "display_name", oai_model_ids[i]);
		cJSON_AddStringToObject(m, "created_at", CREATED_T);
		cJSON_AddItemToArray(data, m);
	}
	cJSON_AddFalseToObject(j, "has_more");
	cJSON_AddStringToObject(j, "first_id", oai_model_ids[0]);
	cJSON_AddStringToObject(j, "last_id", oai_model_ids[NMODELS - 1]);
	json_emit(&out, j, false);
	rc = send_json(c, 200, NULL, out.ptr, out.len);
	sb_free(&out);
	return rc;
}

/* ==== Google Gemini (PROTOCOLS.md section 4) ==== */

/* {"error":{"code":N,"message":M,"status":S[,"details":…]}}; consumes
 * details. */
static int
gem_error(struct conn *c, int status, const char *gstatus, const char *msg,
	  cJSON *details)
{
	cJSON *root = cJSON_CreateObject(), *e;
	struct sb out = SB_INIT;
	int rc;

	e = cJSON_AddObjectToObject(root, "error");
	cJSON_AddNumberToObject(e, "code", status);
	cJSON_AddStringToObject(e, "message", msg);
	cJSON_AddStringToObject(e, "status", gstatus);
	if (details != NULL)
		cJSON_AddItemToObject(e, "details", details);
	json_emit(&out, root, false);
	rc = send_json(c, status, NULL, out.ptr, out.len);
	sb_free(&out);
	return rc;
}

static int
gem_fail(struct conn *c, long code, const char *model)
{
	struct sb msg = SB_INIT, delay = SB_INIT;
	const char *st, *m = NULL;
	cJSON *details = NULL, *d;
	int rc;

	switch (code) {
	case 400:
		st = "INVALID_ARGUMENT";
		m = "Request contains an invalid argument.";
		break;
	case 401:
		st = "UNAUTHENTICATED";
		m = "Request had invalid authentication credentials.";
		break;
	case 403:
		st = "PERMISSION_DENIED";
		m = "The caller does not have permission";
		break;
	case 404:
		st = "NOT_FOUND";
		sb_addf(&msg, "models/%s is not found for API version v1beta, "
			"or is not supported for generateContent. Call "
			"ListModels to see the list of available models and "
			"their supported methods.", model);
		break;
	case 429:
		st = "RESOURCE_EXHAUSTED";
		m = "You exceeded your current quota, please check your plan "
		    "and billing details.";
		details = cJSON_CreateArray();
		d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "@type",
					"type.googleapis.com/google.rpc."
					"RetryInfo");
		if (c->reset_bad)
			sb_addf(&delay, "soon");
		else
			sb_addf(&delay, "%lds", c->reset_set ? c->reset : 1);
		cJSON_AddStringToObject(d, "retryDelay", delay.ptr);
		cJSON_AddItemToArray(details, d);
		break;
	case 500:
		st = "INTERNAL";
		m = "An internal error has occurred. Please retry or report "
		    "in https://developers.generativeai.google/guide/"
		    "troubleshooting";
		break;
	case 503:
		st = "UNAVAILABLE";
		m = "The model is overloaded. Please try again later.";
		break;
	case 504:
		st = "DEADLINE_EXCEEDED";
		m = "Deadline expired before operation could complete.";
		break;
	default:
		st = code < 500 ? "INVALID_ARGUMENT" : "INTERNAL";
		sb_addf(&msg, "fakellm: forced HTTP error %ld", code);
		break;
	}
	rc = gem_error(c, (int)code, st, m ? m : sb_str(&msg), details);
	sb_free(&msg);
	sb_free(&delay);
	return rc;
}

static int
gem_bad(struct conn *c, const char *msg)
{
	return gem_error(c, 400, "INVALID_ARGUMENT", msg, NULL);
}

/*
 * -k: `x-goog-api-key: KEY` or `?key=KEY`.  No key at all is 403; a
 * wrong one is what Google answers: 400 with reason API_KEY_INVALID.
 */
static bool
gem_auth(struct conn *c, int *rc)
{
	const char *h = conn_header(c, "x-goog-api-key");
	char *q = query_param(c, "key");
	cJSON *details, *d, *meta;
	bool ok;

	ok = srv.key == NULL || (h && strcmp(h, srv.key) == 0) ||
	     (q && strcmp(q, srv.key) == 0);
	if (!ok && h == NULL && q == NULL)
		*rc = gem_error(c, 403, "PERMISSION_DENIED", "Method doesn't "
				"allow unregistered callers (callers without "
				"established identity). Please use API Key or "
				"other form of API consumer identity to call "
				"this API.", NULL);
	else if (!ok) {
		details = cJSON_CreateArray();
		d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "@type", "type.googleapis.com/"
					"google.rpc.ErrorInfo");
		cJSON_AddStringToObject(d, "reason", "API_KEY_INVALID");
		cJSON_AddStringToObject(d, "domain", "googleapis.com");
		meta = cJSON_AddObjectToObject(d, "metadata");
		cJSON_AddStringToObject(meta, "service",
					"generativelanguage.googleapis.com");
		cJSON_AddItemToArray(details, d);
		*rc = gem_error(c, 400, "INVALID_ARGUMENT", "API key not "
				"valid. Please pass a valid API key.",
				details);
	}
	free(q);
	return ok;
}

/*
 * A GenerateContentResponse with one candidate whose only text part is
 * s[0..n) (after a thought part if thought), finishReason finish unless
 * NULL; final: usage with the completion's tokens.  With `blocked`: no
 * candidates, promptFeedback.blockReason SAFETY.
 */
static cJSON *
gem_response(const struct gen *o, const char *s, size_t n, bool thought,
	     const char *finish, bool final)
{
	cJSON *j = cJSON_CreateObject(), *cand, *content, *parts, *p, *u;
	struct sb id = SB_INIT;

	if (o->sp->blocked) {
		p = cJSON_AddObjectToObject(j, "promptFeedback");
		cJSON_AddStringToObject(p, "blockReason", "SAFETY");
	} else {
		cand = cJSON_CreateObject();
		cJSON_AddItemToArray(cJSON_AddArrayToObject(j, "candidates"),
				     cand);
		content = cJSON_AddObjectToObject(cand, "content");
		parts = cJSON_AddArrayToObject(content, "parts");
		if (thought) {
			p = cJSON_CreateObject();
			cJSON_AddStringToObject(p, "text", THINKING);
			cJSON_AddTrueToObject(p, "thought");
			cJSON_AddItemToArray(parts, p);
		}
		p = cJSON_CreateObject();
		add_strn(p, "text", s, n);
		cJSON_AddItemToArray(parts, p);
		cJSON_AddStringToObject(content, "role", "model");
		if (finish)
			cJSON_AddStringToObject(cand, "finishReason", finish);
		cJSON_AddNumberToObject(cand, "index", 0);
	}
	if (!o->sp->nousage) {
		/* zero counts are left out, as protobuf's JSON does */
		u = cJSON_AddObjectToObject(j, "usageMetadata");
		cJSON_AddNumberToObject(u, "promptTokenCount",
					(double)o->ptok);
		if (final && o->ctok > 0)
			cJSON_AddNumberToObject(u, "candidatesTokenCount",
						(double)o->ctok);
		cJSON_AddNumberToObject(u, "totalTokenCount",
					(double)(o->ptok + (final ? o->ctok
								  : 0)));
	}
	cJSON_AddStringToObject(j, "modelVersion", o->model);
	sb_addf(&id, "fakeresp-%lu", o->c->id);
	cJSON_AddStringToObject(j, "responseId", id.ptr);
	sb_free(&id);
	return j;
}

static int
gem_event(struct gen *o, cJSON *j)
{
	struct sb out = SB_INIT;
	int rc;

	json_emit(&out, j, o->sp->ascii);
	rc = sse_send(o, NULL, out.ptr);
	sb_free(&out);
	return rc;
}

static int
gem_inject(struct gen *o)
{
	static const char bad[] = "{\"candidates\":[{\"content\":{\"parts\":"
		"[{\"text\":";
	static const char err[] = "{\"error\":{\"code\":500,\"message\":\"An "
		"internal error has occurred. Please retry or report in "
		"https://developers.generativeai.google/guide/troubleshooting"
		"\",\"status\":\"INTERNAL\"}}";

	if (o->sp->malformed && sse_send(o, NULL, bad) < 0)
		return -1;
	if (o->sp->midstream_error) {
		if (sse_send(o, NULL, err) < 0 || conn_stream_end(o->c) < 0)
			return -1;
		return 1;
	}
	return 0;
}

/*
 * Each piece is a chunk; the last one carries finishReason and the
 * usage.  There is no end marker: the stream just ends (with `cut`,
 * before the chunk that would have had the finishReason).
 */
static int
gem_stream(struct gen *o, const char *reply, size_t rlen)
{
	const struct spec *sp = o->sp;
	struct piece *pieces = NULL, empty = { 0, 0 };
	size_t n, keep, i;
	int rc = -1, r;
	bool last;

	n = reply_pieces(reply, rlen, sp->base == BASE_BIG ? 64 : 16,
			 sp->words, &pieces);
	if (n == 0 || sp->blocked) {
		/* one chunk: an empty text part, or the prompt's block */
		free(pieces);
		pieces = &empty;
		n = 1;
	}
	keep = sp->cut ? (n + 1) / 2 : n;
	o->c->chunked = !sp->close;
	if (conn_head(o->c, 200, "text/event-stream", -1, NULL) < 0 ||
	    sse_preamble(o) < 0)
		goto out;
	for (i = 0; i < keep; i++) {
		last = i + 1 == n;
		if (gem_event(o, gem_response(o, reply + pieces[i].off,
					      pieces[i].len,
					      sp->thinking && i == 0,
					      last ? o->finish : NULL,
					      last)) < 0)
			goto out;
		if (i == 0 && (r = gem_inject(o)) != 0) {
			rc = r < 0 ? -1 : 0;
			goto out;
		}
	}
	if (!sp->cut && conn_stream_end(o->c) < 0)
		goto out;
	rc = 0;
out:
	if (pieces != &empty)
		free(pieces);
	return rc;
}

static int
gem_whole(struct gen *o, const char *reply, size_t rlen)
{
	struct sb out = SB_INIT;
	int rc;

	if (o->sp->malformed)
		return send_oops(o->c);
	json_emit(&out, gem_response(o, reply, rlen, o->sp->thinking,
				     o->finish, true), o->sp->ascii);
	rc = send_whole(o, out.ptr, out.len);
	sb_free(&out);
	return rc;
}

static const struct proto gem_proto = {
	.finish = "STOP",
	.fail = gem_fail,
	.bad = gem_bad,
	.stream = gem_stream,
	.whole = gem_whole,
};

/* POST …/models/MODEL:generateContent or :streamGenerateContent */
static int
gem_generate(struct conn *c, const char *model, bool stream)
{
	static const char *const keys[] = { "temperature", "topP",
		"maxOutputTokens", "stopSequences" };
	const cJSON *contents, *sys, *m, *role, *parts, *part, *text;
	cJSON *req, *nm;
	struct chatreq cr;
	struct sb t = SB_INIT;
	char *alt = NULL;
	const char *r;
	int rc;

	memset(&cr, 0, sizeof cr);
	req = cJSON_ParseWithLength(c->body.ptr, c->body.len);
	if (!cJSON_IsObject(req)) {
		rc = gem_bad(c, "Invalid JSON payload received.");
		goto out;
	}
	alt = query_param(c, "alt");
	if (stream && (alt == NULL || strcmp(alt, "sse") != 0)) {
		rc = gem_bad(c, "fakellm: streamGenerateContent needs "
			     "alt=sse");
		goto out;
	}
	contents = cJSON_GetObjectItemCaseSensitive(req, "contents");
	if (!cJSON_IsArray(contents) || cJSON_GetArraySize(contents) == 0) {
		rc = gem_bad(c, "* GenerateContentRequest.contents: contents "
			     "is not specified");
		goto out;
	}
	cr.msgs = cJSON_CreateArray();
	sys = cJSON_GetObjectItemCaseSensitive(req, "systemInstruction");
	cJSON_ArrayForEach(m, contents) {
		role = cJSON_GetObjectItemCaseSensitive(m, "role");
		r = cJSON_IsString(role) ? role->valuestring : "user";
		if (strcmp(r, "user") != 0 && strcmp(r, "model") != 0) {
			rc = gem_bad(c, "Please use a valid role: user, "
				     "model.");
			goto out;
		}
	}
	/* the system instruction first, then the turns, as OpenAI has
	 * them */
	if (sys != NULL) {
		t.len = 0;
		sb_grow(&t, 0);
		parts = cJSON_GetObjectItemCaseSensitive(sys, "parts");
		cJSON_ArrayForEach(part, parts) {
			text = cJSON_GetObjectItemCaseSensitive(part, "text");
			if (cJSON_IsString(text))
				sb_adds(&t, text->valuestring);
		}
		nm = cJSON_CreateObject();
		cJSON_AddStringToObject(nm, "role", "system");
		cJSON_AddStringToObject(nm, "content", sb_str(&t));
		cJSON_AddItemToArray(cr.msgs, nm);
	}
	cJSON_ArrayForEach(m, contents) {
		role = cJSON_GetObjectItemCaseSensitive(m, "role");
		r = cJSON_IsString(role) ? role->valuestring : "user";
		t.len = 0;
		sb_grow(&t, 0);
		parts = cJSON_GetObjectItemCaseSensitive(m, "parts");
		cJSON_ArrayForEach(part, parts) {
			text = cJSON_GetObjectItemCaseSensitive(part, "text");
			if (cJSON_IsString(text))
				sb_adds(&t, text->valuestring);
		}
		nm = cJSON_CreateObject();
		cJSON_AddStringToObject(nm, "role", strcmp(r, "model") == 0 ?
						     "assistant" : "user");
		cJSON_AddStringToObject(nm, "content", sb_str(&t));
		cJSON_AddItemToArray(cr.msgs, nm);
	}
	cr.model = model;
	cr.stream = stream;
	reply_params(cJSON_GetObjectItemCaseSensitive(req, "generationConfig"),
		     keys, sizeof keys / sizeof keys[0],
		     cJSON_GetArraySize(contents), &cr.params);
	rc = chat_serve(c, &gem_proto, &cr);
out:
	chatreq_release(&cr);
	sb_free(&t);
	free(alt);
	cJSON_Delete(req);
	return rc;
}

/* GET …/models (Gemini's): chat models and one embedding model. */
static int
gem_models(struct conn *c)
{
	cJSON *j = cJSON_CreateObject(), *list, *m, *meth;
	struct sb out = SB_INIT, name = SB_INIT;
	size_t i;
	int rc;

	list = cJSON_AddArrayToObject(j, "models");
	for (i = 0; i <= NMODELS; i++) {
		name.len = 0;
		sb_addf(&name, "models/%s",
			i < NMODELS ? oai_model_ids[i] : "embedding-fake");
		m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "name", name.ptr);
		cJSON_AddStringToObject(m, "version", "001");
		cJSON_AddStringToObject(m, "displayName", name.ptr + 7);
		cJSON_AddNumberToObject(m, "inputTokenLimit", 1048576);
		cJSON_AddNumberToObject(m, "outputTokenLimit", 8192);
		meth = cJSON_AddArrayToObject(m, "supportedGenerationMethods");
		cJSON_AddItemToArray(meth, cJSON_CreateString(
				     i < NMODELS ? "generateContent"
						    : "embedContent"));
		cJSON_AddItemToArray(meth, cJSON_CreateString("countTokens"));
		cJSON_AddItemToArray(list, m);
	}
	json_emit(&out, j, false);
	rc = send_json(c, 200, NULL, out.ptr, out.len);
	sb_free(&out);
	sb_free(&name);
	return rc;
}

/* ==== Ollama native API (PROTOCOLS.md section 5) ==== */

/* {"error":"…"} */
static int
oll_error(struct conn *c, int status, const char *extra, const char *msg)
{
	cJSON *root = cJSON_CreateObject();
	struct sb out = SB_INIT;
	int rc;

	cJSON_AddStringToObject(root, "error", msg);
	json_emit(&out, root, false);
	rc = send_json(c, status, extra, out.ptr, out.len);
	sb_free(&out);
	return rc;
}

static int
oll_fail(struct conn *c, long code, const char *model)
{
	struct sb msg = SB_INIT;
	const char *extra = NULL;
	int rc;

	switch (code) {
	case 401:
		sb_adds(&msg, "unauthorized");
		break;
	case 404:
		sb_addf(&msg, "model '%s' not found", model);
		break;
	case 429:
		sb_adds(&msg, "too many requests");
		extra = "retry-after: 1\r\n";
		break;
	case 500:
		sb_adds(&msg, "llama runner process has terminated: exit "
			"status 2");
		break;
	case 503:
		sb_adds(&msg, "server busy, please try again.  maximum "
			"pending requests exceeded");
		break;
	default:
		sb_addf(&msg, "fakellm: forced HTTP error %ld", code);
		break;
	}
	rc = oll_error(c, (int)code, extra, msg.ptr);
	sb_free(&msg);
	return rc;
}

static int
oll_bad(struct conn *c, const char *msg)
{
	return oll_error(c, 400, NULL, msg);
}

/* -k: `Authorization: Bearer KEY` (as ollama.com wants). */
static bool
oll_auth(struct conn *c, int *rc)
{
	if (srv.key == NULL || bearer_is_key(c))
		return true;
	*rc = oll_fail(c, 401, NULL);
	return false;
}

/*
 * One NDJSON line: text, then "\n" ("\r\n" with `crlf`); `comments`
 * puts an empty line before it.  One HTTP chunk, `gap-` before all but
 * the first.
 */
static int
oll_send(struct gen *o, const char *text)
{
	const struct spec *sp = o->sp;
	const char *eol = strcmp(sp->eol, "\r\n") == 0 ? "\r\n" : "\n";
	struct sb line = SB_INIT;
	int rc;

	if (o->nevents > 0 && sp->gap > 0 &&
	    wait_ms(o->c->fd, sp->gap, false) < 0)
		return -1;
	o->nevents++;
	sb_addf(&line, "%s%s%s", sp->comments ? eol : "", text, eol);
	rc = conn_chunk(o->c, line.ptr, line.len);
	sb_free(&line);
	return rc;
}

/* A response object: the message, and with done the final fields. */
static cJSON *
oll_object(const struct gen *o, const char *s, size_t n, bool thinking,
	   bool done)
{
	cJSON *j = cJSON_CreateObject(), *m;

	cJSON_AddStringToObject(j, "model", o->model);
	cJSON_AddStringToObject(j, "created_at", CREATED_T);
	m = cJSON_AddObjectToObject(j, "message");
	cJSON_AddStringToObject(m, "role", "assistant");
	add_strn(m, "content", s, n);
	if (thinking)
		cJSON_AddStringToObject(m, "thinking", THINKING);
	cJSON_AddBoolToObject(j, "done", done);
	if (!done)
		return j;
	cJSON_AddStringToObject(j, "done_reason", o->finish);
	cJSON_AddNumberToObject(j, "total_duration", 512000000);
	cJSON_AddNumberToObject(j, "load_duration", 1000000);
	if (!o->sp->nousage) {
		cJSON_AddNumberToObject(j, "prompt_eval_count",
					(double)o->ptok);
		cJSON_AddNumberToObject(j, "prompt_eval_duration", 90000000);
		cJSON_AddNumberToObject(j, "eval_count", (double)o->ctok);
		cJSON_AddNumberToObject(j, "eval_duration", 60000000);
	}
	return j;
}

static int
oll_line(struct gen *o, cJSON *j)
{
	struct sb out = SB_INIT;
	int rc;

	json_emit(&out, j, o->sp->ascii);
	rc = oll_send(o, out.ptr);
	sb_free(&out);
	return rc;
}

/* With `thinking`, a line of thinking first. */
static int
oll_open(struct gen *o)
{
	if (!o->sp->thinking)
		return 0;
	return oll_line(o, oll_object(o, "", 0, true, false));
}

static int
oll_piece(struct gen *o, const char *s, size_t n)
{
	return oll_line(o, oll_object(o, s, n, false, false));
}

static int
oll_malformed(struct gen *o)
{
	return oll_send(o, "{\"model\":\"x\",\"message\":{\"content\":");
}

static int
oll_errevent(struct gen *o)
{
	return oll_send(o, "{\"error\":\"an error was encountered while "
			"running the model: unexpected EOF\"}");
}

/* The done line. */
static int
oll_close(struct gen *o)
{
	if (oll_line(o, oll_object(o, "", 0, false, true)) < 0)
		return -1;
	return conn_stream_end(o->c);
}

static const struct writer oll_writer = {
	.ctype = "application/x-ndjson",
	.open = oll_open,
	.piece = oll_piece,
	.malformed = oll_malformed,
	.error = oll_errevent,
	.close = oll_close,
};

static int
oll_stream(struct gen *o, const char *reply, size_t rlen)
{
	return stream_run(o, &oll_writer, reply, rlen);
}

static int
oll_whole(struct gen *o, const char *reply, size_t rlen)
{
	struct sb out = SB_INIT;
	int rc;

	if (o->sp->malformed)
		return send_oops(o->c);
	json_emit(&out, oll_object(o, reply, rlen, o->sp->thinking, true),
		  o->sp->ascii);
	rc = send_whole(o, out.ptr, out.len);
	sb_free(&out);
	return rc;
}

static const struct proto oll_proto = {
	.finish = "stop",
	.fail = oll_fail,
	.bad = oll_bad,
	.stream = oll_stream,
	.whole = oll_whole,
};

/* POST /api/chat: streamed unless "stream" is false. */
static int
oll_chat(struct conn *c)
{
	static const char *const keys[] = { "temperature", "top_p",
		"num_predict", "stop" };
	const cJSON *model, *messages, *stream;
	cJSON *req;
	struct chatreq cr;
	int rc;

	memset(&cr, 0, sizeof cr);
	req = cJSON_ParseWithLength(c->body.ptr, c->body.len);
	if (!cJSON_IsObject(req)) {
		rc = oll_bad(c, "invalid character in the request body");
		goto out;
	}
	model = cJSON_GetObjectItemCaseSensitive(req, "model");
	messages = cJSON_GetObjectItemCaseSensitive(req, "messages");
	stream = cJSON_GetObjectItemCaseSensitive(req, "stream");
	if (!cJSON_IsString(model) || *model->valuestring == '\0') {
		rc = oll_bad(c, "model is required");
		goto out;
	}
	cr.msgs = cJSON_IsArray(messages) ? cJSON_Duplicate(messages, 1)
					  : cJSON_CreateArray();
	cr.model = model->valuestring;
	cr.stream = !cJSON_IsFalse(stream);
	reply_params(cJSON_GetObjectItemCaseSensitive(req, "options"), keys,
		     sizeof keys / sizeof keys[0],
		     cJSON_GetArraySize(cr.msgs), &cr.params);
	rc = chat_serve(c, &oll_proto, &cr);
out:
	chatreq_release(&cr);
	cJSON_Delete(req);
	return rc;
}

/* GET /api/tags */
static int
oll_tags(struct conn *c)
{
	cJSON *j = cJSON_CreateObject(), *list, *m, *d, *fam;
	struct sb out = SB_INIT, name = SB_INIT;
	size_t i;
	int rc;

	list = cJSON_AddArrayToObject(j, "models");
	for (i = 0; i < NMODELS; i++) {
		name.len = 0;
		sb_addf(&name, "%s:latest", oai_model_ids[i]);
		m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "name", name.ptr);
		cJSON_AddStringToObject(m, "model", name.ptr);
		cJSON_AddStringToObject(m, "modified_at", CREATED_T);
		cJSON_AddNumberToObject(m, "size", 1000000);
		cJSON_AddStringToObject(m, "digest", "sha256:fake");
		d = cJSON_AddObjectToObject(m, "details");
		cJSON_AddStringToObject(d, "format", "gguf");
		cJSON_AddStringToObject(d, "family", "fake");
		fam = cJSON_AddArrayToObject(d, "families");
		cJSON_AddItemToArray(fam, cJSON_CreateString("fake"));
		cJSON_AddStringToObject(d, "parameter_size", "1B");
		cJSON_AddStringToObject(d, "quantization_level", "Q4_0");
		cJSON_AddItemToArray(list, m);
	}
	json_emit(&out, j, false);
	rc = send_json(c, 200, NULL, out.ptr, out.len);
	sb_free(&out);
	sb_free(&name);
	return rc;
}

/* ==== Amazon Bedrock Converse (PROTOCOLS.md section 6) ==== */

#define AWS_NS ":http://internal.amazon.com/coral/com.amazon.bedrock/"
#define BED_LATENCY 100 /* metrics.latencyMs */
#define BED_BAD_TOKEN "The security token included in the request is invalid."
#define BED_MISMATCH "The request signature we calculated does not match " \
	"the signature you provided. Check your AWS Secret Access Key and " \
	"signing method. Consult the service documentation for details."
#define BED_BAD_MODEL "The provided model identifier is invalid."
#define BED_MALFORMED "Malformed input request, please reformat your " \
	"input and try again."
#define BED_EXTRA_ID "fakellm.echo-v1:0" /* the listing's last id */

/*
 * {"message":M} with `x-amzn-ErrorType: TYPE:…`, as AWS's rest-json
 * services answer (botocore takes the name before the ':').
 */
static int
aws_error(struct conn *c, int status, const char *type, const char *msg,
	  const char *extra)
{
	cJSON *root = cJSON_CreateObject();
	struct sb out = SB_INIT, head = SB_INIT;
	int rc;

	cJSON_AddStringToObject(root, "message", msg);
	json_emit(&out, root, false);
	sb_addf(&head, "x-amzn-ErrorType: %s" AWS_NS "\r\n%s", type,
		extra ? extra : "");
	rc = send_json(c, status, head.ptr, out.ptr, out.len);
	sb_free(&out);
	sb_free(&head);
	return rc;
}

static const struct bed_error {
	long code;
	const char *type, *msg, *extra;
} bed_errors[] = {
	{ 400, "ValidationException", BED_MALFORMED, NULL },
	{ 401, "UnrecognizedClientException", BED_BAD_TOKEN, NULL },
	{ 403, "AccessDeniedException", "You don't have access to the model "
	  "with the specified model ID.", NULL },
	{ 404, "ResourceNotFoundException", "Could not resolve the "
	  "foundation model from the provided model identifier.", NULL },
	{ 408, "ModelTimeoutException", "Model has timed out in processing "
	  "the request. Try your request again.", NULL },
	{ 424, "ModelErrorException", "The model returned an error. Try "
	  "your request again.", NULL },
	{ 429, "ThrottlingException", "Too many requests, please wait before "
	  "trying again.", "retry-after: 1\r\n" },
	{ 500, "InternalServerException", "The system encountered an "
	  "unexpected error during processing. Try your request again.",
	  NULL },
	{ 503, "ServiceUnavailableException", "Bedrock is unable to process "
	  "your request.", "retry-after: 1\r\n" },
};

static int
bed_fail(struct conn *c, long code, const char *model)
{
	struct sb msg = SB_INIT;
	size_t i;
	int rc;

	(void)model;
	for (i = 0; i < sizeof bed_errors / sizeof bed_errors[0]; i++)
		if (bed_errors[i].code == code)
			return aws_error(c, (int)code, bed_errors[i].type,
					 bed_errors[i].msg,
					 bed_errors[i].extra);
	sb_addf(&msg, "fakellm: forced HTTP error %ld", code);
	rc = aws_error(c, (int)code, code < 500 ? "ValidationException"
						: "InternalServerException",
		       msg.ptr, NULL);
	sb_free(&msg);
	return rc;
}

static int
bed_bad(struct conn *c, const char *msg)
{
	return aws_error(c, 400, "ValidationException", msg, NULL);
}

/* An unknown base name: what Bedrock says of a model id it does not know. */
static int
bed_unknown(struct conn *c, const char *model)
{
	(void)model;
	return bed_bad(c, BED_BAD_MODEL);
}

/* CRC-32 (IEEE 802.3, as zlib's crc32()) of n bytes of p after crc. */
static uint32_t
crc32_ieee(uint32_t crc, const void *p, size_t n)
{
	static uint32_t table[256];
	static bool ready;
	const unsigned char *b = p;
	uint32_t v;
	int i, k;

	if (!ready) {
		for (i = 0; i < 256; i++) {
			v = (uint32_t)i;
			for (k = 0; k < 8; k++)
				v = v & 1 ? 0xedb88320u ^ (v >> 1) : v >> 1;
			table[i] = v;
		}
		ready = true;
	}
	crc = ~crc;
	while (n-- > 0)
		crc = table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void
put_be32(struct sb *b, uint32_t v)
{
	unsigned char p[4];

	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	sb_add(b, p, 4);
}

/* An event-stream header whose value is a string (type 7). */
static void
es_header(struct sb *h, const char *name, const char *value)
{
	unsigned char t[3], nl = (unsigned char)strlen(name);
	size_t vl = strlen(value);

	sb_add(h, &nl, 1);
	sb_add(h, name, nl);
	t[0] = 7;
	t[1] = (unsigned char)(vl >> 8);
	t[2] = (unsigned char)vl;
	sb_add(h, t, 3);
	sb_add(h, value, vl);
}

/*
 * An event-stream message: total length, headers length, the prelude's
 * CRC, the headers, the payload, the CRC of all that; integers
 * big-endian.  An event (:event-type name) or, exception, an exception
 * (:exception-type name), whose payload is JSON text.
 */
static void
es_message(struct sb *out, bool exception, const char *name,
	   const char *json)
{
	struct sb h = SB_INIT;
	size_t start = out->len, n = strlen(json);

	es_header(&h, exception ? ":exception-type" : ":event-type", name);
	es_header(&h, ":content-type", "application/json");
	es_header(&h, ":message-type", exception ? "exception" : "event");
	put_be32(out, (uint32_t)(16 + h.len + n));
	put_be32(out, (uint32_t)h.len);
	put_be32(out, crc32_ieee(0, out->ptr + start, 8));
	sb_add(out, h.ptr, h.len);
	sb_add(out, json, n);
	put_be32(out, crc32_ieee(0, out->ptr + start, out->len - start));
	sb_free(&h);
}

/*
 * Send one message as an HTTP chunk, `gap-` before all but the first;
 * after `badcrc`, with one bit of its message CRC flipped.
 */
static int
bed_send(struct gen *o, bool exception, const char *name, const char *json)
{
	struct sb m = SB_INIT;
	int rc;

	if (o->nevents > 0 && o->sp->gap > 0 &&
	    wait_ms(o->c->fd, o->sp->gap, false) < 0)
		return -1;
	o->nevents++;
	es_message(&m, exception, name, json);
	if (o->corrupt) {
		m.ptr[m.len - 1] ^= 0x01;
		o->corrupt = false;
	}
	rc = conn_chunk(o->c, m.ptr, m.len);
	sb_free(&m);
	return rc;
}

/* Event name whose payload is j with the random-looking padding "p"
 * that Bedrock adds (here of a length that varies with the event);
 * consumes j. */
static int
bed_event(struct gen *o, const char *name, cJSON *j)
{
	static const char pad[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
		"OPQRSTUVWXYZ0123456789";
	struct sb out = SB_INIT;
	int rc;

	add_strn(j, "p", pad, 1 + (size_t)o->nevents * 7 % 24);
	json_emit(&out, j, o->sp->ascii);
	rc = bed_send(o, false, name, out.ptr);
	sb_free(&out);
	return rc;
}

static cJSON *
bed_index(int idx)
{
	cJSON *j = cJSON_CreateObject();

	cJSON_AddNumberToObject(j, "contentBlockIndex", idx);
	return j;
}

/* contentBlockDelta: {"delta":{FIELD:…}}, or {"delta":{KIND:{FIELD:…}}}. */
static int
bed_delta(struct gen *o, int idx, const char *kind, const char *field,
	  const char *s, size_t n)
{
	cJSON *j = bed_index(idx), *d;

	d = cJSON_AddObjectToObject(j, "delta");
	if (kind != NULL)
		d = cJSON_AddObjectToObject(d, kind);
	add_strn(d, field, s, n);
	return bed_event(o, "contentBlockDelta", j);
}

static void
bed_usage(const struct gen *o, cJSON *parent)
{
	cJSON *u;

	if (o->sp->nousage)
		return;
	u = cJSON_AddObjectToObject(parent, "usage");
	cJSON_AddNumberToObject(u, "inputTokens", (double)o->ptok);
	cJSON_AddNumberToObject(u, "outputTokens", (double)o->ctok);
	cJSON_AddNumberToObject(u, "totalTokens", (double)(o->ptok + o->ctok));
}

/* messageStart; with `thinking`, a reasoning block at index 0. */
static int
bed_open(struct gen *o)
{
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "role", "assistant");
	if (bed_event(o, "messageStart", j) < 0)
		return -1;
	if (!o->sp->thinking)
		return 0;
	if (bed_delta(o, 0, "reasoningContent", "text", THINKING,
		      strlen(THINKING)) < 0 ||
	    bed_delta(o, 0, "reasoningContent", "signature", ANTH_SIG,
		      strlen(ANTH_SIG)) < 0 ||
	    bed_event(o, "contentBlockStop", bed_index(0)) < 0)
		return -1;
	o->idx = 1;
	return 0;
}

static int
bed_piece(struct gen *o, const char *s, size_t n)
{
	return bed_delta(o, o->idx, NULL, "text", s, n);
}

/* A contentBlockDelta event whose payload is not JSON (CRCs intact). */
static int
bed_malformed(struct gen *o)
{
	return bed_send(o, false, "contentBlockDelta",
			"{\"contentBlockIndex\":0,\"delta\":{\"text\":");
}

static int
bed_errevent(struct gen *o)
{
	return bed_send(o, true, "throttlingException", "{\"message\":\"Too "
			"many tokens, please wait before trying again.\"}");
}

/* `cut`: the first half of the message that would come next. */
static int
bed_cut(struct gen *o)
{
	struct sb m = SB_INIT;
	int rc;

	es_message(&m, false, "contentBlockStop", "{\"contentBlockIndex\":0}");
	rc = conn_chunk(o->c, m.ptr, m.len / 2);
	sb_free(&m);
	return rc;
}

/* contentBlockStop, messageStop (not with `nostop`), metadata. */
static int
bed_close(struct gen *o)
{
	cJSON *j, *m;

	if (o->npieces > 0 &&
	    bed_event(o, "contentBlockStop", bed_index(o->idx)) < 0)
		return -1;
	if (!o->sp->nostop) {
		j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "stopReason", o->finish);
		if (bed_event(o, "messageStop", j) < 0)
			return -1;
	}
	j = cJSON_CreateObject();
	bed_usage(o, j);
	m = cJSON_AddObjectToObject(j, "metrics");
	cJSON_AddNumberToObject(m, "latencyMs", BED_LATENCY);
	if (bed_event(o, "metadata", j) < 0)
		return -1;
	return conn_stream_end(o->c);
}

static const struct writer bed_writer = {
	.ctype = "application/vnd.amazon.eventstream",
	.open = bed_open,
	.piece = bed_piece,
	.malformed = bed_malformed,
	.error = bed_errevent,
	.cut = bed_cut,
	.close = bed_close,
};

static int
bed_stream(struct gen *o, const char *reply, size_t rlen)
{
	return stream_run(o, &bed_writer, reply, rlen);
}

/* A ConverseResponse, its members in the order Bedrock sends them. */
static int
bed_whole(struct gen *o, const char *reply, size_t rlen)
{
	cJSON *j, *m, *content, *b, *r;
	struct sb out = SB_INIT;
	int rc;

	if (o->sp->malformed)
		return send_oops(o->c);
	j = cJSON_CreateObject();
	m = cJSON_AddObjectToObject(j, "metrics");
	cJSON_AddNumberToObject(m, "latencyMs", BED_LATENCY);
	m = cJSON_AddObjectToObject(cJSON_AddObjectToObject(j, "output"),
				    "message");
	content = cJSON_AddArrayToObject(m, "content");
	if (o->sp->thinking) {
		b = cJSON_CreateObject();
		r = cJSON_AddObjectToObject(cJSON_AddObjectToObject(b,
				"reasoningContent"), "reasoningText");
		cJSON_AddStringToObject(r, "signature", ANTH_SIG);
		cJSON_AddStringToObject(r, "text", THINKING);
		cJSON_AddItemToArray(content, b);
	}
	if (rlen > 0) {
		b = cJSON_CreateObject();
		add_strn(b, "text", reply, rlen);
		cJSON_AddItemToArray(content, b);
	}
	cJSON_AddStringToObject(m, "role", "assistant");
	cJSON_AddStringToObject(j, "stopReason", o->finish);
	bed_usage(o, j);
	json_emit(&out, j, o->sp->ascii);
	rc = send_whole(o, out.ptr, out.len);
	sb_free(&out);
	return rc;
}

static const struct proto bed_proto = {
	.finish = "end_turn",
	.fail = bed_fail,
	.bad = bed_bad,
	.stream = bed_stream,
	.whole = bed_whole,
	.unknown = bed_unknown,
};

/* Whether the model-string token s[0..n) is a base name or an option. */
static bool
spec_known(const char *s, size_t n)
{
	struct spec sp;
	char *tok = xstrndup(s, n);
	bool known;

	memset(&sp, 0, sizeof sp);
	known = spec_base(&sp, tok) == 0 || spec_option(&sp, tok) == 0;
	spec_release(&sp);
	free(tok);
	return known;
}

/*
 * The model string in a Bedrock model id (decoded): of an ARN, what
 * follows its last '/'; then, while the first '+'-separated part is
 * neither a base name nor an option, what follows its first '.' (the
 * inference profile's region group, the vendor); and without the
 * version, ":…" at the end of that part.  So "anthropic.echo-v1:0+split"
 * and "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.echo"
 * are "echo-v1+split" and "echo".  Malloc'ed.
 */
static char *
bed_model_string(const char *id)
{
	const char *s = id, *end, *base_end, *dot, *colon;
	struct sb out = SB_INIT;

	if (strncmp(s, "arn:", 4) == 0 && strrchr(s, '/') != NULL)
		s = strrchr(s, '/') + 1;
	for (;;) {
		end = strchr(s, '+');
		if (end == NULL)
			end = s + strlen(s);
		colon = memchr(s, ':', (size_t)(end - s));
		base_end = colon ? colon : end;
		if (spec_known(s, (size_t)(base_end - s)))
			break;
		dot = memchr(s, '.', (size_t)(base_end - s));
		if (dot == NULL)
			break;
		s = dot + 1;
	}
	sb_add(&out, s, (size_t)(base_end - s));
	sb_adds(&out, end);
	return out.ptr;
}

/* Whether every byte of s is whitespace. */
static bool
blank(const char *s)
{
	for (; *s; s++)
		if (!is_ws(*s))
			return false;
	return true;
}

/* A number of inferenceConfig out of [min, max] (max < 0: no bound). */
static bool
bed_range(const cJSON *cfg, const char *key, double min, double max,
	  struct sb *msg)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);

	if (v == NULL)
		return false;
	if (!cJSON_IsNumber(v)) {
		sb_addf(msg, "fakellm: inferenceConfig.%s must be a number",
			key);
		return true;
	}
	if (v->valuedouble < min)
		sb_addf(msg, "1 validation error detected: Value '%g' at "
			"'inferenceConfig.%s' failed to satisfy constraint: "
			"Member must have value greater than or equal to %g",
			v->valuedouble, key, min);
	else if (max >= 0 && v->valuedouble > max)
		sb_addf(msg, "1 validation error detected: Value '%g' at "
			"'inferenceConfig.%s' failed to satisfy constraint: "
			"Member must have value less than or equal to %g",
			v->valuedouble, key, max);
	return msg->len > 0;
}

/* Whether the request breaks one of Bedrock's rules; why, in msg. */
static bool
bed_invalid(const cJSON *req, struct sb *msg)
{
	const cJSON *messages, *m, *role, *content, *b, *text, *cfg, *sys;
	const char *prev = NULL;
	int i = 0, k;

	messages = cJSON_GetObjectItemCaseSensitive(req, "messages");
	if (!cJSON_IsArray(messages)) {
		sb_adds(msg, "1 validation error detected: Value null at "
			"'messages' failed to satisfy constraint: Member must "
			"not be null");
		return true;
	}
	cJSON_ArrayForEach(m, messages) {
		role = cJSON_GetObjectItemCaseSensitive(m, "role");
		content = cJSON_GetObjectItemCaseSensitive(m, "content");
		if (!cJSON_IsString(role) ||
		    (strcmp(role->valuestring, "user") != 0 &&
		     strcmp(role->valuestring, "assistant") != 0)) {
			sb_addf(msg, "1 validation error detected: Value '%s' "
				"at 'messages.%d.member.role' failed to "
				"satisfy constraint: Member must satisfy enum "
				"value set: [user, assistant]",
				cJSON_IsString(role) ? role->valuestring
						     : "null", i + 1);
			return true;
		}
		if (i == 0 && strcmp(role->valuestring, "user") != 0) {
			sb_adds(msg, "A conversation must start with a user "
				"message. Try again with a conversation that "
				"starts with a user message.");
			return true;
		}
		if (prev != NULL && strcmp(prev, role->valuestring) == 0) {
			sb_adds(msg, "A conversation must alternate between "
				"user and assistant roles. Make sure the "
				"conversation alternates between user and "
				"assistant roles and try again.");
			return true;
		}
		prev = role->valuestring;
		if (!cJSON_IsArray(content)) {
			sb_addf(msg, "fakellm: messages.%d.content must be an "
				"array of ContentBlock", i);
			return true;
		}
		k = 0;
		cJSON_ArrayForEach(b, content) {
			text = cJSON_GetObjectItemCaseSensitive(b, "text");
			if (text != NULL && (!cJSON_IsString(text) ||
					     blank(text->valuestring))) {
				sb_addf(msg, "The text field in the "
					"ContentBlock object at "
					"messages.%d.content.%d is blank. Add "
					"text to the text field, and try "
					"again.", i, k);
				return true;
			}
			k++;
		}
		i++;
	}
	sys = cJSON_GetObjectItemCaseSensitive(req, "system");
	if (sys != NULL && !cJSON_IsArray(sys)) {
		sb_adds(msg, "fakellm: system must be an array of "
			"SystemContentBlock");
		return true;
	}
	cfg = cJSON_GetObjectItemCaseSensitive(req, "inferenceConfig");
	if (cfg == NULL)
		return false;
	if (!cJSON_IsObject(cfg)) {
		sb_adds(msg, "fakellm: inferenceConfig must be an object");
		return true;
	}
	return bed_range(cfg, "maxTokens", 1, -1, msg) ||
	       bed_range(cfg, "temperature", 0, 1, msg) ||
	       bed_range(cfg, "topP", 0, 1, msg);
}

/* POST …/model/ID/converse or …/converse-stream; id decoded. */
static int
bed_converse(struct conn *c, const char *id, bool stream)
{
	static const char *const keys[] = { "temperature", "topP",
		"maxTokens", "stopSequences" };
	const cJSON *messages, *m, *sys;
	cJSON *req, *nm;
	struct chatreq cr;
	struct sb t = SB_INIT, msg = SB_INIT;
	char *model = NULL;
	int rc;

	memset(&cr, 0, sizeof cr);
	req = cJSON_ParseWithLength(c->body.ptr, c->body.len);
	if (!cJSON_IsObject(req)) {
		rc = bed_bad(c, BED_MALFORMED);
		goto out;
	}
	if (bed_invalid(req, &msg)) {
		rc = bed_bad(c, msg.ptr);
		goto out;
	}
	messages = cJSON_GetObjectItemCaseSensitive(req, "messages");
	sys = cJSON_GetObjectItemCaseSensitive(req, "system");
	cr.msgs = cJSON_CreateArray();
	if (sys != NULL) {
		content_text(sys, &t);
		nm = cJSON_CreateObject();
		cJSON_AddStringToObject(nm, "role", "system");
		cJSON_AddStringToObject(nm, "content", sb_str(&t));
		cJSON_AddItemToArray(cr.msgs, nm);
	}
	cJSON_ArrayForEach(m, messages) {
		t.len = 0;
		sb_grow(&t, 0);
		content_text(cJSON_GetObjectItemCaseSensitive(m, "content"),
			     &t);
		nm = cJSON_CreateObject();
		cJSON_AddStringToObject(nm, "role", msg_role(m));
		cJSON_AddStringToObject(nm, "content", sb_str(&t));
		cJSON_AddItemToArray(cr.msgs, nm);
	}
	model = bed_model_string(id);
	cr.model = model;
	cr.stream = stream;
	reply_params(cJSON_GetObjectItemCaseSensitive(req, "inferenceConfig"),
		     keys, sizeof keys / sizeof keys[0],
		     cJSON_GetArraySize(messages), &cr.params);
	rc = chat_serve(c, &bed_proto, &cr);
out:
	chatreq_release(&cr);
	free(model);
	sb_free(&t);
	sb_free(&msg);
	cJSON_Delete(req);
	return rc;
}

/* GET …/foundation-models: the usual ids, then BED_EXTRA_ID. */
static int
bed_models(struct conn *c)
{
	cJSON *j = cJSON_CreateObject(), *list, *m, *a;
	struct sb out = SB_INIT, arn = SB_INIT;
	const char *id;
	size_t i;
	int rc;

	list = cJSON_AddArrayToObject(j, "modelSummaries");
	for (i = 0; i <= NMODELS; i++) {
		id = i < NMODELS ? oai_model_ids[i] : BED_EXTRA_ID;
		arn.len = 0;
		sb_addf(&arn, "arn:aws:bedrock:%s::foundation-model/%s",
			srv.region, id);
		m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "modelArn", arn.ptr);
		cJSON_AddStringToObject(m, "modelId", id);
		cJSON_AddStringToObject(m, "modelName", id);
		cJSON_AddStringToObject(m, "providerName", "fakellm");
		a = cJSON_AddArrayToObject(m, "inputModalities");
		cJSON_AddItemToArray(a, cJSON_CreateString("TEXT"));
		a = cJSON_AddArrayToObject(m, "outputModalities");
		cJSON_AddItemToArray(a, cJSON_CreateString("TEXT"));
		cJSON_AddTrueToObject(m, "responseStreamingSupported");
		cJSON_AddArrayToObject(m, "customizationsSupported");
		a = cJSON_AddArrayToObject(m, "inferenceTypesSupported");
		cJSON_AddItemToArray(a, cJSON_CreateString("ON_DEMAND"));
		a = cJSON_AddObjectToObject(m, "modelLifecycle");
		cJSON_AddStringToObject(a, "status", "ACTIVE");
		cJSON_AddItemToArray(list, m);
	}
	json_emit(&out, j, false);
	rc = send_json(c, 200, NULL, out.ptr, out.len);
	sb_free(&out);
	sb_free(&arn);
	return rc;
}

/* ==== AWS Signature Version 4, verified ==== */

/*
 * Written from AWS's "Create a signed AWS API request" (Signature
 * Version 4), not from lib/sigv4.c: the fake must catch the client's
 * mistakes, not share them.  Only SHA-256 and HMAC come from lib/.
 */

static bool
aws_unreserved(unsigned char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' ||
	       ch == '_' || ch == '~';
}

/* s[0..n) URI-encoded as AWS does: all but the unreserved bytes (and
 * '/' if slash) as %XX with uppercase hex. */
static void
aws_encode(struct sb *out, const char *s, size_t n, bool slash)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned char ch;
	char e[3];
	size_t i;

	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if (aws_unreserved(ch) || (slash && ch == '/')) {
			sb_add(out, s + i, 1);
			continue;
		}
		e[0] = '%';
		e[1] = hex[ch >> 4];
		e[2] = hex[ch & 15];
		sb_add(out, e, 3);
	}
}

struct seg {
	const char *p;
	size_t n;
};

/*
 * The canonical URI: the path as received, its empty and "." segments
 * dropped and ".." taking the one before away (RFC 3986 5.2.4), then
 * URI-encoded once more: "/model/a%3A0/converse" is
 * "/model/a%253A0/converse".
 */
static void
canon_uri(struct sb *out, const char *path)
{
	struct seg *segs = NULL;
	struct sb norm = SB_INIT;
	size_t nseg = 0, i, len;
	const char *p = path, *q;

	while (*p) {
		while (*p == '/')
			p++;
		for (q = p; *q && *q != '/'; q++)
			;
		len = (size_t)(q - p);
		if (len == 2 && p[0] == '.' && p[1] == '.') {
			if (nseg > 0)
				nseg--;
		} else if (len > 0 && !(len == 1 && p[0] == '.')) {
			segs = xrealloc(segs, (nseg + 1) * sizeof *segs);
			segs[nseg].p = p;
			segs[nseg].n = len;
			nseg++;
		}
		p = q;
	}
	for (i = 0; i < nseg; i++) {
		sb_adds(&norm, "/");
		sb_add(&norm, segs[i].p, segs[i].n);
	}
	if (nseg == 0 || path[strlen(path) - 1] == '/')
		sb_adds(&norm, "/");
	aws_encode(out, norm.ptr, norm.len, true);
	sb_free(&norm);
	free(segs);
}

struct qparam {
	char *name, *value; /* encoded */
};

static int
qparam_cmp(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	return r != 0 ? r : strcmp(x->value, y->value);
}

/* s[0..n) decoded and encoded again, malloc'ed. */
static char *
reencode(const char *s, size_t n)
{
	struct sb out = SB_INIT;
	char *raw = pct_decode(s, n);

	sb_grow(&out, 0);
	aws_encode(&out, raw, strlen(raw), false);
	free(raw);
	return out.ptr;
}

/* The canonical query string: name=value pairs encoded again, sorted. */
static void
canon_query(struct sb *out, const char *query)
{
	struct qparam *ps = NULL;
	const char *p = query, *amp, *eq;
	size_t np = 0, i;

	while (*p) {
		amp = strchr(p, '&');
		if (amp == NULL)
			amp = p + strlen(p);
		if (amp > p) {
			eq = memchr(p, '=', (size_t)(amp - p));
			if (eq == NULL)
				eq = amp;
			ps = xrealloc(ps, (np + 1) * sizeof *ps);
			ps[np].name = reencode(p, (size_t)(eq - p));
			ps[np].value = eq < amp ? reencode(eq + 1,
					(size_t)(amp - eq - 1)) : xstrdup("");
			np++;
		}
		p = *amp ? amp + 1 : amp;
	}
	if (np > 1)
		qsort(ps, np, sizeof *ps, qparam_cmp);
	for (i = 0; i < np; i++) {
		sb_addf(out, "%s%s=%s", i ? "&" : "", ps[i].name, ps[i].value);
		free(ps[i].name);
		free(ps[i].value);
	}
	free(ps);
}

/* A header value trimmed, each run of blanks inside it one space. */
static void
canon_value(struct sb *out, const char *v)
{
	bool space = false;

	while (*v == ' ' || *v == '\t')
		v++;
	for (; *v; v++) {
		if (*v == ' ' || *v == '\t') {
			space = true;
			continue;
		}
		if (space)
			sb_adds(out, " ");
		space = false;
		sb_add(out, v, 1);
	}
}

static void
hex_sha256(const void *p, size_t n, char hex[SHA256_HEX_LEN + 1])
{
	unsigned char d[SHA256_LEN];

	sha256(p, n, d);
	sha256_hex(d, sizeof d, hex);
}

/* "YYYYMMDDTHHMMSSZ" as seconds since the epoch; false if malformed. */
static bool
amz_time(const char *s, time_t *out)
{
	static const int width[6] = { 4, 2, 2, 2, 2, 2 };
	long f[6], y, m, era, yoe, doy, days;
	int i, k, w;

	if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return false;
	for (i = 0, k = 0; i < 6; i++) {
		if (k == 8)
			k++; /* the 'T' */
		f[i] = 0;
		for (w = 0; w < width[i]; w++, k++) {
			if (s[k] < '0' || s[k] > '9')
				return false;
			f[i] = f[i] * 10 + (s[k] - '0');
		}
	}
	if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 ||
	    f[4] > 59 || f[5] > 60)
		return false;
	/* days since 1970-01-01 of the civil date (H. Hinnant) */
	y = f[0] - (f[1] <= 2);
	m = f[1];
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + f[2] - 1;
	days = era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
	*out = (time_t)(days * 86400 + f[3] * 3600 + f[4] * 60 + f[5]);
	return true;
}

static void
amz_format(time_t t, char out[17])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
		memcpy(out, "19700101T000000Z", 17);
}

/* The parts of an Authorization header, malloc'ed. */
struct v4auth {
	char *credential, *signed_headers, *signature;
};

static void
v4auth_free(struct v4auth *a)
{
	free(a->credential);
	free(a->signed_headers);
	free(a->signature);
}

/* Parse "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…"
 * (in any order, blanks around the commas optional); false if the
 * algorithm is another. */
static bool
v4auth_parse(const char *h, struct v4auth *a)
{
	static const char alg[] = "AWS4-HMAC-SHA256";
	const char *p, *eq, *end;
	char **dst;

	memset(a, 0, sizeof *a);
	if (strncmp(h, alg, sizeof alg - 1) != 0 ||
	    (h[sizeof alg - 1] != ' ' && h[sizeof alg - 1] != '\0'))
		return false;
	p = h + sizeof alg - 1;
	for (;;) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		for (end = p; *end && *end != ','; end++)
			;
		eq = memchr(p, '=', (size_t)(end - p));
		dst = NULL;
		if (eq != NULL && eq - p == 10 &&
		    strncmp(p, "Credential", 10) == 0)
			dst = &a->credential;
		else if (eq != NULL && eq - p == 13 &&
			 strncmp(p, "SignedHeaders", 13) == 0)
			dst = &a->signed_headers;
		else if (eq != NULL && eq - p == 9 &&
			 strncmp(p, "Signature", 9) == 0)
			dst = &a->signature;
		if (dst != NULL) {
			while (end > eq + 1 && end[-1] == ' ')
				end--;
			free(*dst);
			*dst = xstrndup(eq + 1, (size_t)(end - eq - 1));
		}
		for (p = end; *p && *p != ','; p++)
			;
	}
	return true;
}

/* Whether list (names joined with ';') has name. */
static bool
list_has(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p = list, *e;

	for (;;) {
		e = strchr(p, ';');
		if (e == NULL)
			e = p + strlen(p);
		if ((size_t)(e - p) == n && strncmp(p, name, n) == 0)
			return true;
		if (*e == '\0')
			return false;
		p = e + 1;
	}
}

/* The verdict of a check that failed. */
struct verdict {
	int status;       /* 0: accepted */
	const char *type; /* the exception's name */
	struct sb msg;    /* its message */
	struct sb why;    /* for the log, when msg does not say */
};

static int
refuse(struct verdict *v, int status, const char *type, const char *msg)
{
	v->status = status;
	v->type = type;
	sb_adds(&v->msg, msg);
	return status;
}

/*
 * The canonical headers of the request for the names in list, and the
 * payload's hash: the rest of the canonical request after the query.
 * false, with why, if a name is missing or the list is not lowercase,
 * sorted and without repeats.
 */
static bool
canon_headers(const struct conn *c, const char *list, struct sb *creq,
	      struct sb *why)
{
	const char *p = list, *e, *v, *s;
	struct sb prev = SB_INIT, name = SB_INIT;
	bool ok = true;
	char hex[SHA256_HEX_LEN + 1];

	while (ok) {
		e = strchr(p, ';');
		if (e == NULL)
			e = p + strlen(p);
		name.len = 0;
		sb_add(&name, p, (size_t)(e - p));
		for (s = name.ptr; *s; s++)
			if (*s >= 'A' && *s <= 'Z')
				ok = false;
		if (!ok || name.len == 0 ||
		    (prev.len > 0 && strcmp(prev.ptr, name.ptr) >= 0)) {
			sb_adds(why, "SignedHeaders are not lowercase, "
				"sorted and unique");
			ok = false;
			break;
		}
		v = conn_header(c, name.ptr);
		if (v == NULL) {
			sb_addf(why, "signed header '%s' was not sent",
				name.ptr);
			ok = false;
			break;
		}
		sb_addf(creq, "%s:", name.ptr);
		canon_value(creq, v);
		sb_adds(creq, "\n");
		prev.len = 0;
		sb_adds(&prev, name.ptr);
		if (*e == '\0')
			break;
		p = e + 1;
	}
	if (ok) {
		hex_sha256(c->body.ptr ? c->body.ptr : "", c->body.len, hex);
		sb_addf(creq, "\n%s\n%s", list, hex);
	}
	sb_free(&prev);
	sb_free(&name);
	return ok;
}

/*
 * Check a SigV4-signed request against -a, -S, -r and -T in the order
 * AWS does; 0 if it holds, else the status of the refusal in v.  What
 * was checked goes to note.
 */
static int
sigv4_verify(const struct conn *c, const char *h, cJSON *note,
	     struct verdict *v)
{
	struct v4auth a;
	struct sb creq = SB_INIT, sts = SB_INIT, key0 = SB_INIT;
	const char *amz = conn_header(c, "x-amz-date");
	const char *token = conn_header(c, "x-amz-security-token");
	const char *sha = conn_header(c, "x-amz-content-sha256");
	char *part[5] = { NULL, NULL, NULL, NULL, NULL }, *cred = NULL, *s;
	char hex[SHA256_HEX_LEN + 1], sig[SHA256_HEX_LEN + 1], t1[17], t2[17];
	unsigned char k1[SHA256_LEN], k2[SHA256_LEN];
	time_t when = 0, now = time(NULL) + srv.skew;
	int n = 0;

	if (!v4auth_parse(h, &a)) {
		refuse(v, 403, "IncompleteSignatureException", "");
		sb_addf(&v->msg, "Unsupported AWS 'algorithm': '%.*s'",
			(int)strcspn(h, " "), h);
		goto out;
	}
	if (!a.credential || !a.signature || !a.signed_headers) {
		refuse(v, 403, "IncompleteSignatureException", "");
		if (!a.credential)
			sb_adds(&v->msg, "Authorization header requires "
				"'Credential' parameter. ");
		if (!a.signature)
			sb_adds(&v->msg, "Authorization header requires "
				"'Signature' parameter. ");
		if (!a.signed_headers)
			sb_adds(&v->msg, "Authorization header requires "
				"'SignedHeaders' parameter. ");
		goto out;
	}
	cJSON_AddStringToObject(note, "credential", a.credential);
	cJSON_AddStringToObject(note, "signed_headers", a.signed_headers);
	cred = xstrdup(a.credential);
	for (s = cred; n < 5 && s != NULL; n++) {
		part[n] = s;
		s = strchr(s, '/');
		if (s != NULL)
			*s++ = '\0';
	}
	if (n != 5 || s != NULL) {
		refuse(v, 403, "IncompleteSignatureException", "");
		sb_addf(&v->msg, "Credential must have exactly 5 "
			"slash-delimited elements, e.g. keyid/date/region/"
			"service/term, got '%s'", a.credential);
		goto out;
	}
	if (amz == NULL || !amz_time(amz, &when)) {
		refuse(v, 403, "IncompleteSignatureException",
		       "Authorization header requires existence of either a "
		       "'X-Amz-Date' or a 'Date' header.");
		goto out;
	}
	if (strcmp(part[0], srv.akid) != 0 ||
	    (srv.token ? token == NULL || strcmp(token, srv.token) != 0
		       : token != NULL)) {
		refuse(v, 403, "UnrecognizedClientException", BED_BAD_TOKEN);
		goto out;
	}
	if (strcmp(part[4], "aws4_request") != 0) {
		refuse(v, 403, "IncompleteSignatureException", "");
		sb_addf(&v->msg, "Credential should be scoped with a valid "
			"terminator: 'aws4_request', not '%s'.", part[4]);
		goto out;
	}
	if (strcmp(part[3], "bedrock") != 0) {
		refuse(v, 403, "InvalidSignatureException", "Credential "
		       "should be scoped to correct service: 'bedrock'. ");
		goto out;
	}
	if (strcmp(part[2], srv.region) != 0) {
		refuse(v, 403, "InvalidSignatureException", "");
		sb_addf(&v->msg, "Credential should be scoped to a valid "
			"region, not '%s'. ", part[2]);
		goto out;
	}
	if (strncmp(part[1], amz, 8) != 0 || strlen(part[1]) != 8) {
		refuse(v, 403, "InvalidSignatureException", "");
		sb_addf(&v->msg, "Date in Credential scope does not match "
			"YYYYMMDD from ISO-8601 version of date from HTTP: "
			"'%s' != '%.8s', from '%s'.", part[1], amz, amz);
		goto out;
	}
	if (when < now - 900 || when > now + 900) {
		refuse(v, 403, "InvalidSignatureException", "");
		amz_format(when < now ? now - 900 : now + 900, t1);
		amz_format(now, t2);
		if (when < now)
			sb_addf(&v->msg, "Signature expired: %s is now "
				"earlier than %s (%s - 15 min.)", amz, t1, t2);
		else
			sb_addf(&v->msg, "Signature not yet current: %s is "
				"still later than %s (%s + 15 min.)", amz, t1,
				t2);
		goto out;
	}
	if (!list_has(a.signed_headers, "host")) {
		refuse(v, 403, "InvalidSignatureException", "'Host' or "
		       "':authority' must be a 'SignedHeader' in the AWS "
		       "Authorization.");
		goto out;
	}
	if (!list_has(a.signed_headers, "x-amz-date") ||
	    (token != NULL &&
	     !list_has(a.signed_headers, "x-amz-security-token"))) {
		refuse(v, 403, "InvalidSignatureException", "");
		sb_addf(&v->msg, "fakellm: '%s' must be a SignedHeader",
			list_has(a.signed_headers, "x-amz-date") ?
			"x-amz-security-token" : "x-amz-date");
		goto out;
	}
	hex_sha256(c->body.ptr ? c->body.ptr : "", c->body.len, hex);
	if (sha != NULL && strcmp(sha, hex) != 0) {
		refuse(v, 400, "XAmzContentSHA256Mismatch", "The provided "
		       "'x-amz-content-sha256' header does not match what "
		       "was computed.");
		goto out;
	}
	/* the canonical request, lines joined with "\n" */
	sb_addf(&creq, "%s\n", c->method);
	canon_uri(&creq, c->path);
	sb_adds(&creq, "\n");
	canon_query(&creq, c->query);
	sb_adds(&creq, "\n");
	if (!canon_headers(c, a.signed_headers, &creq, &v->why)) {
		refuse(v, 403, "InvalidSignatureException", BED_MISMATCH);
		goto out;
	}
	hex_sha256(creq.ptr, creq.len, hex);
	sb_addf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/%s\n%s", amz, part[1],
		part[2], part[3], part[4], hex);
	cJSON_AddStringToObject(note, "canonical_request", creq.ptr);
	cJSON_AddStringToObject(note, "string_to_sign", sts.ptr);
	/* kSigning = HMAC chain from "AWS4" SECRET over date, region,
	 * service, "aws4_request"; the signature is HMAC(kSigning, sts). */
	sb_addf(&key0, "AWS4%s", srv.secret);
	sha256_hmac(key0.ptr, key0.len, part[1], strlen(part[1]), k1);
	sha256_hmac(k1, sizeof k1, part[2], strlen(part[2]), k2);
	sha256_hmac(k2, sizeof k2, part[3], strlen(part[3]), k1);
	sha256_hmac(k1, sizeof k1, part[4], strlen(part[4]), k2);
	sha256_hmac(k2, sizeof k2, sts.ptr, sts.len, k1);
	sha256_hex(k1, sizeof k1, sig);
	if (strcmp(sig, a.signature) != 0) {
		refuse(v, 403, "InvalidSignatureException", BED_MISMATCH);
		sb_adds(&v->why, "the signature differs");
	}
out:
	memset(k1, 0, sizeof k1);
	memset(k2, 0, sizeof k2);
	if (key0.ptr != NULL)
		memset(key0.ptr, 0, key0.len);
	sb_free(&key0);
	sb_free(&creq);
	sb_free(&sts);
	free(cred);
	v4auth_free(&a);
	return v->status;
}

/*
 * Authenticate a Bedrock request, before it is logged: `Authorization:
 * Bearer KEY` against -k, SigV4 against -a/-S/-r/-T; with neither -k
 * nor -a, anything goes.  The verdict goes to the log (c->auth) and, if
 * it is a refusal, to c->deny for route().
 */
static void
bed_authenticate(struct conn *c)
{
	const char *h = conn_header(c, "authorization");
	cJSON *note = cJSON_CreateObject();
	struct verdict v;
	bool checked = false;

	memset(&v, 0, sizeof v);
	if (h != NULL && strncmp(h, "Bearer ", 7) == 0) {
		cJSON_AddStringToObject(note, "scheme", "bearer");
		checked = srv.key != NULL || srv.akid != NULL;
		if (checked && (srv.key == NULL || strcmp(h + 7, srv.key) != 0))
			refuse(&v, 403, "UnrecognizedClientException",
			       BED_BAD_TOKEN);
	} else if (h != NULL && strncmp(h, "AWS4-", 5) == 0) {
		cJSON_AddStringToObject(note, "scheme", "sigv4");
		checked = srv.key != NULL || srv.akid != NULL;
		if (srv.akid != NULL)
			sigv4_verify(c, h, note, &v);
		else if (checked)
			refuse(&v, 403, "UnrecognizedClientException",
			       BED_BAD_TOKEN);
	} else {
		cJSON_AddStringToObject(note, "scheme", "none");
		checked = srv.key != NULL || srv.akid != NULL;
		if (checked)
			refuse(&v, 403, "MissingAuthenticationTokenException",
			       "Missing Authentication Token");
	}
	if (!checked)
		cJSON_AddNullToObject(note, "verified");
	else
		cJSON_AddBoolToObject(note, "verified", v.status == 0);
	if (v.status != 0)
		cJSON_AddStringToObject(note, "error", v.why.len ? v.why.ptr
								 : v.msg.ptr);
	c->auth = note;
	c->deny = v.status;
	c->deny_type = v.type;
	c->deny_msg = v.msg.ptr; /* NULL when accepted */
	sb_free(&v.why);
}

/*
 * Bedrock's requests: 1 Converse (POST …/model/ID/converse), 2
 * ConverseStream (…/converse-stream), 3 the model listing (GET
 * …/foundation-models); 0 for any other.  For 1 and 2, the model id as
 * sent (percent-encoded) in id and len.
 */
static int
bed_path(const struct conn *c, const char **id, size_t *len)
{
	const char *path = c->path, *end, *seg;
	size_t n = strlen(path);
	int kind;

	if (strcmp(c->method, "GET") == 0 &&
	    path_ends(path, "/foundation-models"))
		return 3;
	if (strcmp(c->method, "POST") != 0)
		return 0;
	if (path_ends(path, "/converse")) {
		end = path + n - 9;
		kind = 1;
	} else if (path_ends(path, "/converse-stream")) {
		end = path + n - 16;
		kind = 2;
	} else
		return 0;
	for (seg = end; seg > path && seg[-1] != '/'; seg--)
		;
	if (seg == end || seg - path < 7 || strncmp(seg - 7, "/model/", 7) != 0)
		return 0;
	*id = seg;
	*len = (size_t)(end - seg);
	return kind;
}

/* Before the log: a Bedrock request gets its x-amzn-RequestId and is
 * authenticated. */
static void
bed_precheck(struct conn *c)
{
	struct sb head = SB_INIT;
	const char *id;
	size_t len;

	if (bed_path(c, &id, &len) == 0)
		return;
	sb_addf(&head, "x-amzn-RequestId: 00000000-0000-4000-8000-%012lu\r\n",
		c->id);
	c->head = head.ptr;
	bed_authenticate(c);
}

/* A Bedrock request, once bed_precheck() has authenticated it. */
static int
bed_route(struct conn *c, int kind, const char *id, size_t len)
{
	char *model;
	int rc;

	if (c->deny != 0)
		return aws_error(c, c->deny, c->deny_type, c->deny_msg, NULL);
	if (kind == 3)
		return bed_models(c);
	model = pct_decode(id, len);
	rc = bed_converse(c, model, kind == 2);
	free(model);
	return rc;
}

/* ==== the router ==== */

/*
 * Gemini's POST …/models/MODEL:METHOD: the model (still percent-encoded)
 * and whether METHOD streams; false if the path is not one.
 */
static bool
gem_path(const char *path, const char **model, size_t *len, bool *stream)
{
	const char *m = strstr(path, "/models/"), *colon;

	if (m == NULL)
		return false;
	m += 8;
	colon = strrchr(m, ':');
	if (colon == NULL || colon == m || memchr(m, '/', (size_t)(colon - m)))
		return false;
	if (strcmp(colon, ":generateContent") == 0)
		*stream = false;
	else if (strcmp(colon, ":streamGenerateContent") == 0)
		*stream = true;
	else
		return false;
	*model = m;
	*len = (size_t)(colon - m);
	return true;
}

/* Azure's …/openai/deployments/DEP/chat/completions: DEP. */
static bool
azure_path(const char *path, const char **dep, size_t *len)
{
	static const char pfx[] = "/openai/deployments/";
	const char *d = strstr(path, pfx), *slash;

	if (d == NULL)
		return false;
	d += sizeof pfx - 1;
	slash = strchr(d, '/');
	if (slash == NULL || slash == d ||
	    strcmp(slash, "/chat/completions") != 0)
		return false;
	*dep = d;
	*len = (size_t)(slash - d);
	return true;
}

static int
route(struct conn *c)
{
	struct sb msg = SB_INIT;
	const char *slash, *name;
	size_t len;
	bool post = strcmp(c->method, "POST") == 0;
	bool get = strcmp(c->method, "GET") == 0;
	bool stream;
	char *model, *key;
	int rc = 0, kind;

	if ((kind = bed_path(c, &name, &len)) != 0)
		return bed_route(c, kind, name, len);
	if (post && azure_path(c->path, &name, &len))
		return azure_chat(c, name, len);
	if (post && path_ends(c->path, "/openai/v1/chat/completions"))
		return azure_chat(c, NULL, 0);
	if (post && path_ends(c->path, "/chat/completions")) {
		if (oai_auth(c, &rc))
			rc = oai_chat(c, NULL);
		return rc;
	}
	if (post && path_ends(c->path, "/messages")) {
		if (anth_auth(c, &rc))
			rc = anth_messages(c);
		return rc;
	}
	if (post && gem_path(c->path, &name, &len, &stream)) {
		if (gem_auth(c, &rc)) {
			model = pct_decode(name, len);
			rc = gem_generate(c, model, stream);
			free(model);
		}
		return rc;
	}
	if (post && path_ends(c->path, "/api/chat")) {
		if (oll_auth(c, &rc))
			rc = oll_chat(c);
		return rc;
	}
	if (get && path_ends(c->path, "/api/tags")) {
		if (oll_auth(c, &rc))
			rc = oll_tags(c);
		return rc;
	}
	if (get && path_ends(c->path, "/models")) {
		key = query_param(c, "key");
		if (conn_header(c, "anthropic-version") != NULL) {
			if (anth_auth(c, &rc))
				rc = anth_models(c);
		} else if (conn_header(c, "x-goog-api-key") != NULL ||
			   key != NULL || strstr(c->path, "/v1beta") != NULL) {
			if (gem_auth(c, &rc))
				rc = gem_models(c);
		} else if (oai_auth(c, &rc))
			rc = oai_models(c, NULL);
		free(key);
		return rc;
	}
	slash = strrchr(c->path, '/');
	if (get && slash != NULL &&
	    slash[1] != '\0' && slash - c->path >= 7 &&
	    strncmp(slash - 7, "/models", 7) == 0) {
		if (oai_auth(c, &rc))
			rc = oai_models(c, slash + 1);
		return rc;
	}
	sb_addf(&msg, "unknown path '%s %s'", c->method, c->path);
	rc = send_error(c, 404, NULL, msg.ptr, "invalid_request_error", NULL,
			NULL);
	sb_free(&msg);
	return rc;
}

/* Serve the connection fd, then close it. */
static void
serve(int fd, unsigned long id)
{
	struct conn c;
	char scratch[512];
	size_t i;
	int status, one = 1;

	memset(&c, 0, sizeof c);
	c.fd = fd;
	c.id = id;
	sb_grow(&c.in, 4096);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	status = conn_read_request(&c);
	if (status == 0) {
		bed_precheck(&c);
		log_request(&c);
		route(&c);
	} else if (status > 0)
		send_error(&c, status, NULL, http_reason(status),
			   "invalid_request_error", NULL, NULL);
	/* Let the client read everything before the connection goes. */
	shutdown(fd, SHUT_WR);
	for (i = 0; i < 64; i++) {
		struct pollfd p = { fd, POLLIN, 0 };

		if (poll(&p, 1, 1000) <= 0 ||
		    read(fd, scratch, sizeof scratch) <= 0)
			break;
	}
	close(fd);
	for (i = 0; i < c.nhdrs; i++) {
		free(c.hdrs[i].name);
		free(c.hdrs[i].value);
	}
	free(c.hdrs);
	free(c.head);
	cJSON_Delete(c.auth);
	free(c.deny_msg);
	free(c.method);
	free(c.path);
	free(c.query);
	sb_free(&c.in);
	sb_free(&c.body);
}

static _Noreturn void
usage(int status)
{
	fputs("usage: fakellm [-a akid -S secret] [-k key] [-l logfile] "
	      "[-p portfile] [-P port]\n"
	      "               [-r region] [-T token] [-t seconds] "
	      "[-z seconds]\n", status ? stderr : stdout);
	exit(status);
}

static int
write_portfile(const char *path, unsigned port)
{
	struct sb tmp = SB_INIT, text = SB_INIT;
	int fd, rc = -1;

	sb_addf(&tmp, "%s.tmp", path);
	sb_addf(&text, "%u\n", port);
	fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		goto out;
	if (write_all(fd, text.ptr, text.len) < 0) {
		close(fd);
		goto out;
	}
	if (close(fd) < 0 || rename(tmp.ptr, path) < 0)
		goto out;
	rc = 0;
out:
	if (rc < 0)
		fprintf(stderr, "fakellm: cannot write '%s': %s\n", path,
			strerror(errno));
	sb_free(&tmp);
	sb_free(&text);
	return rc;
}

int
main(int argc, char *argv[])
{
	const char *logfile = NULL, *portfile = NULL;
	struct sockaddr_in sa;
	socklen_t salen = sizeof sa;
	struct sigaction act;
	struct pollfd pfd;
	unsigned long nconn = 0;
	long port = 0, seconds = 600;
	long long deadline, now;
	int ch, lfd, cfd, one = 1, death[2];
	FILE *seen;
	pid_t pid;

	while ((ch = getopt(argc, argv, "a:hk:l:P:p:r:S:T:t:z:")) != -1) {
		switch (ch) {
		case 'a':
			srv.akid = optarg;
			break;
		case 'h':
			usage(0);
		case 'k':
			srv.key = optarg;
			break;
		case 'l':
			logfile = optarg;
			break;
		case 'P':
			if (!parse_num(optarg, 0, 65535, &port))
				usage(64);
			break;
		case 'p':
			portfile = optarg;
			break;
		case 'r':
			srv.region = optarg;
			break;
		case 'S':
			srv.secret = optarg;
			break;
		case 'T':
			srv.token = optarg;
			break;
		case 't':
			if (!parse_num(optarg, 1, 86400 * 7, &seconds))
				usage(64);
			break;
		case 'z':
			if (!parse_num(optarg + (*optarg == '-'), 0,
				       86400L * 366 * 100, &srv.skew))
				usage(64);
			if (*optarg == '-')
				srv.skew = -srv.skew;
			break;
		default:
			usage(64);
		}
	}
	if (optind != argc || (srv.akid == NULL) != (srv.secret == NULL))
		usage(64);

	if (logfile != NULL) {
		srv.log_fd = open(logfile, O_WRONLY | O_APPEND | O_CREAT,
				  0644);
		if (srv.log_fd < 0) {
			fprintf(stderr, "fakellm: cannot open '%s': %s\n",
				logfile, strerror(errno));
			return 1;
		}
	}
	seen = tmpfile();
	if (seen == NULL || pipe(death) < 0) {
		perror("fakellm: setup");
		return 1;
	}
	srv.seen_fd = fileno(seen);
	srv.death_fd = death[0];

	memset(&act, 0, sizeof act);
	sigemptyset(&act.sa_mask);
	act.sa_handler = on_signal;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	act.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &act, NULL);
	sigaction(SIGCHLD, &act, NULL);

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0) {
		perror("fakellm: socket");
		return 1;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(0x7f000001); /* 127.0.0.1 only */
	if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(lfd, 128) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &salen) < 0) {
		perror("fakellm: bind 127.0.0.1");
		return 1;
	}
	/* accept() must not block if a client gave up after poll() */
	fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
	if (portfile != NULL) {
		if (write_portfile(portfile, ntohs(sa.sin_port)) < 0)
			return 1;
	} else {
		printf("%u\n", (unsigned)ntohs(sa.sin_port));
		fflush(stdout);
	}

	deadline = mono_ms() + seconds * 1000LL;
	while (!srv.stop && (now = mono_ms()) < deadline) {
		pfd.fd = lfd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		/* a short timeout bounds how late a signal is noticed */
		if (poll(&pfd, 1, deadline - now < 250 ? (int)(deadline - now)
						       : 250) <= 0)
			continue;
		cfd = accept(lfd, NULL, NULL);
		if (cfd < 0)
			continue;
		fcntl(cfd, F_SETFL, fcntl(cfd, F_GETFL) & ~O_NONBLOCK);
		nconn++;
		pid = fork();
		if (pid == 0) {
			close(lfd);
			close(death[1]);
			act.sa_handler = SIG_DFL;
			sigaction(SIGTERM, &act, NULL);
			sigaction(SIGINT, &act, NULL);
			alarm(CHILD_MAX_S);
			serve(cfd, nconn);
			_exit(0);
		}
		if (pid < 0)
			perror("fakellm: fork");
		close(cfd);
	}
	close(lfd);
	fclose(seen);
	return 0;
}
