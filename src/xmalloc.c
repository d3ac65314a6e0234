/*
 * xmalloc.c - allocation wrappers that abort on out-of-memory.
 *
 * A server that cannot allocate a few bytes for its own bookkeeping has no
 * useful way to go on; failing loudly beats a NULL dereference later.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "xmalloc.h"

static void __attribute__((noreturn))
oom(size_t size)
{
	char	msg[80];
	int	n;

	/* No stdio buffering and no malloc: this must work with none left. */
	n = snprintf(msg, sizeof(msg), "switchyard: out of memory (%zu bytes)\n",
	    size);
	if (n > 0 && write(STDERR_FILENO, msg, (size_t)n) == -1)
		abort();	/* nothing else to try */
	abort();
}

void *
xmalloc(size_t size)
{
	void	*p;

	if ((p = malloc(size == 0 ? 1 : size)) == NULL)
		oom(size);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void	*p;

	if ((p = calloc(nmemb == 0 ? 1 : nmemb, size == 0 ? 1 : size)) == NULL)
		oom(nmemb * size);
	return p;
}

void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	void	*p;

	if (size != 0 && nmemb > SIZE_MAX / size)
		oom(SIZE_MAX);
	if ((p = realloc(ptr, nmemb * size == 0 ? 1 : nmemb * size)) == NULL)
		oom(nmemb * size);
	return p;
}

char *
xstrdup(const char *s)
{
	size_t	 len = strlen(s) + 1;
	char	*p = xmalloc(len);

	memcpy(p, s, len);
	return p;
}
