/*
 * map.h - the attach map: which process has which segment attached,
 * where, and in what state, at one moment of a trace.  Built by
 * cmd-map.c (and the live view) from a reconciled model; rendered as text
 * or JSON here, as a terminal UI in live-ui.c.
 */
#ifndef SHMVIEW_MAP_H
#define SHMVIEW_MAP_H

#include <stdbool.h>
#include <stdio.h>

#include "model.h"

/* Whether segment s belongs on the map: it still exists then (live,
 * pending or leaked), removed ones are history. */
bool map_shows(const struct segment *s);

/* The map as text for pipes and logs: a heading, each segment with its
 * attachments by process, then the processes.  `path` names what the map
 * is of (the trace file, or "pid N" for a map from /proc). */
void map_text(FILE *out, const struct model *m, const char *path);

/* The map as one JSON object:
 * { "source" ("trace", or "proc" for a model procmap.c built: no history,
 *   no backtraces), "time_ns", "running", "segments": [ { "kind", "shmid", "key", "name",
 *   "size", "state", "attachments": [ { "pid", "addr", "length",
 *   "readonly" } ] } ], "processes": [ { "pid", "ppid", "exe", "alive" } ] } */
void map_json(FILE *out, const struct model *m);

#endif
