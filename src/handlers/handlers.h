/*
 * handlers.h - the built-in handlers, and their table for main().
 *
 * Each lives in its own file and uses only include/switchyard.h and the
 * libraries it exposes, exactly as a plugin would.
 */
#ifndef HANDLERS_H
#define HANDLERS_H

#include "switchyard.h"

extern const struct sy_handler	handler_hello;
extern const struct sy_handler	handler_async_sleep;
extern const struct sy_handler	handler_sleep;
extern const struct sy_handler	handler_static;
extern const struct sy_handler	handler_write_file;
extern const struct sy_handler	handler_cpu;
extern const struct sy_handler	handler_echo;
extern const struct sy_handler	handler_json;
extern const struct sy_handler	handler_hash_body;
extern const struct sy_handler	handler_metrics;
extern const struct sy_handler	handler_status;
extern const struct sy_handler	handler_health;
extern const struct sy_handler	handler_dashboard;

/* All of the above, NULL-terminated, sorted by name (builtin.c). */
extern const struct sy_handler *const	builtin_handlers[];

#endif /* HANDLERS_H */
