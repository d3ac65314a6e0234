/*
 * echo.c - the "echo" handler: the request body, sent back as it came.
 *
 * The upload case: the server reads the whole body (bounded by
 * limits.body_bytes, de-chunked) before the handler runs, so echo only
 * copies it. The Content-Type is the request's, or
 * application/octet-stream when it has none; "X-Body-Length: N" says how
 * many bytes came. The route must allow POST (or PUT) in its "methods".
 *
 * No args.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "switchyard.h"
#include "handlers/handlers.h"

/*
 * sy_resp_content_type() silently keeps no Content-Type for a value it
 * cannot store (127 bytes at most); such a request gets the default
 * rather than none.
 */
#define ECHO_CTYPE_MAX	127

static int
echo_handle(struct sy_req *req, void *state)
{
	const char	*ctype = sy_req_header(req, "Content-Type");
	const void	*body;
	size_t		 len;
	char		 num[32];

	(void)state;
	body = sy_req_body(req, &len);
	if (ctype == NULL || *ctype == '\0' || strlen(ctype) > ECHO_CTYPE_MAX)
		ctype = "application/octet-stream";
	sy_resp_content_type(req, ctype);
	snprintf(num, sizeof(num), "%zu", len);
	if (sy_resp_header(req, "X-Body-Length", num) == -1 ||
	    sy_resp_body(req, body, len) == -1)
		return SY_ERROR;
	return SY_DONE;
}

const struct sy_handler handler_echo = {
	.abi = SY_ABI_VERSION,
	.name = "echo",
	.flags = 0,
	.init = NULL,
	.free = NULL,
	.handle = echo_handle,
};
