/*
 * json.c - the "json" handler: a large JSON document, built and encoded.
 *
 * The "large JSON encoding blocks the loop" case: building N objects
 * with jansson and encoding them takes time proportional to N, all of it
 * CPU. On a non-blocking route every other connection of the worker
 * waits meanwhile; on a blocking route one pool thread does.
 *
 * args: "items" (required, 1..10000000). Memory grows with it: jansson
 * needs a few hundred bytes per item while building, and the answer is
 * about 70 bytes per item.
 *
 * Answer: {"items": [{"id": i, "name": "item i", "value": i * 0.5,
 * "tags": ["a", "b"]}, ... for i in 0..N-1], "count": N}.
 *
 * Local names start with "jsondoc_": "json_" is jansson's namespace.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "switchyard.h"
#include "handlers/handlers.h"

#define JSONDOC_ITEMS_MAX	10000000

struct jsondoc_args {
	unsigned	items;		/* objects in the "items" array */
};

static int
jsondoc_init(const json_t *args, void **state, char *err, size_t errlen)
{
	static const char *const required[] = { "items", NULL };
	static const char *const known[] = { "items", NULL };
	struct jsondoc_args	*copy;
	unsigned long		 n = 0;

	if (sy_args_keys(args, known, required, err, errlen) == -1 ||
	    sy_args_uint(args, "items", 1, 1, JSONDOC_ITEMS_MAX, &n, err,
	    errlen) == -1)
		return -1;
	if ((copy = malloc(sizeof(*copy))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	copy->items = (unsigned)n;
	*state = copy;
	return 0;
}

static void
jsondoc_free(void *state)
{
	free(state);
}

/* {"id": i, "name": "item i", "value": i * 0.5, "tags": ["a", "b"]} */
static json_t *
jsondoc_item_new(unsigned i)
{
	char	 name[32];

	snprintf(name, sizeof(name), "item %u", i);
	return json_pack("{s:I,s:s,s:f,s:[ss]}", "id", (json_int_t)i,
	    "name", name, "value", i * 0.5, "tags", "a", "b");
}

static int
jsondoc_handle(struct sy_req *req, void *state)
{
	const struct jsondoc_args	*a = state;
	json_t				*doc, *items;
	unsigned			 i;

	/* jansson keeps keys in insertion order: "items" comes first. */
	if ((doc = json_object()) == NULL)
		return SY_ERROR;
	if ((items = json_array()) == NULL ||
	    json_object_set_new(doc, "items", items) == -1)
		goto fail;
	for (i = 0; i < a->items; i++)
		/* _new steals the item, and fails cleanly on NULL. */
		if (json_array_append_new(items, jsondoc_item_new(i)) == -1)
			goto fail;
	if (json_object_set_new(doc, "count",
	    json_integer((json_int_t)a->items)) == -1)
		goto fail;
	return sy_resp_json(req, 200, doc) ? SY_ERROR : SY_DONE;

fail:
	json_decref(doc);
	return SY_ERROR;
}

const struct sy_handler handler_json = {
	.abi = SY_ABI_VERSION,
	.name = "json",
	.flags = 0,
	.init = jsondoc_init,
	.free = jsondoc_free,
	.handle = jsondoc_handle,
};
