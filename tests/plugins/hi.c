/*
 * hi.c - the plugin tests/integration/plugins.sh builds against the
 * installed header with pkg-config, in several variants (-D):
 *
 *   HI_VERSION=N  the number "hi" answers with (a rebuilt plugin is new code)
 *   HI_BAD_ABI    a handler built for another ABI
 *   HI_BAD_NAME   a handler whose name is not a valid one
 *   HI_CLASH      a handler called "hello", like a built-in
 *   HI_EMPTY      an empty table
 *   HI_NO_TABLE   no sy_plugin_handlers at all
 *   HI_UNDEFINED  a call to a function the server does not have
 *   HI_INIT_CRASH init() dies of SIGSEGV
 *
 * Args of "hi": "greeting" (text), "ms" (sleep first), "once" (a path:
 * init() creates it and refuses when it exists, so that the checking
 * process passes and every worker after it fails: a reload rolled back).
 */
#define _GNU_SOURCE	/* syscall(2), nanosleep(2) under -std=c11 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

#include <switchyard.h>

#ifndef HI_VERSION
#define HI_VERSION	1
#endif

/* A null pointer the compiler cannot see through: a real fault. */
static int *volatile nowhere;

struct hi {
	char		greeting[64];
	unsigned long	ms;
};

static int
hi_init(const json_t *args, void **state, char *err, size_t errlen)
{
	static const char *const known[] = { "greeting", "ms", "once", NULL };
	struct hi	*hi;
	const json_t	*g, *once;
	unsigned long	 ms = 0;
	int		 fd;

#ifdef HI_INIT_CRASH
	*nowhere = 1;
#endif
	if (sy_args_keys(args, known, NULL, err, errlen) == -1 ||
	    sy_args_uint(args, "ms", 0, 0, 10000, &ms, err, errlen) == -1)
		return -1;
	once = args != NULL ? json_object_get(args, "once") : NULL;
	if (once != NULL) {
		if (!json_is_string(once) || (fd = open(json_string_value(once),
		    O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1) {
			(void)snprintf(err, errlen, "once: %s", errno == EEXIST ?
			    "init() ran before" : "must be a path to create");
			return -1;
		}
		(void)close(fd);
	}
	g = args != NULL ? json_object_get(args, "greeting") : NULL;
	if (g != NULL && (!json_is_string(g) || json_string_length(g) >= 64)) {
		(void)snprintf(err, errlen, "greeting: must be a string of at "
		    "most 63 bytes");
		return -1;
	}
	if ((hi = calloc(1, sizeof(*hi))) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return -1;
	}
	(void)snprintf(hi->greeting, sizeof(hi->greeting), "%s",
	    g != NULL ? json_string_value(g) : "hi");
	hi->ms = ms;
	*state = hi;
	return 0;
}

static void
hi_free(void *state)
{
	free(state);
}

/*
 * {"greeting": ..., "version": N, "main_thread": true|false}: the same
 * length from every worker and both versions, so that ab's check of the
 * length (a truncated answer is a failure) holds across a reload.
 */
static int
hi_handle(struct sy_req *req, void *state)
{
	const struct hi	*hi = state;
	struct timespec	 ts;

#ifdef HI_UNDEFINED
	extern int sy_no_such_function(void);
	(void)sy_no_such_function();
#endif
	if (hi->ms > 0) {
		ts.tv_sec = (time_t)(hi->ms / 1000);
		ts.tv_nsec = (long)(hi->ms % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
			;
	}
	return sy_resp_json(req, 200, json_pack("{s:s, s:i, s:s}",
	    "greeting", hi->greeting, "version", HI_VERSION,
	    "main_thread", (long)syscall(SYS_gettid) == (long)getpid() ?
	    "yes" : "no!"));
}

/* {"client": "..."}: what sy_req_client() says. */
static int
client_handle(struct sy_req *req, void *state)
{
	(void)state;
	return sy_resp_json(req, 200, json_pack("{s:s}", "client",
	    sy_req_client(req)));
}

/* Dies the way a buggy plugin does, when asked to. */
static int
crash_handle(struct sy_req *req, void *state)
{
	(void)state;
	if (sy_req_query_string(req) != NULL &&
	    strcmp(sy_req_query_string(req), "now") == 0)
		*nowhere = 1;
	sy_resp_printf(req, "not today\n");
	return SY_DONE;
}

static const struct sy_handler hi = {
	.abi = SY_ABI_VERSION, .name = "hi", .init = hi_init,
	.free = hi_free, .handle = hi_handle
};
static const struct sy_handler hi_loop = {
	.abi = SY_ABI_VERSION, .name = "hi_loop",
	.flags = SY_HANDLER_LOOP_ONLY, .init = hi_init, .free = hi_free,
	.handle = hi_handle
};
static const struct sy_handler client = {
	.abi = SY_ABI_VERSION, .name = "hi_client", .handle = client_handle
};
static const struct sy_handler crash = {
	.abi = SY_ABI_VERSION, .name = "hi_crash", .handle = crash_handle
};
#ifdef HI_BAD_ABI
static const struct sy_handler odd = {
	.abi = 99, .name = "hi_future", .handle = crash_handle
};
#elif defined(HI_BAD_NAME)
static const struct sy_handler odd = {
	.abi = SY_ABI_VERSION, .name = "hi there", .handle = crash_handle
};
#elif defined(HI_CLASH)
static const struct sy_handler odd = {
	.abi = SY_ABI_VERSION, .name = "hello", .handle = crash_handle
};
#endif

#if defined(HI_EMPTY)
__attribute__((visibility("default")))
const struct sy_handler *const sy_plugin_handlers[] = { NULL };
#elif defined(HI_NO_TABLE)
/* An ordinary shared object: something, but not a table. */
__attribute__((visibility("default"))) int hi_not_a_table = 1;
#elif defined(HI_BAD_ABI) || defined(HI_BAD_NAME) || defined(HI_CLASH)
SY_PLUGIN(&hi, &hi_loop, &odd, &client);
#else
SY_PLUGIN(&hi, &hi_loop, &crash, &client);
#endif
