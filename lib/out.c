/* out.c - an answer going to a stream; see out.h. */
#include <errno.h>

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
	o->any = false;
}
