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
 * and hands the reply to the protocol's struct proto); OpenAI Chat
 * Completions; what the protocols below share; Azure OpenAI; Anthropic
 * Messages; Google Gemini; Ollama; the router.  A new protocol gets its
 * own section, a struct proto and a line in route().
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
	int log_fd;               /* -l: request log, or -1 */
	int seen_fd;              /* model strings seen by failfirst */
	int death_fd;             /* EOF here once the server has gone */
	volatile sig_atomic_t stop;
} srv = { NULL, -1, -1, -1, 0 };

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
	bool chunked;       /* chunked transfer encoding for streams */
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
	bool thinking, blocked;
	long delay, gap;  /* ms */
	long fail, failfirst;
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
	long ptok, ctok;
	int nevents;
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

/* What a protocol brings to chat_serve(). */
struct proto {
	const char *finish; /* the usual finish reason */
	/* fail-CODE, and 404 for an unknown model */
	int (*fail)(struct conn *c, long code, const char *model);
	/* 400 for a bad model option, with msg */
	int (*bad)(struct conn *c, const char *msg);
	int (*stream)(struct gen *o, const char *reply, size_t n);
	int (*whole)(struct gen *o, const char *reply, size_t n);
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
		rc = status == 404 ? pr->fail(c, 404, cr->model)
				   : pr->bad(c, err.ptr);
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

/*
 * The faults injected after the first content event: 1 if the stream
 * has been ended, 0 to go on, -1 on a write error.
 */
static int
oai_inject(struct gen *o)
{
	static const char bad[] = "{\"choices\":[{\"delta\":{\"content\":";
	static const char err[] = "{\"error\":{\"message\":\"The server had "
		"an error while processing your request\",\"type\":"
		"\"server_error\",\"param\":null,\"code\":null}}";

	if (o->sp->malformed && oai_event(o, bad) < 0)
		return -1;
	if (o->sp->midstream_error) {
		if (oai_event(o, err) < 0 || conn_stream_end(o->c) < 0)
			return -1;
		return 1;
	}
	return 0;
}

static int
oai_stream(struct gen *o, const char *reply, size_t rlen)
{
	const struct spec *sp = o->sp;
	struct piece *pieces = NULL;
	struct sb pre = SB_INIT;
	size_t n, keep, i;
	int rc = -1, r;

	n = reply_pieces(reply, rlen, sp->base == BASE_BIG ? 64 : 16,
			 sp->words, &pieces);
	keep = sp->cut ? (n + 1) / 2 : n;
	o->c->chunked = !sp->close;
	if (conn_head(o->c, 200, "text/event-stream", -1, NULL) < 0)
		goto out;
	if (sp->comments) {
		sb_addf(&pre, ": OPENROUTER PROCESSING%s%s", sp->eol, sp->eol);
		if (conn_chunk(o->c, pre.ptr, pre.len) < 0)
			goto out;
	}
	if (o->azure && azure_filter_chunk(o) < 0)
		goto out;
	if (oai_chunk(o, oai_delta("assistant", "", 0), NULL) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (oai_chunk(o, oai_delta(NULL, reply + pieces[i].off,
					   pieces[i].len), NULL) < 0)
			goto out;
		if (i == 0 && (r = oai_inject(o)) != 0) {
			rc = r < 0 ? -1 : 0;
			goto out;
		}
		if (sp->cut && i + 1 == keep) {
			rc = 0; /* close without finishing the stream */
			goto out;
		}
	}
	if (n == 0) {
		if ((r = oai_inject(o)) != 0) {
			rc = r < 0 ? -1 : 0;
			goto out;
		}
		if (sp->cut) {
			rc = 0;
			goto out;
		}
	}
	if (oai_chunk(o, cJSON_CreateObject(),
		      o->finish) < 0)
		goto out;
	if (o->include_usage && !sp->nousage && oai_chunk(o, NULL, NULL) < 0)
		goto out;
	if (oai_event(o, "[DONE]") < 0 || conn_stream_end(o->c) < 0)
		goto out;
	rc = 0;
out:
	sb_free(&pre);
	free(pieces);
	return rc;
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
	struct sb msg = SB_INIT;
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
		rc = send_error(c, 429, ratelimit,
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
	"stop", oai_fail, oai_bad, oai_stream, oai_whole_n,
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
	struct sb msg = SB_INIT, num = SB_INIT;
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
		rc = azure_error(c, 429, ratelimit, "429", "Requests to the "
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
	return rc;
}

static const struct proto azure_proto = {
	"stop", azure_fail, oai_bad, oai_stream, oai_whole_n,
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
	struct sb msg = SB_INIT;
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

/* The faults after the first delta: 1 stream ended, 0 go on, -1 error. */
static int
anth_inject(struct gen *o)
{
	static const char bad[] = "{\"type\":\"content_block_delta\","
		"\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":";
	static const char err[] = "{\"type\":\"error\",\"error\":{\"type\":"
		"\"overloaded_error\",\"message\":\"Overloaded\"}}";

	if (o->sp->malformed && sse_send(o, "content_block_delta", bad) < 0)
		return -1;
	if (o->sp->midstream_error) {
		if (sse_send(o, "error", err) < 0 ||
		    conn_stream_end(o->c) < 0)
			return -1;
		return 1;
	}
	return 0;
}

static int
anth_stream(struct gen *o, const char *reply, size_t rlen)
{
	static const char sig[] = "ZmFrZWxsbQ==";
	const struct spec *sp = o->sp;
	struct piece *pieces = NULL;
	size_t n, keep, i;
	int rc = -1, r, idx = 0;
	cJSON *j, *d;

	n = reply_pieces(reply, rlen, sp->base == BASE_BIG ? 64 : 16,
			 sp->words, &pieces);
	keep = sp->cut ? (n + 1) / 2 : n;
	o->c->chunked = !sp->close;
	if (conn_head(o->c, 200, "text/event-stream", -1, NULL) < 0 ||
	    sse_preamble(o) < 0)
		goto out;
	j = anth_typed("message_start");
	cJSON_AddItemToObject(j, "message",
			      anth_message(o, cJSON_CreateArray(), NULL, 1));
	if (anth_event(o, j) < 0)
		goto out;
	if (sp->thinking) {
		if (anth_block(o, "content_block_start", 0, "thinking") < 0 ||
		    anth_delta(o, 0, "thinking_delta", "thinking", THINKING,
			       strlen(THINKING)) < 0 ||
		    anth_delta(o, 0, "signature_delta", "signature", sig,
			       strlen(sig)) < 0 ||
		    anth_block(o, "content_block_stop", 0, NULL) < 0)
			goto out;
		idx = 1;
	}
	if (anth_block(o, "content_block_start", idx, "text") < 0 ||
	    anth_event(o, anth_typed("ping")) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (anth_delta(o, idx, "text_delta", "text",
			       reply + pieces[i].off, pieces[i].len) < 0)
			goto out;
		if (i == 0 && (r = anth_inject(o)) != 0) {
			rc = r < 0 ? -1 : 0;
			goto out;
		}
		if (sp->cut && i + 1 == keep) {
			rc = 0;
			goto out;
		}
	}
	if (n == 0) {
		if ((r = anth_inject(o)) != 0) {
			rc = r < 0 ? -1 : 0;
			goto out;
		}
		if (sp->cut) {
			rc = 0;
			goto out;
		}
	}
	if (anth_block(o, "content_block_stop", idx, NULL) < 0)
		goto out;
	j = anth_typed("message_delta");
	d = cJSON_AddObjectToObject(j, "delta");
	cJSON_AddStringToObject(d, "stop_reason", o->finish);
	cJSON_AddNullToObject(d, "stop_sequence");
	anth_usage(o, j, false, o->ctok);
	if (anth_event(o, j) < 0 ||
	    anth_event(o, anth_typed("message_stop")) < 0 ||
	    conn_stream_end(o->c) < 0)
		goto out;
	rc = 0;
out:
	free(pieces);
	return rc;
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
		cJSON_AddStringToObject(b, "signature", "ZmFrZWxsbQ==");
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
	"end_turn", anth_fail, anth_bad, anth_stream, anth_whole,
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
	struct sb msg = SB_INIT;
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
		cJSON_AddStringToObject(d, "retryDelay", "1s");
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
	"STOP", gem_fail, gem_bad, gem_stream, gem_whole,
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

static int
oll_inject(struct gen *o)
{
	static const char err[] = "{\"error\":\"an error was encountered "
		"while running the model: unexpected EOF\"}";
	static const char bad[] = "{\"model\":\"x\",\"message\":"
		"{\"content\":";

	if (o->sp->malformed && oll_send(o, bad) < 0)
		return -1;
	if (o->sp->midstream_error) {
		if (oll_send(o, err) < 0 || conn_stream_end(o->c) < 0)
			return -1;
		return 1;
	}
	return 0;
}

static int
oll_stream(struct gen *o, const char *reply, size_t rlen)
{
	const struct spec *sp = o->sp;
	struct piece *pieces = NULL;
	size_t n, keep, i;
	int rc = -1, r;

	n = reply_pieces(reply, rlen, sp->base == BASE_BIG ? 64 : 16,
			 sp->words, &pieces);
	keep = sp->cut ? (n + 1) / 2 : n;
	o->c->chunked = !sp->close;
	if (conn_head(o->c, 200, "application/x-ndjson", -1, NULL) < 0)
		goto out;
	if (sp->thinking && oll_line(o, oll_object(o, "", 0, true,
						   false)) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (oll_line(o, oll_object(o, reply + pieces[i].off,
					   pieces[i].len, false, false)) < 0)
			goto out;
		if (i == 0 && (r = oll_inject(o)) != 0) {
			rc = r < 0 ? -1 : 0;
			goto out;
		}
		if (sp->cut && i + 1 == keep) {
			rc = 0;
			goto out;
		}
	}
	if (n == 0) {
		if ((r = oll_inject(o)) != 0) {
			rc = r < 0 ? -1 : 0;
			goto out;
		}
		if (sp->cut) {
			rc = 0;
			goto out;
		}
	}
	if (oll_line(o, oll_object(o, "", 0, false, true)) < 0 ||
	    conn_stream_end(o->c) < 0)
		goto out;
	rc = 0;
out:
	free(pieces);
	return rc;
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
	"stop", oll_fail, oll_bad, oll_stream, oll_whole,
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

/* ==== the router ==== */

static bool
path_ends(const char *path, const char *suffix)
{
	size_t n = strlen(path), k = strlen(suffix);

	return n >= k && strcmp(path + n - k, suffix) == 0;
}

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
	int rc = 0;

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
	free(c.method);
	free(c.path);
	free(c.query);
	sb_free(&c.in);
	sb_free(&c.body);
}

static _Noreturn void
usage(int status)
{
	fputs("usage: fakellm [-k key] [-l logfile] [-p portfile] [-P port] "
	      "[-t seconds]\n", status ? stderr : stdout);
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

	while ((ch = getopt(argc, argv, "hk:l:P:p:t:")) != -1) {
		switch (ch) {
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
		case 't':
			if (!parse_num(optarg, 1, 86400 * 7, &seconds))
				usage(64);
			break;
		default:
			usage(64);
		}
	}
	if (optind != argc)
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
