/*
 * server.h - a tiny HTTP server for the unit tests of lib/http and
 * lib/call: forked on 127.0.0.1 port 0, it answers each connection with
 * canned bytes and records the requests it received.
 *
 * Define SERVER_DIR (a mkdtemp template) before including it.  Everything
 * here is static: each test program gets its own copy.
 */
#ifndef LLM_TEST_SERVER_H
#define LLM_TEST_SERVER_H

/* ==== the server ==== */

/* What to answer on one connection, after reading the whole request. */
struct reply {
	int delay_ms;         /* before the first byte */
	const char *parts[6]; /* written in turn */
	int pause_ms;         /* between two parts */
	int hang;             /* then wait for the client to go away */
};

struct server {
	pid_t pid;
	int port;
	char url[64]; /* "http://127.0.0.1:PORT" */
	char host[32]; /* "127.0.0.1:PORT" */
};

static char dir[] = SERVER_DIR;
static char log_path[64]; /* the requests the server received */

static void
nap_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A socket listening on 127.0.0.1 at a port the system chose. */
static int
listen_any(int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		listen(fd, 16) != 0 ||
		getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
		perror("listen");
		exit(1);
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Read one request (headers and Content-Length body) into b; 0 on
 * success. */
static int
read_request(int fd, struct buf *b)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	const char *end, *cl;
	size_t want = 0;
	char tmp[4096];
	ssize_t n;

	for (;;) {
		end = strstr(b->ptr, "\r\n\r\n");
		if (end && want == 0) {
			cl = strstr(b->ptr, "\nContent-Length:");
			if (cl == NULL)
				cl = strstr(b->ptr, "\ncontent-length:");
			want = (size_t)(end + 4 - b->ptr) +
				(cl && cl < end ? strtoul(cl + 16, NULL, 10) : 0);
		}
		if (want && b->len >= want)
			return 0;
		if (poll(&pfd, 1, 5000) != 1)
			return -1;
		n = read(fd, tmp, sizeof(tmp));
		if (n <= 0)
			return -1;
		buf_add(b, tmp, (size_t)n);
	}
}

static void
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n) {
		w = write(fd, p, n);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

static void
handle(int fd, const struct reply *r)
{
	struct buf rq = BUF_INIT;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char tmp[256];
	int lfd, i, one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (read_request(fd, &rq) != 0)
		return;
	lfd = open(log_path, O_WRONLY | O_APPEND | O_CREAT, 0600);
	write_all(lfd, "=== request\n", 12);
	write_all(lfd, rq.ptr, rq.len);
	write_all(lfd, "\n", 1);
	close(lfd);
	nap_ms(r->delay_ms);
	for (i = 0; i < 6 && r->parts[i]; i++) {
		if (i && r->pause_ms)
			nap_ms(r->pause_ms);
		write_all(fd, r->parts[i], strlen(r->parts[i]));
	}
	if (r->hang)
		while (poll(&pfd, 1, 5000) == 1 && read(fd, tmp, sizeof(tmp)) > 0)
			;
	buf_release(&rq);
}

/* Fork a server that answers n connections with replies[0..n-1], each
 * in a process of its own, so that they run concurrently. */
static void
server_start(struct server *s, const struct reply *replies, size_t n)
{
	int lfd = listen_any(&s->port), fd;
	size_t i;

	snprintf(s->host, sizeof(s->host), "127.0.0.1:%d", s->port);
	snprintf(s->url, sizeof(s->url), "http://%s", s->host);
	unlink(log_path);
	fflush(stdout);
	s->pid = fork();
	if (s->pid == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		for (i = 0; i < n; i++) {
			if ((fd = accept(lfd, NULL, NULL)) < 0)
				_exit(1);
			if (fork() == 0) {
				close(lfd);
				handle(fd, &replies[i]);
				_exit(0);
			}
			close(fd);
		}
		while (wait(NULL) > 0)
			;
		_exit(0);
	}
	close(lfd);
}

static void
server_stop(struct server *s)
{
	kill(s->pid, SIGKILL);
	waitpid(s->pid, NULL, 0);
}

/* The number of requests the server received, and their text in out. */
static int
server_requests(struct buf *out)
{
	FILE *fp = fopen(log_path, "r");
	const char *p;
	char tmp[4096];
	size_t n;
	int count = 0;

	buf_reset(out);
	if (fp == NULL)
		return 0;
	while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
		buf_add(out, tmp, n);
	fclose(fp);
	for (p = out->ptr; (p = strstr(p, "=== request\n")) != NULL; p++)
		count++;
	return count;
}

#endif
