/*
 * xmalloc.h - allocation that aborts on out-of-memory.
 *
 * For the daemon's own structures; the results are never checked.
 */
#ifndef XMALLOC_H
#define XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t size);
void	*xcalloc(size_t nmemb, size_t size);
void	*xreallocarray(void *ptr, size_t nmemb, size_t size);
char	*xstrdup(const char *s);

#endif /* XMALLOC_H */
