/*
 * unit.h - what every check suite's main() does: run the suite, exit 0
 * only when no test failed (a suite with no test at all fails too, so
 * "no tests ran" cannot pass).
 */
#ifndef UNIT_H
#define UNIT_H

#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "handlers/handlers.h"
#include "registry.h"

/* The built-in handler called name, or NULL. */
static inline const struct sy_handler *
unit_handler(const char *name)
{
	size_t	 i;

	for (i = 0; builtin_handlers[i] != NULL; i++)
		if (strcmp(builtin_handlers[i]->name, name) == 0)
			return builtin_handlers[i];
	return NULL;
}

static inline int
unit_run(Suite *s)
{
	SRunner	*sr;
	int	 nfailed, nrun;

	/* As main() does: configs bind the built-ins through the registry. */
	registry_set_builtins(builtin_handlers);
	sr = srunner_create(s);

	srunner_run_all(sr, CK_NORMAL);
	nfailed = srunner_ntests_failed(sr);
	nrun = srunner_ntests_run(sr);
	srunner_free(sr);
	return nfailed == 0 && nrun > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif /* UNIT_H */
