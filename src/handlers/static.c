/*
 * static.c - the "static" handler: files under a directory.
 *
 * For prefix routes: {"path": "/static/", "match": "prefix", "handler":
 * "static", "args": {"root": "/var/www"}} answers GET /static/a/b.css
 * with /var/www/a/b.css, sent from the file (sy_resp_file), with an ETag
 * and Last-Modified and 304 answers to If-None-Match / If-Modified-Since.
 *
 * args: "root" (required) an existing directory, resolved with realpath()
 * at config load (a relative one against the server's working directory);
 * "index" (optional, default "index.html") the file a directory request
 * ("/static/a/") is answered with; "dotfiles" (optional boolean, default
 * false) whether a path component starting with "." may be served.
 *
 * Containment. The path after the route prefix is percent-decoded first
 * and checked after: "%00", a bad escape -> 400; a "." or ".." segment,
 * encoded or not -> 404. So is any other component starting with ".",
 * unless "dotfiles" is true: a root is often a checkout or a build
 * directory, and ".git/config", ".env" or ".htpasswd" in it are not
 * meant to be published (nginx configurations usually deny "/\." for
 * the same reason). The index file is the configuration's choice and
 * is not checked. Then the file is opened one component at a
 * time with openat(O_NOFOLLOW) from the root, directories with
 * O_DIRECTORY: a symbolic link anywhere below the root is refused (404)
 * rather than resolved, so nothing outside the root can be reached, and
 * there is no check-then-open race. Anything but a regular file -> 404;
 * EACCES -> 403. A directory named without its trailing slash gets a 301
 * to the same path with one.
 *
 * Ranges. Files carry "Accept-Ranges: bytes". A Range header
 * (ranges.c parses it) with one satisfiable range is answered 206 with
 * that segment of the file; with several, 206 with a
 * multipart/byteranges body of file segments between part headers, so
 * each range still goes out by sendfile(2); none satisfiable, 416. A
 * malformed header, one of more than RANGES_MAX ranges, or a stale
 * If-Range is ignored: 200, the whole file. Conditionals come first
 * (RFC 9110 13.2.2): a 304 wins over a range.
 *
 * Precompressed files. When the client accepts gzip and NAME.gz sits
 * beside NAME (a regular file, not a link), that is sent instead, as
 * nginx's gzip_static does: with the original's Content-Type,
 * "Content-Encoding: gzip", "Vary: Accept-Encoding", and the .gz's own
 * ETag (suffixed "-gz") and Last-Modified. Ranges then count bytes of
 * the .gz, as with nginx: a client resumes the coded body it was
 * getting; several ranges of a .gz are answered with all of it (200),
 * since a Content-Encoding over a multipart body would say the parts are
 * coded together. A client that does not accept gzip never sees it.
 *
 * Mode. Opening and stat'ing happen in handle(): a few system calls that
 * are cheap on local disks with a warm cache, so "nonblocking" suits the
 * usual case. On slow or network filesystems, where open() can stall,
 * use "blocking": the handler touches only its request, so it is safe on
 * a pool thread (no SY_HANDLER_LOOP_ONLY).
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "switchyard.h"
#include "api.h"
#include "handlers/handlers.h"
#include "handlers/ranges.h"

#define STATIC_PATH_MAX		4096	/* bytes of a decoded path */
#define STATIC_LOCATION_MAX	1024	/* bytes of a 301's Location */
#define STATIC_INDEX_DEFAULT	"index.html"

struct static_conf {
	char		*root;		/* absolute, no symlinks (realpath) */
	char		*index;		/* a file name: no '/', not . or .. */
	int		 dotfiles;	/* serve ".name" components */
};

/* -- args ---------------------------------------------------------------- */

static void
static_free(void *state)
{
	struct static_conf	*sc = state;

	if (sc == NULL)
		return;
	free(sc->root);
	free(sc->index);
	free(sc);
}

