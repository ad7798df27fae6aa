/* sigv4.c - AWS Signature Version 4; see sigv4.h. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sigv4.h"
#include "xalloc.h"

#define ALGORITHM "AWS4-HMAC-SHA256"

void
sigv4_parts_init(struct sigv4_parts *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->creq.ptr = buf_empty;
	sp->sts.ptr = buf_empty;
	sp->signed_headers.ptr = buf_empty;
	sp->authorization.ptr = buf_empty;
}

void
sigv4_parts_release(struct sigv4_parts *sp)
{
	buf_release(&sp->creq);
	buf_release(&sp->sts);
	buf_release(&sp->signed_headers);
	buf_release(&sp->authorization);
	sp->signature[0] = '\0';
}

void
sigv4_amz_date(time_t t, char out[17])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
		strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm) != 16)
		memcpy(out, "19700101T000000Z", 17);
}

/* ==== encoding ==== */

static bool
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		(c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		c == '~';
}

/* Percent-encode n bytes of p, keeping unreserved bytes (and '/' when
 * slash is set). */
static void
encode(struct buf *out, const char *p, size_t n, bool slash)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *s = (const unsigned char *)p;
	size_t i;

	for (i = 0; i < n; i++) {
		if (unreserved(s[i]) || (slash && s[i] == '/')) {
			buf_addch(out, s[i]);
		} else {
			buf_addch(out, '%');
			buf_addch(out, hex[s[i] >> 4]);
			buf_addch(out, hex[s[i] & 15]);
		}
	}
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode the %XX escapes of n bytes of p into out; a '%' without two hex
 * digits stays as it is. */
static void
decode(struct buf *out, const char *p, size_t n)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (p[i] == '%' && n - i >= 3 && (hi = hexval(p[i + 1])) >= 0 &&
			(lo = hexval(p[i + 2])) >= 0) {
			buf_addch(out, hi << 4 | lo);
			i += 2;
		} else {
			buf_addch(out, p[i]);
		}
	}
}

/* ==== canonical URI and query ==== */

void
sigv4_canonical_uri(struct buf *out, const char *path, size_t n)
{
	struct buf norm = BUF_INIT;
	size_t i = 0, j, *ends = NULL, nseg = 0, alloc = 0;

	/* RFC 3986 5.2.4 "remove dot segments", and empty segments, as
	 * botocore's normalize_url_path() does. */
	if (n && path[0] == '/')
		buf_addch(&norm, '/');
	while (i < n) {
		for (j = i; j < n && path[j] != '/'; j++)
			;
		if (j - i == 0 || (j - i == 1 && path[i] == '.')) {
			/* skip */
		} else if (j - i == 2 && path[i] == '.' && path[i + 1] == '.') {
			if (nseg) {
				nseg--;
				buf_truncate(&norm, nseg ? ends[nseg - 1] :
							   (n && path[0] == '/'));
			}
		} else {
			if (nseg)
				buf_addch(&norm, '/');
			buf_add(&norm, path + i, j - i);
			ends = xgrowarray(ends, &alloc, nseg + 1,
				sizeof(*ends));
			ends[nseg++] = norm.len;
		}
		i = j + 1;
	}
	if (n && path[n - 1] == '/' && nseg)
		buf_addch(&norm, '/');
	if (norm.len == 0)
		buf_addch(&norm, '/');
	encode(out, norm.ptr, norm.len, true);
	free(ends);
	buf_release(&norm);
}

struct param {
	char *name, *value; /* encoded */
};

static int
param_cmp(const void *a, const void *b)
{
	const struct param *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->value, y->value);
}

void
sigv4_canonical_query(struct buf *out, const char *q, size_t n)
{
	struct buf raw = BUF_INIT, enc = BUF_INIT;
	struct param *ps = NULL;
	size_t np = 0, alloc = 0, i = 0, j, eq, k;

	while (i < n) {
		for (j = i; j < n && q[j] != '&'; j++)
			;
		if (j > i) {
			for (eq = i; eq < j && q[eq] != '='; eq++)
				;
			ps = xgrowarray(ps, &alloc, np + 1, sizeof(*ps));
			buf_reset(&raw);
			decode(&raw, q + i, eq - i);
			buf_reset(&enc);
			encode(&enc, raw.ptr, raw.len, false);
			ps[np].name = xstrndup(enc.ptr, enc.len);
			buf_reset(&raw);
			if (eq < j)
				decode(&raw, q + eq + 1, j - eq - 1);
			buf_reset(&enc);
			encode(&enc, raw.ptr, raw.len, false);
			ps[np].value = xstrndup(enc.ptr, enc.len);
			np++;
		}
		i = j + 1;
	}
	if (np)
		qsort(ps, np, sizeof(*ps), param_cmp);
	for (k = 0; k < np; k++) {
		buf_addf(out, "%s%s=%s", k ? "&" : "", ps[k].name,
			ps[k].value);
		free(ps[k].name);
		free(ps[k].value);
	}
	free(ps);
	buf_release(&raw);
	buf_release(&enc);
}

