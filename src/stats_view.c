// SPDX-License-Identifier: GPL-2.0
#include "names.h"
#include "stats_view.h"

static json_t *entry(const struct xl4_counter *c, const struct xl4_counter *p, double dt)
{
	json_t *o = json_pack("{s:I, s:I}", "packets", (json_int_t)c->packets, "bytes",
			      (json_int_t)c->bytes);

	if (p && dt > 0) {
		/* Counters only grow while pinned; a smaller value means the maps were recreated. */
		double dp = c->packets >= p->packets ? (double)(c->packets - p->packets) : 0;
		double db = c->bytes >= p->bytes ? (double)(c->bytes - p->bytes) : 0;

		json_object_set_new(o, "pps", json_real(dp / dt));
		json_object_set_new(o, "bps", json_real(db * 8 / dt));
	}
	return o;
}

json_t *xl4_stats_json(const struct xl4_totals *cur, const struct xl4_totals *prev, double dt)
{
	json_t *v = json_object(), *d = json_object();

	for (unsigned i = 0; i < XL4_VERDICT_MAX; i++)
		json_object_set_new(v, xl4_verdict_name(i),
				    entry(xl4_verdict_ctr(cur, i), prev ? xl4_verdict_ctr(prev, i) : NULL, dt));
	for (unsigned r = 1; r < XL4_REASON_MAX; r++)
		json_object_set_new(d, xl4_reason_name(r),
				    entry(xl4_reason_ctr(cur, r), prev ? xl4_reason_ctr(prev, r) : NULL, dt));
	return json_pack("{s:o, s:o, s:o}", "verdicts", v, "drops", d, "allowed",
			 json_pack("{s:o, s:o}", "allow_list",
				   entry(&cur->c[XL4_STAT_ALLOW_LIST], prev ? &prev->c[XL4_STAT_ALLOW_LIST] : NULL, dt),
				   "allow_rule",
				   entry(&cur->c[XL4_STAT_ALLOW_RULE], prev ? &prev->c[XL4_STAT_ALLOW_RULE] : NULL, dt)));
}

static void row(FILE *out, const char *name, json_t *e, bool rates)
{
	fprintf(out, "  %-22s %14llu %16llu", name,
		(unsigned long long)json_integer_value(json_object_get(e, "packets")),
		(unsigned long long)json_integer_value(json_object_get(e, "bytes")));
	if (rates)
		fprintf(out, " %12.1f %14.0f", json_real_value(json_object_get(e, "pps")),
			json_real_value(json_object_get(e, "bps")));
	fputc('\n', out);
}

void xl4_stats_print(FILE *out, json_t *stats, bool all)
{
	json_t *v = json_object_get(stats, "verdicts"), *d = json_object_get(stats, "drops");
	bool rates = json_object_get(json_object_get(v, "pass"), "pps") != NULL;
	const char *name;
	json_t *e;
	int shown = 0;

	fprintf(out, "  %-22s %14s %16s%s\n", "VERDICT", "PACKETS", "BYTES",
		rates ? "          PPS            BPS" : "");
	for (unsigned i = 0; i < XL4_VERDICT_MAX; i++)
		row(out, xl4_verdict_name(i), json_object_get(v, xl4_verdict_name(i)), rates);
	fprintf(out, "\n  %-22s %14s %16s%s\n", "ALLOWED BY", "PACKETS", "BYTES",
		rates ? "          PPS            BPS" : "");
	row(out, "allow_list", json_object_get(json_object_get(stats, "allowed"), "allow_list"), rates);
	row(out, "allow_rule", json_object_get(json_object_get(stats, "allowed"), "allow_rule"), rates);
	fprintf(out, "\n  %-22s %14s %16s%s\n", "DROP REASON", "PACKETS", "BYTES",
		rates ? "          PPS            BPS" : "");
	json_object_foreach(d, name, e) {
		if (!all && json_integer_value(json_object_get(e, "packets")) == 0)
			continue;
		row(out, name, e, rates);
		shown++;
	}
	if (!shown)
		fprintf(out, "  (no drops)\n");
}
