/*
 * compress.c - Accept-Encoding, compressible types, and gzip with zlib.
 *
 * Every function may run on the loop or on a pool thread. Each thread
 * keeps one deflate stream, made on its first body and reset for the
 * next (a pthread key frees it when the thread ends): zlib's state is
 * some 256 KiB, and allocating it per response cost more than the
 * compression itself, about 200 us of page faults and brk(2) for a
 * 14 KiB body against 30 us of deflate, as malloc gave the memory back
 * to the kernel each time. The stream is one thread's alone, so no lock.
 */
#include "autoconfig.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>

#include <event2/buffer.h>
#include <zlib.h>

#include "compress.h"

#define COMPRESS_LEVEL		1	/* Z_BEST_SPEED, nginx's default */
#define COMPRESS_CHUNK		16384	/* output bytes reserved at a time */
#define COMPRESS_PEEK		16	/* input chains looked at at a time */

/* -- Accept-Encoding ----------------------------------------------------- */

static int
is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static int
is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (c != '\0' && strchr("!#$%&'*+-.^_`|~",
	    c) != NULL);
}

/*
 * A qvalue (RFC 9110 12.4.2) at s[*i..len) in thousandths, 0..1000:
 * "0", "0.5", "1", "1.000". -1 when malformed.
 */