/* ==== canonical headers ==== */

struct chdr {
	char *name; /* lowercase */
	struct buf value;
};

static bool
blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Append a header value trimmed, inner runs of blanks as one space. */
static void
add_value(struct buf *out, const char *v)
{
	bool gap = false;

	while (blank(*v))
		v++;
	for (; *v; v++) {
		if (blank(*v)) {
			gap = true;
			continue;
		}
		if (gap)
			buf_addch(out, ' ');
		gap = false;
		buf_addch(out, *v);
	}
}

/* The headers by lowercase name, repeated names merged in order, sorted
 * by name (an insertion sort: few headers, and it keeps the order of
 * values). */
static struct chdr *
canonical_headers(const struct sigv4_header *h, size_t nh, size_t *out_n)
{
	struct chdr *c = xcalloc(nh ? nh : 1, sizeof(*c)), tmp;
	size_t n = 0, i, j;
	char *name, *s;

	for (i = 0; i < nh; i++) {
		name = xstrdup(h[i].name);
		for (s = name; *s; s++)
			if (*s >= 'A' && *s <= 'Z')
				*s = (char)(*s - 'A' + 'a');
		for (j = 0; j < n && strcmp(c[j].name, name) != 0; j++)
			;
		if (j < n) {
			free(name);
			buf_addch(&c[j].value, ',');
		} else {
			c[n].name = name;
			c[n].value.ptr = buf_empty;
			n++;
		}
		add_value(&c[j].value, h[i].value ? h[i].value : "");
	}
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(c[j - 1].name, c[j].name) > 0;
			j--) {
			tmp = c[j];
			c[j] = c[j - 1];
			c[j - 1] = tmp;
		}
	*out_n = n;
	return c;
}

/* ==== signing ==== */

static void
hmac(const unsigned char *key, size_t klen, const char *msg, size_t mlen,
	unsigned char out[SHA256_LEN])
{
	sha256_hmac(key, klen, msg, mlen, out);
}

enum llm_status
sigv4_compute(const struct sigv4 *s, const char *method, const char *path,
	const char *query, const struct sigv4_header *h, size_t nh,
	const char *payload_sha256, struct sigv4_parts *out, struct buf *err)
{
	unsigned char key[SHA256_LEN], digest[SHA256_LEN];
	char amz[17], date[9], hex[SHA256_HEX_LEN + 1];
	struct buf secret = BUF_INIT;
	struct chdr *c = NULL;
	size_t nc = 0, i;
	enum llm_status st = LLM_OK;

	if (s->access_key_id == NULL || *s->access_key_id == '\0' ||
		s->secret_access_key == NULL || *s->secret_access_key == '\0') {
		buf_setf(err, "no AWS access key id or secret access key");
		st = LLM_ERR_AUTH;
		goto out;
	}
	sigv4_amz_date(s->now, amz);
	memcpy(date, amz, 8);
	date[8] = '\0';

	buf_reset(&out->creq);
	buf_addf(&out->creq, "%s\n", method);
	sigv4_canonical_uri(&out->creq, path ? path : "",
		path ? strlen(path) : 0);
	buf_addch(&out->creq, '\n');
	if (query)
		sigv4_canonical_query(&out->creq, query, strlen(query));
	buf_addch(&out->creq, '\n');
	c = canonical_headers(h, nh, &nc);
	buf_reset(&out->signed_headers);
	for (i = 0; i < nc; i++) {
		buf_addf(&out->creq, "%s:%s\n", c[i].name, c[i].value.ptr);
		buf_addf(&out->signed_headers, "%s%s", i ? ";" : "",
			c[i].name);
	}
	buf_addf(&out->creq, "\n%s\n%s", out->signed_headers.ptr,
		payload_sha256);

	sha256(out->creq.ptr, out->creq.len, digest);
	sha256_hex(digest, sizeof(digest), hex);
	buf_reset(&out->sts);
	buf_addf(&out->sts, ALGORITHM "\n%s\n%s/%s/%s/aws4_request\n%s", amz,
		date, s->region, s->service, hex);

	buf_addf(&secret, "AWS4%s", s->secret_access_key);
	hmac((const unsigned char *)secret.ptr, secret.len, date, 8, key);
	hmac(key, sizeof(key), s->region, strlen(s->region), key);
	hmac(key, sizeof(key), s->service, strlen(s->service), key);
	hmac(key, sizeof(key), "aws4_request", 12, key);
	hmac(key, sizeof(key), out->sts.ptr, out->sts.len, digest);
	sha256_hex(digest, sizeof(digest), out->signature);

	buf_reset(&out->authorization);
	buf_addf(&out->authorization,
		ALGORITHM " Credential=%s/%s/%s/%s/aws4_request, "
			  "SignedHeaders=%s, Signature=%s",
		s->access_key_id, date, s->region, s->service,
		out->signed_headers.ptr, out->signature);
out:
	for (i = 0; i < nc; i++) {
		free(c[i].name);
		buf_release(&c[i].value);
	}
	free(c);
	if (secret.len)
		memset(secret.ptr, 0, secret.len);
	buf_release(&secret);
	memset(key, 0, sizeof(key));
	return st;
}

