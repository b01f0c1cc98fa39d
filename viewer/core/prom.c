/*
 * prom.c - the Prometheus text exposition format (see prom.h).
 */
#include <inttypes.h>

#include "json.h"
#include "prom.h"

void prom_family(FILE *out, const char *name, const char *help)
{
	fprintf(out, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

void prom_label_value(FILE *out, const char *value)
{
	const unsigned char *p = (const unsigned char *)value;
	size_t n = 0;

	while (p[n])
		n++;
	for (size_t i = 0; i < n;) {
		size_t len = json_utf8_len(p + i, n - i);

		if (p[i] == '\\')
			fputs("\\\\", out);
		else if (p[i] == '"')
			fputs("\\\"", out);
		else if (p[i] == '\n')
			fputs("\\n", out);
		else if (len == 1 && (p[i] < 0x20 || p[i] == 0x7f))
			fprintf(out, "\\\\x%02x", p[i]);
		else if (len > 1)
			fwrite(p + i, 1, len, out);
		else if (len == 1)
			fputc(p[i], out);
		else
			fprintf(out, "\\\\x%02x", p[i]);
		i += len ? len : 1;
	}
}

static void put_name_labels(FILE *out, const char *name,
			    const char *const *labels)
{
	fputs(name, out);
	if (!labels || !labels[0])
		return;
	fputc('{', out);
	for (size_t i = 0; labels[i]; i += 2) {
		fprintf(out, "%s%s=\"", i ? "," : "", labels[i]);
		prom_label_value(out, labels[i + 1] ? labels[i + 1] : "");
		fputc('"', out);
	}
	fputc('}', out);
}

void prom_sample_u64(FILE *out, const char *name, const char *const *labels,
		     uint64_t value)
{
	put_name_labels(out, name, labels);
	fprintf(out, " %" PRIu64 "\n", value);
}

void prom_sample(FILE *out, const char *name, const char *const *labels,
		 double value)
{
	put_name_labels(out, name, labels);
	fprintf(out, " %.9g\n", value);
}