static int
parse_qvalue(const char *s, size_t len, size_t *i)
{
	int	 q, digits, scale = 100;

	if (*i >= len || (s[*i] != '0' && s[*i] != '1'))
		return -1;
	q = s[(*i)++] == '1' ? 1000 : 0;
	if (*i < len && s[*i] == '.') {
		(*i)++;
		for (digits = 0; digits < 3 && *i < len && s[*i] >= '0' &&
		    s[*i] <= '9'; digits++, scale /= 10)
			q += (s[(*i)++] - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

/*
 * One list element at s[*i..len): a coding (its bounds in *name and
 * *nlen) and its q-value, 1000 unless a "q" parameter says otherwise.
 * Other parameters are skipped. Leaves *i after the element's ",";
 * returns -1 for an element to ignore (no coding, malformed).
 */
static int
parse_element(const char *s, size_t len, size_t *i, const char **name,
    size_t *nlen)
{
	size_t	 start;
	int	 q = 1000, bad = 0;

	start = *i;
	while (*i < len && is_tchar(s[*i]))
		(*i)++;
	*name = s + start;
	*nlen = *i - start;
	if (*nlen == 0)
		bad = 1;
	for (;;) {
		while (*i < len && is_ows(s[*i]))
			(*i)++;
		if (*i == len || s[*i] == ',')
			break;
		if (s[*i] != ';') {
			bad = 1;
			break;
		}
		(*i)++;
		while (*i < len && is_ows(s[*i]))
			(*i)++;
		if (*i + 1 < len && (s[*i] == 'q' || s[*i] == 'Q') &&
		    s[*i + 1] == '=') {
			*i += 2;
			if ((q = parse_qvalue(s, len, i)) == -1) {
				bad = 1;
				break;
			}
			continue;
		}
		/* Another parameter: token "=" (token / quoted-string). */
		while (*i < len && s[*i] != ',' && s[*i] != ';')
			(*i)++;
	}
	/* Skip to the next element, past whatever made this one bad. */
	while (*i < len && s[*i] != ',')
		(*i)++;
	if (*i < len)
		(*i)++;
	return bad ? -1 : q;
}

static int
coding_is(const char *name, size_t nlen, const char *coding)
{
	return strlen(coding) == nlen && strncasecmp(name, coding, nlen) == 0;
}

int
compress_accepts(const char *s, size_t len, const char *coding)
{
	const char	*name;
	size_t		 i = 0, nlen;
	int		 q, q_coding = -1, q_star = -1, q_identity = -1;
	int		 gzip = strcasecmp(coding, "gzip") == 0;

	while (i < len) {
		while (i < len && (is_ows(s[i]) || s[i] == ','))
			i++;
		if (i == len)
			break;
		if ((q = parse_element(s, len, &i, &name, &nlen)) == -1)
			continue;
		if (coding_is(name, nlen, coding) ||
		    (gzip && coding_is(name, nlen, "x-gzip")))
			q_coding = q_coding > q ? q_coding : q;
		else if (coding_is(name, nlen, "*"))
			q_star = q;
		else if (coding_is(name, nlen, "identity"))
			q_identity = q;
	}
	if (q_coding == -1)
		q_coding = q_star;	/* "*": any coding not listed */
	return q_coding > 0 && q_coding >= q_identity;
}

/* -- types --------------------------------------------------------------- */

int
compress_type_ok(const char *type)
{
	static const char *const types[] = {
		"application/json", "application/javascript",
		"application/x-javascript", "application/xml",
		"application/ecmascript", "image/svg+xml", NULL
	};
	size_t	 len, i;

	if (type == NULL)
		return 0;
	len = strcspn(type, "; \t");
	if (len >= 5 && strncasecmp(type, "text/", 5) == 0)
		return len > 5;
	for (i = 0; types[i] != NULL; i++)
		if (coding_is(type, len, types[i]))
			return 1;
	/* Structured syntax suffixes (RFC 6839): application/problem+json. */
	return (len > 5 && memchr(type, '/', len) != NULL &&
	    strncasecmp(type + len - 5, "+json", 5) == 0) ||
	    (len > 4 && memchr(type, '/', len) != NULL &&
	    strncasecmp(type + len - 4, "+xml", 4) == 0);
}

/* -- gzip ---------------------------------------------------------------- */

/*
 * Deflate what z holds into out, flush as told, until zlib has nothing
 * more for now. -1 on an error.
 */
static int
deflate_into(z_stream *z, struct evbuffer *out, int flush)
{
	struct evbuffer_iovec	 v;
	int			 rc;

	do {
		if (evbuffer_reserve_space(out, COMPRESS_CHUNK, &v, 1) < 1)
			return -1;
		z->next_out = v.iov_base;
		z->avail_out = (uInt)v.iov_len;
		rc = deflate(z, flush);
		if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
			return -1;
		v.iov_len -= z->avail_out;
		if (evbuffer_commit_space(out, &v, 1) == -1)
			return -1;
	} while (z->avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
	return 0;
}

static pthread_once_t	 stream_once = PTHREAD_ONCE_INIT;
static pthread_key_t	 stream_key;
static int		 stream_key_ok;

/* Thread exit: the thread's stream goes with it. */
static void
stream_free(void *arg)
{
	z_stream	*z = arg;

	(void)deflateEnd(z);
	free(z);
}

static void
stream_key_init(void)
{
	stream_key_ok = pthread_key_create(&stream_key, stream_free) == 0;
}

/* This thread's deflate stream, ready for a new body; NULL on failure. */
static z_stream *
stream_get(void)
{
	z_stream	*z;

	if (pthread_once(&stream_once, stream_key_init) != 0 || !stream_key_ok)
		return NULL;
	if ((z = pthread_getspecific(stream_key)) != NULL)
		return deflateReset(z) == Z_OK ? z : NULL;
	if ((z = calloc(1, sizeof(*z))) == NULL)
		return NULL;
	/* +16: a gzip header and trailer around the deflate stream. */
	if (deflateInit2(z, COMPRESS_LEVEL, Z_DEFLATED, MAX_WBITS + 16,
	    MAX_MEM_LEVEL - 1, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(z);
		return NULL;
	}
	if (pthread_setspecific(stream_key, z) != 0) {
		stream_free(z);
		return NULL;
	}
	return z;
}

int
compress_gzip(struct evbuffer *body, struct evbuffer *out)
{
	struct evbuffer_iovec	 vec[COMPRESS_PEEK];
	struct evbuffer_ptr	 at;
	z_stream		*z;
	size_t			 len = evbuffer_get_length(body);
	size_t			 done = 0, seen;
	int			 i, n, rc = -1;

	if ((z = stream_get()) == NULL)
		return -1;
	if (evbuffer_ptr_set(body, &at, 0, EVBUFFER_PTR_SET) == -1)
		goto out;
	while (done < len) {
		n = evbuffer_peek(body, (ev_ssize_t)(len - done), &at, vec,
		    COMPRESS_PEEK);
		if (n <= 0)
			goto out;
		if (n > COMPRESS_PEEK)
			n = COMPRESS_PEEK;
		for (i = 0, seen = 0; i < n && done + seen < len; i++) {
			z->next_in = vec[i].iov_base;
			z->avail_in = (uInt)(vec[i].iov_len > len - done - seen ?
			    len - done - seen : vec[i].iov_len);
			seen += z->avail_in;
			if (deflate_into(z, out, Z_NO_FLUSH) == -1)
				goto out;
		}
		done += seen;
		if (done < len && evbuffer_ptr_set(body, &at, seen,
		    EVBUFFER_PTR_ADD) == -1)
			goto out;
	}
	if (deflate_into(z, out, Z_FINISH) == -1)
		goto out;
	rc = 0;
 out:
	if (rc == -1)
		(void)evbuffer_drain(out, evbuffer_get_length(out));
	return rc;
}