static bool
signed_header(const char *name)
{
	return strcasecmp(name, "host") == 0 ||
		strcasecmp(name, "content-type") == 0 ||
		strncasecmp(name, "x-amz-", 6) == 0;
}

enum llm_status
sigv4_sign(struct http_request *h, const struct sigv4 *s, struct buf *err)
{
	struct buf host = BUF_INIT, path = BUF_INIT, query = BUF_INIT;
	struct sigv4_header *sh = NULL;
	struct sigv4_parts sp;
	unsigned char digest[SHA256_LEN];
	char amz[17], hex[SHA256_HEX_LEN + 1];
	const char *u = h->url ? h->url : "", *a, *e, *at, *colon;
	enum llm_status st = LLM_OK;
	size_t i, nsh = 0;
	bool https;

	sigv4_parts_init(&sp);
	if (s->access_key_id == NULL || *s->access_key_id == '\0' ||
		s->secret_access_key == NULL || *s->secret_access_key == '\0') {
		buf_setf(err, "no AWS access key id or secret access key");
		st = LLM_ERR_AUTH;
		goto out;
	}
	if ((a = strstr(u, "://")) == NULL || a == u) {
		buf_setf(err, "cannot sign '%s': not an absolute URL", u);
		st = LLM_ERR_CONFIG;
		goto out;
	}
	https = (size_t)(a - u) == 5 && strncasecmp(u, "https", 5) == 0;
	a += 3;
	for (e = a; *e && *e != '/' && *e != '?' && *e != '#'; e++)
		;
	/* The authority without userinfo and without a default port. */
	for (at = e; at > a && at[-1] != '@'; at--)
		;
	if (at == e) {
		buf_setf(err, "cannot sign '%s': no host", u);
		st = LLM_ERR_CONFIG;
		goto out;
	}
	for (colon = e; colon > at && colon[-1] != ':' && colon[-1] != ']';
		colon--)
		;
	if (colon > at && colon[-1] == ':' &&
		((https && e - colon == 3 && memcmp(colon, "443", 3) == 0) ||
			(!https && e - colon == 2 &&
				memcmp(colon, "80", 2) == 0)))
		buf_add(&host, at, (size_t)(colon - 1 - at));
	else
		buf_add(&host, at, (size_t)(e - at));
	for (a = e; *e && *e != '?' && *e != '#'; e++)
		;
	buf_add(&path, a, (size_t)(e - a));
	if (*e == '?') {
		for (a = ++e; *e && *e != '#'; e++)
			;
		buf_add(&query, a, (size_t)(e - a));
	}

	sigv4_amz_date(s->now, amz);
	for (i = 0; i < h->nheaders; i++)
		if (strcasecmp(h->headers[i].name, "host") == 0)
			break;
	if (i == h->nheaders)
		http_request_header(h, "Host", host.ptr, false);
	http_request_header(h, "X-Amz-Date", amz, false);
	if (s->session_token && *s->session_token)
		http_request_header(h, "X-Amz-Security-Token",
			s->session_token, true);
	sh = xcalloc(h->nheaders, sizeof(*sh));
	for (i = 0; i < h->nheaders; i++) {
		if (!signed_header(h->headers[i].name))
			continue;
		sh[nsh].name = h->headers[i].name;
		sh[nsh].value = h->headers[i].value;
		nsh++;
	}
	sha256(h->body.ptr, h->body.len, digest);
	sha256_hex(digest, sizeof(digest), hex);
	st = sigv4_compute(s, h->method ? h->method : "GET", path.ptr,
		query.ptr, sh, nsh, hex, &sp, err);
	if (st == LLM_OK)
		http_request_header(h, "Authorization", sp.authorization.ptr,
			true);
out:
	free(sh);
	sigv4_parts_release(&sp);
	buf_release(&host);
	buf_release(&path);
	buf_release(&query);
	return st;
}
