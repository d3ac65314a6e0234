/*
 * write_file.c - the "write_file" handler: write a large temporary file.
 *
 * The "Concurrency in FastAPI" article's GET /write: create a temporary
 * file, write `bytes` bytes of 'a' into it, and answer how long that took:
 * {"waiting_time": SECONDS, "unit": "seconds"}, SECONDS a JSON real.
 * The write is plain blocking I/O. On a blocking route (the article's
 * "def write") it holds one pool thread; on a non-blocking route (its
 * "async def write_bad") it holds the worker's loop, and every other
 * connection of that worker waits: reproduced on purpose.
 *
 * The file is made with mkstemp() in dir and unlinked at once, as
 * Python's TemporaryFile does, so nothing is left behind even if the
 * worker dies mid-write; it vanishes on close(). A failure (disk full,
 * dir removed since the config was loaded) answers 500 with the reason.
 *
 * args: "bytes" (required, 1..1073741824), "dir" (optional, default
 * "/tmp": an absolute path to an existing directory that the server may
 * write into, checked at config load), "fsync" (optional boolean, default
 * false: fsync(2) the file before closing it, so the time includes
 * getting the data to the disk).
 */
#include "autoconfig.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "switchyard.h"
#include "handlers/handlers.h"

#define WRITE_FILE_BYTES_MAX	1073741824	/* 1 GiB */
#define WRITE_FILE_CHUNK	65536		/* bytes per write(2) */
#define WRITE_FILE_DIR		"/tmp"		/* default of "dir" */
#define WRITE_FILE_NAME		"/switchyard-write.XXXXXX"

struct write_file_args {
	size_t	 bytes;			/* to write per request */
	int	 fsync;			/* fsync(2) before close */
	char	 dir[PATH_MAX];		/* absolute, no trailing '/' */
	size_t	 dir_len;		/* + sizeof(WRITE_FILE_NAME) fits */
};

/*
 * The bytes written, filled once. Read by any number of threads at once,
 * never written after the pthread_once.
 */
static char		write_file_chunk[WRITE_FILE_CHUNK];
static pthread_once_t	write_file_once = PTHREAD_ONCE_INIT;

static void
write_file_fill(void)
{
	memset(write_file_chunk, 'a', sizeof(write_file_chunk));
}

/* Validate dir s into a->dir. */
static int
check_dir(const char *s, struct write_file_args *a, char *err, size_t errlen)
{
	struct stat	 st;
	size_t		 len = strlen(s);

	if (s[0] != '/') {
		snprintf(err, errlen, "dir: must be an absolute path");
		return -1;
	}
	/* "/tmp/" and "/tmp" name the same place; keep one form. */
	while (len > 1 && s[len - 1] == '/')
		len--;
	if (len + sizeof(WRITE_FILE_NAME) > sizeof(a->dir)) {
		snprintf(err, errlen, "dir: longer than %zu bytes",
		    sizeof(a->dir) - sizeof(WRITE_FILE_NAME));
		return -1;
	}
	memcpy(a->dir, s, len);
	a->dir[len] = '\0';
	a->dir_len = len;
	if (stat(a->dir, &st) == -1) {
		snprintf(err, errlen, "dir: %s: %s", a->dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "dir: %s: not a directory", a->dir);
		return -1;
	}
	/* Checked as the user loading the config (before any user switch). */
	if (access(a->dir, W_OK | X_OK) == -1) {
		snprintf(err, errlen, "dir: %s: not writable: %s", a->dir,
		    strerror(errno));
		return -1;
	}
	return 0;
}

static int
write_file_init(const json_t *args, void **state, char *err, size_t errlen)
{
	static const char *const known[] = { "bytes", "dir", "fsync", NULL };
	static const char *const required[] = { "bytes", NULL };
	struct write_file_args	*a;
	const char		*dir = WRITE_FILE_DIR;
	unsigned long		 bytes;

	if (sy_args_keys(args, known, required, err, errlen) == -1 ||
	    sy_args_uint(args, "bytes", 1, 1, WRITE_FILE_BYTES_MAX, &bytes,
	    err, errlen) == -1 ||
	    sy_args_string(args, "dir", 0, &dir, err, errlen) == -1)
		return -1;
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	a->bytes = bytes;
	/* The default dir is checked too: a box without /tmp exists. */
	if (sy_args_bool(args, "fsync", 0, &a->fsync, err, errlen) == -1 ||
	    check_dir(dir, a, err, errlen) == -1) {
		free(a);
		return -1;
	}
	*state = a;
	return 0;
}

static void
write_file_free(void *state)
{
	free(state);
}

/* Write bytes bytes of 'a' to fd. Returns 0, or -1 with errno set. */
static int
write_all(int fd, size_t bytes)
{
	size_t	 n;
	ssize_t	 w;

	while (bytes > 0) {
		n = bytes < sizeof(write_file_chunk) ? bytes :
		    sizeof(write_file_chunk);
		if ((w = write(fd, write_file_chunk, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {		/* never for a regular file; no spin */
			errno = EIO;
			return -1;
		}
		/* A short write: the next one says why (ENOSPC...). */
		bytes -= (size_t)w;
	}
	return 0;
}

static int
write_file_refuse(struct sy_req *req, const char *what, const char *dir,
    int errnum)
{
	char	 msg[PATH_MAX + 128];

	snprintf(msg, sizeof(msg), "write_file: %s in %s: %s", what, dir,
	    strerror(errnum));
	return sy_resp_error(req, 500, msg) ? SY_ERROR : SY_DONE;
}

static int
write_file_handle(struct sy_req *req, void *state)
{
	const struct write_file_args	*a = state;
	struct timespec			 t0;
	char				 path[PATH_MAX];
	double				 secs;
	int				 fd, saved;

	(void)pthread_once(&write_file_once, write_file_fill);
	clock_now(&t0);
	/* A copy per call: mkstemp() rewrites the X's, and threads share a. */
	memcpy(path, a->dir, a->dir_len);
	memcpy(path + a->dir_len, WRITE_FILE_NAME, sizeof(WRITE_FILE_NAME));
	if ((fd = mkstemp(path)) == -1)
		return write_file_refuse(req, "cannot create a file", a->dir,
		    errno);
	if (unlink(path) == -1) {
		saved = errno;
		(void)close(fd);
		return write_file_refuse(req, "cannot unlink its file",
		    a->dir, saved);
	}
	if (write_all(fd, a->bytes) == -1) {
		saved = errno;
		(void)close(fd);
		return write_file_refuse(req, "write failed", a->dir, saved);
	}
	if (a->fsync && fsync(fd) == -1) {
		saved = errno;
		(void)close(fd);
		return write_file_refuse(req, "fsync failed", a->dir, saved);
	}
	/* close() can report a deferred write error (NFS): count it. */
	if (close(fd) == -1)
		return write_file_refuse(req, "close failed", a->dir, errno);
	secs = clock_since_s(&t0);
	return sy_resp_json(req, 200, json_pack("{s:f,s:s}", "waiting_time",
	    secs, "unit", "seconds")) ? SY_ERROR : SY_DONE;
}

const struct sy_handler handler_write_file = {
	.abi = SY_ABI_VERSION,
	.name = "write_file",
	.flags = 0,
	.init = write_file_init,
	.free = write_file_free,
	.handle = write_file_handle,
};
