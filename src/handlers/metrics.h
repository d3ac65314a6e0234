/*
 * metrics.h - the Prometheus text writer of the "metrics" handler.
 */
#ifndef METRICS_H
#define METRICS_H

#include "switchyard.h"
#include "stats.h"

/*
 * Append the exposition (text format 0.0.4) of s to req's body. Any
 * thread. Returns 0, or -1 when out of memory.
 */
int	metrics_render(struct sy_req *req, const struct stats *s);

#endif /* METRICS_H */
