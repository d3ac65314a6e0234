/*
 * hash_body.c - the "hash_body" handler: SHA-256 of the request body,
 * computed in the pool while the request stays on the loop.
 *
 * Starlette's run_in_threadpool / asyncio's run_in_executor: handle()
 * runs on the loop, hands the hashing to a pool thread with sy_offload()
 * and returns SY_PENDING; the loop serves other connections meanwhile;
 * hash_body_done() answers on the loop and finishes the request. Hence
 * SY_HANDLER_LOOP_ONLY: the config refuses it on a blocking route. The
 * route must allow POST (or PUT) in its "methods".
 *
 * Answer: {"sha256": "<64 hex digits>", "bytes": N}. A full pool queue
 * answers 503 with "Retry-After: 1", as dispatch does for blocking routes.
 *
 * The digest is libcrypto's (EVP_Digest): its SHA-256 uses the CPU's SHA
 * extensions or vector units where there are some.
 *
 * No args.
 */
#include "autoconfig.h"

#include <stdlib.h>

#include <openssl/evp.h>

#include "switchyard.h"
#include "handlers/handlers.h"

/*
 * What the pool thread touches, and nothing else. data points into the
 * request's body, which the server keeps unchanged until sy_req_finish():
 * the parser is paused while the handler holds the request, and a client
 * that leaves only marks the request aborted (the connection is freed
 * after the finish). So the pointer is copied here, not the bytes.
 */
struct hash_body_job {
	const unsigned char	*data;		/* the body, read-only */
	size_t			 len;		/* its bytes */
	unsigned char		 digest[EVP_MAX_MD_SIZE];	/* result */
	unsigned int		 digest_len;	/* its bytes; 0: failed */
};

/* Pool thread: only job. */
static void
hash_body_work(void *arg)
{
	struct hash_body_job	*job = arg;

	if (EVP_Digest(job->data, job->len, job->digest, &job->digest_len,
	    EVP_sha256(), NULL) != 1)
		job->digest_len = 0;
}

/* Loop thread: answer, free job, finish. */
static void
hash_body_done(struct sy_req *req, void *arg)
{
	struct hash_body_job	*job = arg;
	static const char	 xdigits[] = "0123456789abcdef";
	char			 hex[2 * EVP_MAX_MD_SIZE + 1];
	unsigned int		 i;

	/* Gone, or stopping before work() ran: digest may be garbage. */
	if (sy_req_aborted(req)) {
		free(job);
		sy_req_finish(req);
		return;
	}
	for (i = 0; i < job->digest_len; i++) {
		hex[2 * i] = xdigits[job->digest[i] >> 4];
		hex[2 * i + 1] = xdigits[job->digest[i] & 0xf];
	}
	hex[2 * i] = '\0';
	if (job->digest_len == 0 || sy_resp_json(req, 200,
	    json_pack("{s:s,s:I}", "sha256", hex, "bytes",
	    (json_int_t)job->len)) == -1)
		(void)sy_resp_error(req, 500, "Internal Server Error");
	free(job);
	sy_req_finish(req);
}

static int
hash_body_handle(struct sy_req *req, void *state)
{
	struct hash_body_job	*job;

	(void)state;
	if ((job = malloc(sizeof(*job))) == NULL)
		return SY_ERROR;
	job->data = sy_req_body(req, &job->len);
	job->digest_len = 0;
	if (sy_offload(req, hash_body_work, hash_body_done, job) == -1) {
		/* Queue full or worker stopping: done() will not run. */
		free(job);
		(void)sy_resp_header(req, "Retry-After", "1");
		return sy_resp_error(req, 503, "Service Unavailable: thread "
		    "pool queue full") ? SY_ERROR : SY_DONE;
	}
	return SY_PENDING;
}

const struct sy_handler handler_hash_body = {
	.abi = SY_ABI_VERSION,
	.name = "hash_body",
	.flags = SY_HANDLER_LOOP_ONLY,
	.init = NULL,
	.free = NULL,
	.handle = hash_body_handle,
};
