/*
 * prom.h - the Prometheus text exposition format (version 0.0.4, which
 * node_exporter's textfile collector reads and promtool checks): metric
 * families of gauges, samples with labels, label values escaped.
 *
 *   # HELP shmtrace_bytes Bytes of shared memory, by kind and verdict.
 *   # TYPE shmtrace_bytes gauge
 *   shmtrace_bytes{kind="sysv",verdict="orphaned"} 4096
 */
#ifndef SHMVIEW_PROM_H
#define SHMVIEW_PROM_H

#include <stdint.h>
#include <stdio.h>

/* A family's HELP and TYPE lines (type "gauge"; help is plain ASCII
 * without a newline or a backslash). */
void prom_family(FILE *out, const char *name, const char *help);

/*
 * One sample: name{label="value",...} value.  `labels` is NULL or an
 * array of name, value pairs ended by a NULL name.  prom_sample_u64
 * writes the integer exactly; prom_sample a double (%.9g: nine digits).
 */
void prom_sample_u64(FILE *out, const char *name, const char *const *labels,
		     uint64_t value);
void prom_sample(FILE *out, const char *name, const char *const *labels,
		 double value);

/*
 * A label value between its quotes: backslash, double quote and newline
 * escaped as the format says (\\, \", \n); bytes that are not UTF-8, and
 * control bytes, as the four characters \xNN (a backslash escaped, so the
 * value reads back as that text): any name a program chose stays valid
 * UTF-8 and visible.
 */
void prom_label_value(FILE *out, const char *value);

#endif /* SHMVIEW_PROM_H */