static int
static_init(const json_t *args, void **state, char *err, size_t errlen)
{
	static const char *const known[] = { "root", "index", "dotfiles",
					     NULL };
	static const char *const required[] = { "root", NULL };
	struct static_conf	*sc;
	struct stat		 st;
	const char		*root, *index = STATIC_INDEX_DEFAULT;
	char			*real;
	int			 dotfiles = 0;

	if (sy_args_keys(args, known, required, err, errlen) == -1 ||
	    sy_args_string(args, "root", 1, &root, err, errlen) == -1 ||
	    sy_args_string(args, "index", 0, &index, err, errlen) == -1 ||
	    sy_args_bool(args, "dotfiles", 0, &dotfiles, err, errlen) == -1)
		return -1;
	if (strchr(index, '/') != NULL || strcmp(index, ".") == 0 ||
	    strcmp(index, "..") == 0) {
		snprintf(err, errlen, "index: must be a file name, without "
		    "\"/\"");
		return -1;
	}
	if ((real = realpath(root, NULL)) == NULL) {
		snprintf(err, errlen, "root: %s: %s", root, strerror(errno));
		return -1;
	}
	if (stat(real, &st) == -1 || !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "root: %s is not a directory", root);
		free(real);
		return -1;
	}
	if ((sc = calloc(1, sizeof(*sc))) == NULL ||
	    (sc->index = strdup(index)) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(sc);
		free(real);
		return -1;
	}
	sc->root = real;
	sc->dotfiles = dotfiles;
	*state = sc;
	return 0;
}

/* -- paths --------------------------------------------------------------- */

/*
 * Percent-decode the path src into buf: '+' stays itself (it means a
 * space only in queries). -1 on a malformed escape, an encoded NUL, or
 * when it does not fit.
 *
 * sy_req_path() ends before the query (http.c copies the path out of the
 * target), so no raw '?' reaches here; one could only start a query, so
 * stopping at it keeps the decoder right for a whole target too. An
 * encoded "%3F" is a character of a name.
 */
static int
decode_path(const char *src, char *buf, size_t bufsize)
{
	return sy_url_decode(src, strcspn(src, "?"), buf, bufsize,
	    SY_URL_NONUL) == -1 ? -1 : 0;
}

/*
 * Does the decoded path have a segment that must not be served: "." or
 * "..", always, and any other starting with "." unless dotfiles?
 */
static int
has_dot_segment(const char *p, int dotfiles)
{
	size_t	 len;

	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			return 0;
		len = strcspn(p, "/");
		if (p[0] == '.' && (!dotfiles || len == 1 ||
		    (len == 2 && p[1] == '.')))
			return 1;
		p += len;
	}
}

/*
 * Append s to buf (at *len, size bufsize), percent-encoding every byte
 * but the unreserved and sub-delims ones, ':', '@' and those in keep.
 * -1 when it does not fit.
 */
static int
encode_append(char *buf, size_t *len, size_t bufsize, const char *s,
    const char *keep)
{
	static const char	 hex[] = "0123456789ABCDEF";
	static const char	 safe[] = "-._~!$&'()*+,;=:@";
	unsigned char		 c;

	for (; *s != '\0'; s++) {
		c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr(safe, c) != NULL ||
		    strchr(keep, c) != NULL) {
			if (*len + 1 >= bufsize)
				return -1;
			buf[(*len)++] = (char)c;
		} else {
			if (*len + 3 >= bufsize)
				return -1;
			buf[(*len)++] = '%';
			buf[(*len)++] = hex[c >> 4];
			buf[(*len)++] = hex[c & 0xf];
		}
	}
	buf[*len] = '\0';
	return 0;
}

/*
 * The Location of a directory's 301: the route, the decoded path
 * re-encoded with empty segments dropped, a '/', and the query. Built
 * rather than copied so "//host" or "/\host" in a request cannot make it
 * point to another site.
 */
static int
location_format(const char *route, const char *rel, const char *query,
    char *buf, size_t bufsize)
{
	char	 seg[STATIC_PATH_MAX];
	size_t	 len, n;

	len = strlen(route);
	if (len + 1 >= bufsize)
		return -1;
	memcpy(buf, route, len + 1);
	for (;;) {
		while (*rel == '/')
			rel++;
		if (*rel == '\0')
			break;
		n = strcspn(rel, "/");
		memcpy(seg, rel, n);
		seg[n] = '\0';
		rel += n;
		if ((len == 0 || buf[len - 1] != '/') &&
		    encode_append(buf, &len, bufsize, "/", "/") == -1)
			return -1;
		if (encode_append(buf, &len, bufsize, seg, "") == -1)
			return -1;
	}
	if (encode_append(buf, &len, bufsize, "/", "/") == -1)
		return -1;
	if (query != NULL && (encode_append(buf, &len, bufsize, "?", "?") ==
	    -1 || encode_append(buf, &len, bufsize, query, "/?%") == -1))
		return -1;
	return 0;
}

/* -- opening ------------------------------------------------------------- */

