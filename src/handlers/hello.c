/*
 * hello.c - the "hello" handler: {"message":"Hello world"}.
 *
 * FastAPI's first example, and the baseline every benchmark compares
 * against. The body is a constant, so the answer costs no allocation.
 */
#include "autoconfig.h"

#include "switchyard.h"
#include "handlers/handlers.h"

static const char hello_body[] = "{\"message\":\"Hello world\"}";

static int
hello_handle(struct sy_req *req, void *state)
{
	sy_resp_content_type(req, "application/json");
	return sy_resp_body_static(req, hello_body, sizeof(hello_body) - 1) ?
	    SY_ERROR : SY_DONE;
}

const struct sy_handler handler_hello = {
	.abi = SY_ABI_VERSION,
	.name = "hello",
	.flags = 0,
	.init = NULL,
	.free = NULL,
	.handle = hello_handle,
};
