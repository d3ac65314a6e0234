/*
 * compress.h - content codings for responses: what a client's
 * Accept-Encoding allows, which types are worth compressing, and gzip
 * itself (zlib).
 */
#ifndef COMPRESS_H
#define COMPRESS_H

#include <stddef.h>

struct evbuffer;

/* Smaller bodies are sent as they are: the gzip frame costs 18 bytes. */
#define COMPRESS_MIN_BYTES	1024

/*
 * Does the Accept-Encoding value s[0..len) accept the content coding
 * coding ("gzip")? Yes when its q-value, its own or that of "*", is
 * above 0 and not below an explicit "identity" one (RFC 9110 12.5.3);
 * "x-gzip" counts as "gzip". Codings are case-insensitive; an element
 * with a malformed q-value is skipped. Any thread.
 */
int	compress_accepts(const char *s, size_t len, const char *coding);

/*
 * Is a body of Content-Type type (parameters allowed, NULL: none) worth
 * compressing: text/ *, JSON, JavaScript, XML, SVG, and any +json or
 * +xml type? Any thread.
 */
int	compress_type_ok(const char *type);

/*
 * Put the gzip form of body into out, which must be empty, at zlib's
 * fastest level; body is left as it was. Its memory chains are read in
 * place, not copied first; a file segment cannot be read this way, so
 * the caller keeps those out. Returns 0, or -1 (out of memory, a zlib
 * error) with out empty. Any thread, for buffers it alone uses.
 */
int	compress_gzip(struct evbuffer *body, struct evbuffer *out);

#endif /* COMPRESS_H */
