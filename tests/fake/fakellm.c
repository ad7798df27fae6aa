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
 * request log; the model-string language; replies; OpenAI Chat
 * Completions; the router.  A new protocol gets its own section and a
 * line in route().
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

static void
reply_params(const cJSON *req, const cJSON *messages, struct sb *out)
{
	static const char *const keys[] = { "temperature", "top_p",
		"max_tokens", "max_completion_tokens", "stop" };
	cJSON *o = cJSON_CreateObject();
	const cJSON *v;
	size_t i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		v = cJSON_GetObjectItemCaseSensitive(req, keys[i]);
		cJSON_AddItemToObject(o, keys[i], v ? cJSON_Duplicate(v, 1)
						    : cJSON_CreateNull());
	}
	cJSON_AddNumberToObject(o, "messages", cJSON_GetArraySize(messages));
	json_emit(out, o, false);
}

/* The reply text that the base name asks for. */
static void
reply_make(const struct spec *sp, const cJSON *req, const cJSON *messages,
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
		reply_params(req, messages, out);
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

/* ==== OpenAI Chat Completions (PROTOCOLS.md section 1) ==== */

struct oai {
	struct conn *c;
	const struct spec *sp;
	const char *model;
	bool include_usage;
	long ptok, ctok;
	int nevents;
};

/* Write one SSE event whose data is `data`, shaped by the options. */
static int
oai_event(struct oai *o, const char *data)
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
	if (sp->fields)
		sb_addf(&ev, "event: message%sid: %d%sretry: 3000%s", sp->eol,
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
 * A chat.completion.chunk.  delta NULL: the usage chunk ("choices":[]).
 * finish NULL: "finish_reason":null.  Consumes delta.
 */
static int
oai_chunk(struct oai *o, cJSON *delta, const char *finish)
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
oai_inject(struct oai *o)
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
oai_stream(struct oai *o, const char *reply, size_t rlen)
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
		      sp->finish ? sp->finish : "stop") < 0)
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
oai_whole(struct oai *o, const char *reply)
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
				sp->finish ? sp->finish : "stop");
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

static int
oai_chat(struct conn *c)
{
	const cJSON *model, *messages, *opts;
	cJSON *req;
	struct spec sp;
	struct sb err = SB_INIT, reply = SB_INIT;
	struct oai o;
	int rc, status;

	memset(&sp, 0, sizeof sp);
	req = cJSON_ParseWithLength(c->body.ptr, c->body.len);
	if (!cJSON_IsObject(req)) {
		rc = send_error(c, 400, NULL, "We could not parse the JSON "
				"body of your request.",
				"invalid_request_error", NULL, NULL);
		goto out;
	}
	model = cJSON_GetObjectItemCaseSensitive(req, "model");
	messages = cJSON_GetObjectItemCaseSensitive(req, "messages");
	if (!cJSON_IsString(model)) {
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
	status = spec_parse(&sp, model->valuestring, &err);
	if (status != 0) {
		rc = send_error(c, status, NULL, err.ptr,
				"invalid_request_error", NULL,
				status == 404 ? "model_not_found" : NULL);
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
	if (sp.failfirst && seen_first(model->valuestring)) {
		rc = oai_fail(c, sp.failfirst, model->valuestring);
		goto out;
	}
	if (sp.fail) {
		rc = oai_fail(c, sp.fail, model->valuestring);
		goto out;
	}

	reply_make(&sp, req, messages, &reply);
	opts = cJSON_GetObjectItemCaseSensitive(req, "stream_options");
	o.c = c;
	o.sp = &sp;
	o.model = model->valuestring;
	o.include_usage = cJSON_IsTrue(
		cJSON_GetObjectItemCaseSensitive(opts, "include_usage"));
	o.ptok = prompt_tokens(messages);
	o.ctok = count_words(reply.ptr, reply.len);
	o.nevents = 0;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, "stream")))
		rc = oai_stream(&o, reply.ptr, reply.len);
	else
		rc = oai_whole(&o, reply.ptr);
out:
	spec_release(&sp);
	sb_free(&reply);
	sb_free(&err);
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

/* ==== the router ==== */

static bool
path_ends(const char *path, const char *suffix)
{
	size_t n = strlen(path), k = strlen(suffix);

	return n >= k && strcmp(path + n - k, suffix) == 0;
}

static int
route(struct conn *c)
{
	struct sb msg = SB_INIT;
	const char *slash;
	int rc = 0;

	if (strcmp(c->method, "POST") == 0 &&
	    path_ends(c->path, "/chat/completions")) {
		if (oai_auth(c, &rc))
			rc = oai_chat(c);
		return rc;
	}
	if (strcmp(c->method, "GET") == 0 && path_ends(c->path, "/models")) {
		if (oai_auth(c, &rc))
			rc = oai_models(c, NULL);
		return rc;
	}
	slash = strrchr(c->path, '/');
	if (strcmp(c->method, "GET") == 0 && slash != NULL &&
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