/* The status for an open() or stat() that failed with e. */
static int
errno_status(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
	case ELOOP:		/* a symbolic link, refused by O_NOFOLLOW */
	case ENAMETOOLONG:
	case ENXIO:		/* a socket or device */
	case ENODEV:
		return 404;
	case EACCES:
	case EPERM:
		return 403;
	case EMFILE:
	case ENFILE:
	case ENOMEM:
	case EAGAIN:		/* a lease, with O_NONBLOCK */
		return 503;
	default:
		return 500;
	}
}

/*
 * Open name in dirfd, not following a symbolic link. O_NONBLOCK: a FIFO
 * left in the root must not hold the thread until a writer appears. It
 * has no effect on the regular files this answers with.
 */
static int
open_leaf(int dirfd, const char *name, struct stat *st)
{
	int	 fd;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fstat(fd, st) == -1) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/*
 * Walk the decoded path rel (modified) down from the root, one component
 * at a time. Returns 0 with *fdp open on a regular file, *name its file
 * name (for the content type) and *dirfdp open on its directory (for a
 * FILE.gz beside it), or the status to answer: 301 for a directory named
 * without its trailing slash, 403, 404, 500, 503.
 */
static int
open_under_root(const struct static_conf *sc, char *rel, int dir_form,
    int *fdp, int *dirfdp, struct stat *st, const char **name)
{
	char	*seg, *next;
	int	 dirfd, fd, status;

	if ((dirfd = open(sc->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return errno_status(errno);
	*name = NULL;
	for (seg = rel;; seg = next) {
		while (*seg == '/')
			seg++;
		if (*seg == '\0')
			break;		/* dirfd: the directory named */
		next = seg + strcspn(seg, "/");
		if (*next != '\0')
			*next++ = '\0';
		while (*next == '/')
			next++;
		if (*next != '\0') {
			/* Not the last: must be a directory, not a link. */
			fd = openat(dirfd, seg, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
			if (fd == -1) {
				status = errno_status(errno);
				goto out;
			}
			(void)close(dirfd);
			dirfd = fd;
			continue;
		}
		if ((fd = open_leaf(dirfd, seg, st)) == -1) {
			status = errno_status(errno);
			goto out;
		}
		if (S_ISREG(st->st_mode) && !dir_form) {
			*name = seg;
			*fdp = fd;
			*dirfdp = dirfd;
			return 0;
		}
		if (!S_ISDIR(st->st_mode)) {
			/* "file/", a FIFO, a device, a socket. */
			(void)close(fd);
			status = 404;
			goto out;
		}
		(void)close(dirfd);
		dirfd = fd;
		break;
	}
	/* A directory. */
	if (!dir_form) {
		status = 301;
		goto out;
	}
	if ((fd = open_leaf(dirfd, sc->index, st)) == -1) {
		status = errno_status(errno);
		goto out;
	}
	if (!S_ISREG(st->st_mode)) {
		(void)close(fd);
		status = 404;
		goto out;
	}
	*name = sc->index;
	*fdp = fd;
	*dirfdp = dirfd;
	return 0;
out:
	(void)close(dirfd);
	return status;
}

/*
 * The precompressed NAME.gz beside name in dirfd, as nginx's gzip_static
 * serves it: a regular file, not a symbolic link. -1 when there is none
 * (or it cannot be opened: the original is served then).
 */
static int
open_gz(int dirfd, const char *name, struct stat *st)
{
	char	 gz[NAME_MAX + 1];
	int	 fd, n;

	n = snprintf(gz, sizeof(gz), "%s.gz", name);
	if (n < 0 || (size_t)n >= sizeof(gz))
		return -1;
	if ((fd = open_leaf(dirfd, gz, st)) == -1)
		return -1;
	if (!S_ISREG(st->st_mode)) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

/* -- headers ------------------------------------------------------------- */

struct static_type {
	const char	*ext;
	const char	*type;
};

/* By extension, case-insensitive; the first match wins. */
static const struct static_type static_types[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "htm", "text/html; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "json", "application/json" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "xml", "application/xml" },
	{ "svg", "image/svg+xml" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "jpeg", "image/jpeg" },
	{ "gif", "image/gif" },
	{ "webp", "image/webp" },
	{ "ico", "image/x-icon" },
	{ "wasm", "application/wasm" },
	{ "pdf", "application/pdf" },
	{ "woff", "font/woff" },
	{ "woff2", "font/woff2" },
	{ "mp4", "video/mp4" },
};

static const char *
content_type(const char *name)
{
	const char	*dot = strrchr(name, '.');
	size_t		 i;

	if (dot != NULL && dot != name)
		for (i = 0; i < sizeof(static_types) / sizeof(static_types[0]);
		    i++)
			if (strcasecmp(dot + 1, static_types[i].ext) == 0)
				return static_types[i].type;
	return "application/octet-stream";
}

static const char *const months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

/* Days from 1970-01-01 to y-m-d, proleptic Gregorian (m 1..12). */
static long long
days_from_civil(long long y, int m, int d)
{
	long long	 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/*
 * Parse an HTTP-date in any of the three forms a recipient must accept
 * (RFC 9110 5.6.7): IMF-fixdate, RFC 850, asctime. -1 when invalid.
 */
static int
http_date_parse(const char *s, time_t *t)
{
	char	 wday[16], mon[4];
	int	 y, d, hh, mm, ss, m, n = 0;

	/* %n stays 0 unless everything before it matched. */
	if (sscanf(s, "%15[A-Za-z], %2d %3s %4d %2d:%2d:%2d GMT%n", wday, &d,
	    mon, &y, &hh, &mm, &ss, &n) != 7 || n == 0 || s[n] != '\0') {
		n = 0;
		if (sscanf(s, "%15[A-Za-z], %2d-%3s-%2d %2d:%2d:%2d GMT%n",
		    wday, &d, mon, &y, &hh, &mm, &ss, &n) == 7 && n > 0 &&
		    s[n] == '\0')
			y += y < 70 ? 2000 : 1900;
		else {
			n = 0;
			if (sscanf(s, "%3s %3s %2d %2d:%2d:%2d %4d%n", wday,
			    mon, &d, &hh, &mm, &ss, &y, &n) != 7 || n == 0 ||
			    s[n] != '\0')
				return -1;
		}
	}
	for (m = 0; m < 12; m++)
		if (strcmp(mon, months[m]) == 0)
			break;
	if (m == 12 || y < 1970 || d < 1 || d > 31 || hh > 23 || mm > 59 ||
	    ss > 60 || hh < 0 || mm < 0 || ss < 0)
		return -1;
	*t = (time_t)(days_from_civil(y, m + 1, d) * 86400 + hh * 3600 +
	    mm * 60 + ss);
	return 0;
}

/*
 * Does the If-None-Match value (a list of entity-tags, or "*") match
 * etag? Weak comparison, as RFC 9110 13.1.2 asks: a "W/" prefix is
 * ignored on either side.
 */
static int
etag_match(const char *list, const char *etag)
{
	const char	*p = list, *end;
	size_t		 elen = strlen(etag);

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			return 0;
		if (*p == '*')
			return 1;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (*p == '"' && (end = strchr(p + 1, '"')) != NULL)
			end++;
		else
			end = p + strcspn(p, ", \t");
		if ((size_t)(end - p) == elen && memcmp(p, etag, elen) == 0)
			return 1;
		p = end + strcspn(end, ",");
	}
}

/* Should this GET or HEAD be answered 304 Not Modified? */
static int
not_modified(struct sy_req *req, const char *etag, time_t mtime)
{
	const char	*v;
	time_t		 since;

	/* If-None-Match, when sent, decides alone (RFC 9110 13.2.2). */
	if ((v = sy_req_header(req, "If-None-Match")) != NULL)
		return etag_match(v, etag);
	if ((v = sy_req_header(req, "If-Modified-Since")) != NULL &&
	    http_date_parse(v, &since) == 0)
		return mtime <= since;
	return 0;
}

/* -- ranges -------------------------------------------------------------- */

static int
refuse(struct sy_req *req, int status, const char *message)
{
	return sy_resp_error(req, status, message) ? SY_ERROR : SY_DONE;
}


/*
 * May the Range header be honoured? Yes without If-Range, or when it
 * names the current validator: an entity-tag compared strongly (a weak
 * one never matches), a date equal to Last-Modified (RFC 9110 13.1.5).
 * Otherwise the client's copy is stale: the whole file, 200.
 */
static int
if_range_holds(struct sy_req *req, const char *etag, time_t mtime)
{
	const char	*v;
	time_t		 t;

	if ((v = sy_req_header(req, "If-Range")) == NULL)
		return 1;
	if (*v == '"')
		return strcmp(v, etag) == 0;
	if (strncmp(v, "W/", 2) == 0)
		return 0;
	return http_date_parse(v, &t) == 0 && t == mtime;
}

/* "bytes FIRST-LAST/SIZE" for r of a file of size bytes. */
static void
content_range_format(const struct range *r, off_t size, char *buf,
    size_t bufsize)
{
	(void)snprintf(buf, bufsize, "bytes %lld-%lld/%lld",
	    (long long)r->start, (long long)(r->start + r->len - 1),
	    (long long)size);
}

/* 416, with the size the client should have asked within. */
static int
refuse_range(struct sy_req *req, off_t size)
{
	char	 cr[48];

	(void)snprintf(cr, sizeof(cr), "bytes */%lld", (long long)size);
	if (sy_resp_header(req, "Content-Range", cr) == -1)
		return SY_ERROR;
	return refuse(req, 416, "Range Not Satisfiable");
}

/* 206 with one range of fd, which this owns. */
static int
send_range(struct sy_req *req, int fd, off_t size, const struct range *r)
{
	char	 cr[80];

	content_range_format(r, size, cr, sizeof(cr));
	if (sy_resp_header(req, "Content-Range", cr) == -1) {
		(void)close(fd);
		return SY_ERROR;
	}
	sy_resp_status(req, 206);
	return sy_resp_file(req, fd, r->start, r->len) == -1 ? SY_ERROR :
	    SY_DONE;
}

/*
 * 206 with a multipart/byteranges body (RFC 9110 14.6): each range of
 * fd (owned by this) is a piece of one shared file segment, sent by
 * sendfile(2) like a whole file, between the part headers; the response
 * holds one descriptor however many parts it has, so a client pipelining
 * many-part requests cannot pile up descriptors. The boundary is random,
 * so a file cannot be made to contain it.
 */
static int
send_multipart(struct sy_req *req, int fd, off_t size, const char *type,
    const struct range *r, size_t n)
{
	struct evbuffer_file_segment	*seg;
	char				 boundary[24], ctype[80], cr[80];
	uint64_t			 rnd;
	size_t				 i;
	int				 rc = SY_DONE;

	if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd)) {
		(void)close(fd);
		return SY_ERROR;
	}
	if ((seg = api_file_share(fd)) == NULL)
		return SY_ERROR;
	(void)snprintf(boundary, sizeof(boundary), "%016llx",
	    (unsigned long long)rnd);
	(void)snprintf(ctype, sizeof(ctype),
	    "multipart/byteranges; boundary=%s", boundary);
	sy_resp_content_type(req, ctype);
	sy_resp_status(req, 206);
	for (i = 0; i < n && rc == SY_DONE; i++) {
		content_range_format(&r[i], size, cr, sizeof(cr));
		if (sy_resp_printf(req, "%s--%s\r\nContent-Type: %s\r\n"
		    "Content-Range: %s\r\n\r\n", i > 0 ? "\r\n" : "",
		    boundary, type, cr) == -1 ||
		    api_resp_file_piece(req, seg, fd, r[i].start,
		    r[i].len) == -1)
			rc = SY_ERROR;
	}
	api_file_unshare(seg);		/* the body holds its own */
	if (rc == SY_DONE && sy_resp_printf(req, "\r\n--%s--\r\n",
	    boundary) == -1)
		rc = SY_ERROR;
	return rc;
}

/* -- handle -------------------------------------------------------------- */

static int
static_handle(struct sy_req *req, void *state)
{
	const struct static_conf	*sc = state;
	const char			*method = sy_req_method(req);
	const char			*path = sy_req_path(req);
	const char			*route = sy_req_route(req);
	const char			*name = NULL;	/* set on every path that uses it */
	const char			*type, *v;
	struct range			 ranges[RANGES_MAX];
	size_t				 nranges;
	char				 rel[STATIC_PATH_MAX];
	char				 loc[STATIC_LOCATION_MAX];
	char				 etag[48], lastmod[40];
	struct stat			 st, gzst;
	size_t				 route_len = strlen(route);
	long long			 mtime_ns;
	int				 fd = -1, dirfd = -1, gzfd, dir_form;
	int				 status;
	int				 gzip = 0;

	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		/* Only if the config adds methods: the default is GET, HEAD. */
		(void)sy_resp_header(req, "Allow", "GET, HEAD");
		return refuse(req, 405, "Method Not Allowed");
	}
	if (strncmp(path, route, route_len) != 0)
		return refuse(req, 404, "Not Found");
	path += route_len;
	/* A prefix "/static" must not serve "/staticfoo" (strchr finds NUL). */
	if (route_len > 0 && route[route_len - 1] != '/' &&
	    strchr("/?", *path) == NULL)
		return refuse(req, 404, "Not Found");
	/* Decode first, check after: "%2e%2e%2f" is "../" here. */
	if (decode_path(path, rel, sizeof(rel)) == -1)
		return refuse(req, 400, "Bad Request");
	if (has_dot_segment(rel, sc->dotfiles))
		return refuse(req, 404, "Not Found");
	if (rel[0] != '\0')
		dir_form = rel[strlen(rel) - 1] == '/';
	else
		dir_form = route_len > 0 && route[route_len - 1] == '/';
	status = open_under_root(sc, rel, dir_form, &fd, &dirfd, &st, &name);
	switch (status) {
	case 0:
		/* The client's copy, ETag and ranges are of the .gz then. */
		if (sy_req_accepts_encoding(req, "gzip") &&
		    (gzfd = open_gz(dirfd, name, &gzst)) != -1) {
			(void)close(fd);
			fd = gzfd;
			st = gzst;
			gzip = 1;
		}
		(void)close(dirfd);
		break;
	case 301:
		/* The walk cut rel into pieces: decode it again. */
		if (decode_path(path, rel, sizeof(rel)) == -1 ||
		    location_format(route, rel, sy_req_query_string(req), loc,
		    sizeof(loc)) == -1 ||
		    sy_resp_header(req, "Location", loc) == -1)
			return refuse(req, 414, "URI Too Long");
		return refuse(req, 301, "Moved Permanently");
	case 403:
		return refuse(req, 403, "Forbidden");
	case 404:
		return refuse(req, 404, "Not Found");
	case 503:
		return refuse(req, 503, "Service Unavailable");
	default:
		return refuse(req, 500, "Internal Server Error");
	}

	mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL +
	    st.st_mtim.tv_nsec;
	/* "-gz": never the ETag of the original, whatever the sizes. */
	(void)snprintf(etag, sizeof(etag), "\"%llx-%llx%s\"",
	    (unsigned long long)st.st_size, (unsigned long long)mtime_ns,
	    gzip ? "-gz" : "");
	(void)sy_http_date(st.st_mtim.tv_sec, lastmod, sizeof(lastmod));
	if (sy_resp_header(req, "ETag", etag) == -1 || (lastmod[0] != '\0' &&
	    sy_resp_header(req, "Last-Modified", lastmod) == -1) || (gzip &&
	    sy_resp_header(req, "Vary", "Accept-Encoding") == -1)) {
		(void)close(fd);
		return SY_ERROR;
	}
	if (not_modified(req, etag, st.st_mtim.tv_sec)) {
		(void)close(fd);
		sy_resp_status(req, 304);
		return SY_DONE;
	}
	type = content_type(name);
	sy_resp_content_type(req, type);
	if (st.st_size == 0) {
		(void)close(fd);
		return SY_DONE;
	}
	if (sy_resp_header(req, "Accept-Ranges", "bytes") == -1) {
		(void)close(fd);
		return SY_ERROR;
	}
	nranges = 0;
	if ((v = sy_req_header(req, "Range")) != NULL &&
	    if_range_holds(req, etag, st.st_mtim.tv_sec))
		/*
		 * Of a .gz, one range only: a Content-Encoding over a
		 * multipart body would say the parts are coded together.
		 */
		switch (ranges_parse(v, strlen(v), st.st_size, ranges,
		    gzip ? 1 : RANGES_MAX, &nranges)) {
		case RANGES_OK:
			break;
		case RANGES_UNSATISFIABLE:
			(void)close(fd);
			return refuse_range(req, st.st_size);
		case RANGES_IGNORE:
			nranges = 0;
			break;
		}
	/* Not before: a 416's JSON is not coded. */
	if (gzip && sy_resp_header(req, "Content-Encoding", "gzip") == -1) {
		(void)close(fd);
		return SY_ERROR;
	}
	/* From here the senders own fd, on failure too. */
	if (nranges == 1)
		return send_range(req, fd, st.st_size, &ranges[0]);
	if (nranges > 1)
		return send_multipart(req, fd, st.st_size, type, ranges,
		    nranges);
	return sy_resp_file(req, fd, 0, st.st_size) == -1 ? SY_ERROR :
	    SY_DONE;
}

const struct sy_handler handler_static = {
	.abi = SY_ABI_VERSION,
	.name = "static",
	.flags = 0,
	.init = static_init,
	.free = static_free,
	.handle = static_handle,
};
