/* out.c - an answer going to a stream; see out.h. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "out.h"
#include "status.h"

int
out_write(struct out *o, const char *p, size_t n)
{
	FILE *fp = o->fp ? o->fp : stdout;

	if (o->closed || o->error)
		return o->closed ? LLM_ERR_PIPE : LLM_ERR_IO;
	errno = 0;
	if (fwrite(p, 1, n, fp) != n || fflush(fp) == EOF) {
		if (errno == EPIPE) {
			o->closed = true;
			return LLM_ERR_PIPE;
		}
		o->error = errno ? errno : EIO;
		return LLM_ERR_IO;
	}
	if (n) {
		o->any = true;
		o->last = p[n - 1];
	}
	return 0;
}

int
out_text(void *ud, const char *p, size_t n)
{
	return out_write(ud, p, n);
}

void
out_finish(struct out *o)
{
	if (!o->any || o->last != '\n')
		out_write(o, "\n", 1);
}

void
out_close(struct out *o)
{
	out_finish(o);
	out_detach(o);
}

void
out_detach(struct out *o)
{
	FILE *fp = o->fp ? o->fp : stdout;
	int fd;

	if (o->closed || o->error)
		return;
	fflush(fp);
	fd = open("/dev/null", O_WRONLY);
	if (fd >= 0) {
		dup2(fd, fileno(fp));
		close(fd);
	}
	o->closed = true;
}
