// SPDX-License-Identifier: GPL-2.0
/*
 * The Prometheus endpoint: text rendering (on the daemon's loop) and the HTTP server
 * (libmicrohttpd's internal polling thread). See metrics.h for who touches what.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <microhttpd.h>

#include "log.h"
#include "map_fill.h"
#include "metrics.h"
#include "names.h"
#include "version.h"

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* Connections the endpoint serves at once, and from any one address (a Prometheus pair needs
 * two; a client that trickles its request to hold slots gets no more than this many). */
#define XL4_METRICS_CONN_MAX 32
#define XL4_METRICS_CONN_PER_IP 4

/* ---- rendering ---- */

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value, escaped as the text format wants: backslash, double quote, newline. */
static void label_value(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f), fputc(*v, f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

/* sample(f, name, value, n, key1, value1, ...): one line with n labels. */
static void sample(FILE *f, const char *name, unsigned long long value, int n, ...)
{
	va_list ap;

	fputs(name, f);
	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		const char *k = va_arg(ap, const char *), *v = va_arg(ap, const char *);

		fprintf(f, "%s%s=\"", i ? "," : "{", k);
		label_value(f, v ? v : "");
		fputc('"', f);
	}
	va_end(ap);
	fprintf(f, "%s %llu\n", n ? "}" : "", value);
}

static unsigned long long jint(json_t *o, const char *k)
{
	json_int_t v = json_integer_value(json_object_get(o, k));

	return v > 0 ? (unsigned long long)v : 0;
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

/* Per-VIP and per-backend traffic: one family per counter of struct xl4_lb_counters. */
static const struct {
	const char *key, *suffix, *help;
} lb_ctrs[] = {
	{ "packets", "packets_total",
	  "Packets: a backend's forwarded to it; a VIP's its backends' (removed ones too) and those "
	  "it did not forward" },
	{ "bytes", "bytes_total", "Bytes, as the packets" },
	{ "new_flows", "new_flows_total", "Flows scheduled to a backend (conntrack entries created)" },
	{ "ct_hits", "conntrack_hits_total", "Packets that found their flow in conntrack" },
	{ "ct_misses", "conntrack_misses_total", "Packets that did not find their flow in conntrack" },
	{ "ct_insert_capped", "conntrack_insert_capped_total",
	  "Conntrack misses forwarded statelessly because the insert budget was spent" },
};

static const char *const backend_states[] = { "active", "drained", "down", "no-mac" };

static void render_lb(FILE *f, json_t *vips)
{
	char name[96], help[160];
	json_t *v, *b;
	size_t i, j;

	family(f, "xl4_vip_info", "gauge", "A configured VIP (always 1), with its address and forwarding mode");
	json_array_foreach(vips, i, v)
		sample(f, "xl4_vip_info", 1, 3, "vip", jstr(v, "name"), "address", jstr(v, "vip"),
		       "mode", jstr(v, "mode"));
	family(f, "xl4_vip_table_info", "gauge",
	       "A VIP's live Maglev table by backend identity (always 1): equal on every node with the same config and seed");
	json_array_foreach(vips, i, v)
		sample(f, "xl4_vip_table_info", 1, 2, "vip", jstr(v, "name"), "fingerprint",
		       jstr(v, "table_fingerprint"));
	for (size_t c = 0; c < sizeof(lb_ctrs) / sizeof(lb_ctrs[0]); c++) {
		snprintf(name, sizeof(name), "xl4_vip_%s", lb_ctrs[c].suffix);
		snprintf(help, sizeof(help), "%s, per VIP", lb_ctrs[c].help);
		family(f, name, "counter", help);
		json_array_foreach(vips, i, v)
			sample(f, name, jint(json_object_get(v, "counters"), lb_ctrs[c].key), 1, "vip",
			       jstr(v, "name"));
	}
	for (size_t c = 0; c < sizeof(lb_ctrs) / sizeof(lb_ctrs[0]); c++) {
		snprintf(name, sizeof(name), "xl4_backend_%s", lb_ctrs[c].suffix);
		snprintf(help, sizeof(help), "%s, per backend", lb_ctrs[c].help);
		family(f, name, "counter", help);
		json_array_foreach(vips, i, v)
			json_array_foreach(json_object_get(v, "backends"), j, b)
				sample(f, name, jint(json_object_get(b, "counters"), lb_ctrs[c].key), 2,
				       "vip", jstr(v, "name"), "backend", jstr(b, "address"));
	}
	family(f, "xl4_backend_up", "gauge", "1 if the backend is healthy (health checks pass or none configured), else 0");
	json_array_foreach(vips, i, v)
		json_array_foreach(json_object_get(v, "backends"), j, b)
			sample(f, "xl4_backend_up", json_is_true(json_object_get(b, "healthy")), 2, "vip",
			       jstr(v, "name"), "backend", jstr(b, "address"));
	family(f, "xl4_backend_state", "gauge",
	       "1 for the backend's current state (active, drained, down, no-mac), 0 for the others");
	json_array_foreach(vips, i, v)
		json_array_foreach(json_object_get(v, "backends"), j, b)
			for (size_t s = 0; s < sizeof(backend_states) / sizeof(backend_states[0]); s++)
				sample(f, "xl4_backend_state", !strcmp(jstr(b, "state"), backend_states[s]),
				       3, "vip", jstr(v, "name"), "backend", jstr(b, "address"), "state",
				       backend_states[s]);
	family(f, "xl4_backend_weight", "gauge", "The backend's configured weight");
	json_array_foreach(vips, i, v)
		json_array_foreach(json_object_get(v, "backends"), j, b)
			sample(f, "xl4_backend_weight", jint(b, "weight"), 2, "vip", jstr(v, "name"),
			       "backend", jstr(b, "address"));
	family(f, "xl4_backend_health_checks_total", "counter", "Health checks run, per backend with health checks");
	json_array_foreach(vips, i, v)
		json_array_foreach(json_object_get(v, "backends"), j, b)
			if (json_object_get(b, "health"))
				sample(f, "xl4_backend_health_checks_total",
				       jint(json_object_get(b, "health"), "checks"), 2, "vip",
				       jstr(v, "name"), "backend", jstr(b, "address"));
	family(f, "xl4_backend_health_check_failures_total", "counter",
	       "Health checks failed, per backend with health checks");
	json_array_foreach(vips, i, v)
		json_array_foreach(json_object_get(v, "backends"), j, b)
			if (json_object_get(b, "health"))
				sample(f, "xl4_backend_health_check_failures_total",
				       jint(json_object_get(b, "health"), "failures"), 2, "vip",
				       jstr(v, "name"), "backend", jstr(b, "address"));
}

static void render_filter(FILE *f, json_t *rules, json_t *filter)
{
	json_t *limit = json_object_get(filter, "limit"), *r;
	char id[24];
	size_t i;

	family(f, "xl4_filter_rules", "gauge", "Destination rules installed");
	sample(f, "xl4_filter_rules", jint(filter, "rules"), 0);
	family(f, "xl4_filter_expiring_entries", "gauge", "Allow/block list entries waiting to expire");
	sample(f, "xl4_filter_expiring_entries", jint(filter, "expiring_entries"), 0);
	family(f, "xl4_filter_rule_matched_packets_total", "counter", "Packets that matched a destination rule");
	json_array_foreach(rules, i, r) {
		snprintf(id, sizeof(id), "%llu", jint(r, "id"));
		sample(f, "xl4_filter_rule_matched_packets_total", jint(json_object_get(r, "counters"), "matched"),
		       2, "rule", id, "action", jstr(r, "action"));
	}
	family(f, "xl4_filter_rule_dropped_packets_total", "counter", "Packets a destination rule dropped");
	json_array_foreach(rules, i, r) {
		snprintf(id, sizeof(id), "%llu", jint(r, "id"));
		sample(f, "xl4_filter_rule_dropped_packets_total", jint(json_object_get(r, "counters"), "dropped"),
		       2, "rule", id, "action", jstr(r, "action"));
	}
	family(f, "xl4_filter_limit_enabled", "gauge", "1 if the global per-source limit is on");
	sample(f, "xl4_filter_limit_enabled", json_is_true(json_object_get(limit, "on")), 0);
	family(f, "xl4_filter_limit_matched_packets_total", "counter", "Packets the global per-source limit looked at");
	sample(f, "xl4_filter_limit_matched_packets_total", jint(json_object_get(limit, "counters"), "matched"), 0);
	family(f, "xl4_filter_limit_dropped_packets_total", "counter", "Packets the global per-source limit dropped");
	sample(f, "xl4_filter_limit_dropped_packets_total", jint(json_object_get(limit, "counters"), "dropped"), 0);
}

/* Map pressure from the daemon's last walk of its maps (map_fill.c; every 10 s at most). */
static void render_maps(FILE *f, json_t *maps)
{
	unsigned long long flows = 0;
	int tables = 0;
	json_t *m;
	size_t i;

	family(f, "xl4_map_entries", "gauge", "Entries in a datapath hash, LRU or LPM map (counted at most every 10 s)");
	json_array_foreach(maps, i, m)
		sample(f, "xl4_map_entries", jint(m, "entries"), 1, "map", jstr(m, "name"));
	family(f, "xl4_map_capacity_entries", "gauge", "Entries a datapath hash, LRU or LPM map can hold (max_entries)");
	json_array_foreach(maps, i, m)
		sample(f, "xl4_map_capacity_entries", jint(m, "capacity"), 1, "map", jstr(m, "name"));
	family(f, "xl4_map_lru_lists", "gauge",
	       "The LRU lists an LRU map's entries are split over: 1 shared, or one per possible CPU "
	       "(per-CPU lists, each holding capacity / lists: a CPU's flows evict at its share)");
	json_array_foreach(maps, i, m)
		if (json_object_get(m, "lru_lists"))
			sample(f, "xl4_map_lru_lists", jint(m, "lru_lists"), 1, "map", jstr(m, "name"));
	family(f, "xl4_conntrack_entries", "gauge",
	       "Flows in the connection table (xl4_ct4_v1 + xl4_ct_v1: IPv4 and IPv6; counted at most every 10 s)");
	json_array_foreach(maps, i, m)
		if (xl4_map_is_conntrack(jstr(m, "name"))) {
			flows += jint(m, "entries");
			tables++;
		}
	if (tables)
		sample(f, "xl4_conntrack_entries", flows, 0);
}

/* Scale-out, only on a node that announces (a single box would show every VIP withdrawn). */
static void render_cluster(FILE *f, json_t *vips, json_t *cluster)
{
	json_t *v;
	size_t i;

	if (!json_is_true(json_object_get(cluster, "enabled")))
		return;
	family(f, "xl4_vip_announced", "gauge",
	       "1 while this node announces the VIP's address (docs/scale-out.md), else 0");
	json_array_foreach(vips, i, v)
		sample(f, "xl4_vip_announced", json_is_true(json_object_get(v, "announced")), 1, "vip",
		       jstr(v, "name"));
	family(f, "xl4_cluster_drained", "gauge", "1 while this node is drained (xl4 cluster drain)");
	sample(f, "xl4_cluster_drained", json_is_true(json_object_get(cluster, "drained")), 0);
	family(f, "xl4_cluster_routes", "gauge", "VIP routes this node keeps in cluster.route_table");
	sample(f, "xl4_cluster_routes", json_array_size(json_object_get(cluster, "routes")), 0);
	family(f, "xl4_cluster_route_errors_total", "counter",
	       "VIP route changes the kernel refused (retried every second; see xl4 cluster show)");
	sample(f, "xl4_cluster_route_errors_total", jint(cluster, "route_errors"), 0);
}

/* The flood guard: per VIP from vips[].guard (daemon_guard_annotate), deployment-wide from
 * the guard object. */
static void render_guard(FILE *f, json_t *vips, json_t *guard)
{
	static const char *const fd_results[] = { "dropped", "early", "admitted" };
	static const char *const ch_results[] = { "sent", "passed", "failed", "budget" };
	json_t *v, *g;
	size_t i;

	family(f, "xl4_guard_emergency", "gauge", "1 while the VIP is in flood-guard emergency mode, else 0");
	json_array_foreach(vips, i, v)
		if ((g = json_object_get(v, "guard")))
			sample(f, "xl4_guard_emergency", !strcmp(jstr(g, "mode"), "emergency"), 1, "vip",
			       jstr(v, "name"));
	family(f, "xl4_guard_level", "gauge", "Emergency level: 0 normal, 1 First Drop, 2 SYN-ACK challenge");
	json_array_foreach(vips, i, v)
		if ((g = json_object_get(v, "guard")))
			sample(f, "xl4_guard_level", !strcmp(jstr(g, "level"), "first-drop") ? 1 :
			       !strcmp(jstr(g, "level"), "challenge") ? 2 : 0, 1, "vip", jstr(v, "name"));
	family(f, "xl4_guard_syn_total", "counter", "Client SYNs to the VIP the guard counted");
	json_array_foreach(vips, i, v)
		if ((g = json_object_get(v, "guard")))
			sample(f, "xl4_guard_syn_total", jint(g, "syn_total"), 1, "vip", jstr(v, "name"));
	family(f, "xl4_guard_completing_ack_total", "counter", "Client ACKs that completed a handshake to the VIP");
	json_array_foreach(vips, i, v)
		if ((g = json_object_get(v, "guard")))
			sample(f, "xl4_guard_completing_ack_total", jint(g, "completing_ack_total"), 1, "vip",
			       jstr(v, "name"));
	family(f, "xl4_guard_first_drop_total", "counter",
	       "First Drop: first SYNs dropped, repeats too early, retransmissions admitted");
	json_array_foreach(vips, i, v)
		if ((g = json_object_get(v, "guard")))
			for (size_t r = 0; r < 3; r++)
				sample(f, "xl4_guard_first_drop_total",
				       jint(json_object_get(g, "first_drop"), fd_results[r]), 2, "vip",
				       jstr(v, "name"), "result", fd_results[r]);
	family(f, "xl4_guard_challenge_total", "counter",
	       "SYN-ACK challenges sent, answered with a good cookie, with a bad one, not sent (budget spent)");
	json_array_foreach(vips, i, v)
		if ((g = json_object_get(v, "guard")))
			for (size_t r = 0; r < 4; r++)
				sample(f, "xl4_guard_challenge_total",
				       jint(json_object_get(g, "challenge"), ch_results[r]), 2, "vip",
				       jstr(v, "name"), "result", ch_results[r]);
	family(f, "xl4_guard_verified_pass_total", "counter", "SYNs from verified sources let through in emergency mode");
	json_array_foreach(vips, i, v)
		if ((g = json_object_get(v, "guard")))
			sample(f, "xl4_guard_verified_pass_total", jint(g, "verified_pass"), 1, "vip", jstr(v, "name"));
	family(f, "xl4_guard_mode_changes_total", "counter", "Mode changes (entered, left, level changed) this daemon saw");
	json_array_foreach(vips, i, v)
		if ((g = json_object_get(v, "guard")))
			sample(f, "xl4_guard_mode_changes_total", jint(g, "mode_changes"), 1, "vip", jstr(v, "name"));
	family(f, "xl4_guard_verified_sources", "gauge", "Sources verified by First Drop, and cookie proofs (per source and port), unexpired");
	sample(f, "xl4_guard_verified_sources", jint(guard, "verified_sources"), 0);
	family(f, "xl4_guard_verified_bits", "gauge",
	       "Bits set in the verified-source filter (refreshed every 5 s)");
	sample(f, "xl4_guard_verified_bits", jint(guard, "verified_bits"), 0);
	family(f, "xl4_guard_verified_bits_size", "gauge",
	       "Bits in the verified-source filter: two halves (cookie proofs, either proof), each 4 per guard.verified_max source, 2^20 at least");
	sample(f, "xl4_guard_verified_bits_size", jint(guard, "verified_bits_size"), 0);
	family(f, "xl4_analyzer_blocks_total", "counter", "Sources or prefixes the analyzer blocked");
	sample(f, "xl4_analyzer_blocks_total", jint(guard, "analyzer_blocks"), 0);
}

char *xl4_metrics_render(const struct xl4_metrics_input *in, size_t *len)
{
	const struct xl4_totals *t = in->totals;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (!f)
		return NULL;
	family(f, "xl4_build_info", "gauge", "Always 1; the labels say which xl4 this is");
	sample(f, "xl4_build_info", 1, 1, "version", XL4_VERSION);
	family(f, "xl4_daemon_start_time_seconds", "gauge", "When the daemon started, Unix time in seconds");
	sample(f, "xl4_daemon_start_time_seconds", (unsigned long long)in->started, 0);
	family(f, "xl4_events_sampled_total", "counter", "Drop events received from the datapath's sampler");
	sample(f, "xl4_events_sampled_total", in->events_sampled, 0);

	family(f, "xl4_packets_total", "counter", "Packets by XDP verdict");
	for (unsigned v = 0; v < XL4_VERDICT_MAX; v++)
		sample(f, "xl4_packets_total", xl4_verdict_ctr(t, v)->packets, 1, "verdict", xl4_verdict_name(v));
	family(f, "xl4_bytes_total", "counter", "Bytes by XDP verdict");
	for (unsigned v = 0; v < XL4_VERDICT_MAX; v++)
		sample(f, "xl4_bytes_total", xl4_verdict_ctr(t, v)->bytes, 1, "verdict", xl4_verdict_name(v));
	family(f, "xl4_drops_total", "counter", "Packets dropped, by reason (docs/drop-reasons.md)");
	for (unsigned r = 1; r < XL4_REASON_MAX; r++)
		sample(f, "xl4_drops_total", xl4_reason_ctr(t, r)->packets, 1, "reason", xl4_reason_name(r));
	family(f, "xl4_dropped_bytes_total", "counter", "Bytes dropped, by reason");
	for (unsigned r = 1; r < XL4_REASON_MAX; r++)
		sample(f, "xl4_dropped_bytes_total", xl4_reason_ctr(t, r)->bytes, 1, "reason", xl4_reason_name(r));
	family(f, "xl4_allowed_packets_total", "counter", "Packets let through early by an allow list entry or an allow rule");
	sample(f, "xl4_allowed_packets_total", t->c[XL4_STAT_ALLOW_LIST].packets, 1, "by", "allow_list");
	sample(f, "xl4_allowed_packets_total", t->c[XL4_STAT_ALLOW_RULE].packets, 1, "by", "allow_rule");
	family(f, "xl4_allowed_bytes_total", "counter", "Bytes let through early by an allow list entry or an allow rule");
	sample(f, "xl4_allowed_bytes_total", t->c[XL4_STAT_ALLOW_LIST].bytes, 1, "by", "allow_list");
	sample(f, "xl4_allowed_bytes_total", t->c[XL4_STAT_ALLOW_RULE].bytes, 1, "by", "allow_rule");

	render_lb(f, in->vips);
	render_cluster(f, in->vips, in->cluster);
	render_filter(f, in->rules, in->filter);
	render_maps(f, in->maps);
	render_guard(f, in->vips, in->guard);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- serving (libmicrohttpd's thread) ---- */

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *body,
			     size_t len, enum MHD_ResponseMemoryMode mode, bool allow)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, mode);
	enum MHD_Result ret;

	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
				status == MHD_HTTP_OK ? CONTENT_TYPE : "text/plain; charset=utf-8");
	if (allow)
		MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	static const char not_found[] = "not found: the metrics are at /metrics\n";
	static const char bad_method[] = "method not allowed: use GET\n";
	static const char not_ready[] = "xl4 is starting: no metrics yet\n";
	struct xl4_metrics *m = cls;
	enum MHD_Result ret;

	(void)version;
	(void)upload;
	(void)con_cls;
	*upload_size = 0; /* a request body (other methods) is ignored */
	if (strcmp(url, "/metrics"))
		return reply(conn, MHD_HTTP_NOT_FOUND, not_found, sizeof(not_found) - 1,
			     MHD_RESPMEM_PERSISTENT, false);
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, bad_method, sizeof(bad_method) - 1,
			     MHD_RESPMEM_PERSISTENT, true);
	/* Copy under the lock: the loop may publish a new text right after. Nothing rendered
	 * yet (the daemon is still starting): 503, so a scrape never records an empty target. */
	pthread_mutex_lock(&m->lock);
	if (m->text)
		ret = reply(conn, MHD_HTTP_OK, m->text, m->len, MHD_RESPMEM_MUST_COPY, false);
	else
		ret = reply(conn, MHD_HTTP_SERVICE_UNAVAILABLE, not_ready, sizeof(not_ready) - 1,
			    MHD_RESPMEM_PERSISTENT, false);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

/* Our own listening socket, so a bind error says exactly what went wrong. */
static int listen_socket(const struct xl4_metrics_conf *c)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int one = 1, fd, err;

	if (c->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, c->addr, 16);
		s6->sin6_port = htons(c->port);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, c->addr, 4);
		s4->sin_port = htons(c->port);
		sl = sizeof(*s4);
	}
	fd = socket(c->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (c->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) || listen(fd, 64)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static bool is_loopback(const struct xl4_metrics_conf *c)
{
	static const uint8_t lo6[16] = { [15] = 1 };

	return c->family == AF_INET ? c->addr[0] == 127 : !memcmp(c->addr, lo6, 16);
}

int xl4_metrics_start(struct xl4_metrics *m, const struct xl4_metrics_conf *c)
{
	sigset_t all, old;
	int fd;

	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	if (!c->listen[0]) {
		pr_debug("metrics: disabled (metrics.listen is empty)");
		return 0;
	}
	fd = listen_socket(c);
	if (fd < 0) {
		pr_warn("metrics: cannot listen on %s: %s%s", c->listen, strerror(-fd),
			fd == -EADDRINUSE ? " (another xl4 daemon or program has it; set metrics.listen)" : "");
		return fd;
	}
	/* The server's thread must not take the signals the loop reads from its signalfd. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	m->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL_LINUX_ONLY |
				  (c->family == AF_INET6 ? MHD_USE_IPv6 : 0),
				  0, NULL, NULL, on_request, m,
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, (unsigned int)XL4_METRICS_CONN_MAX,
				  /* the timeout is an idle one: a client that trickles bytes keeps its
				   * connection, so one address may hold only a few of them; not on
				   * loopback, where every client (the local scraper too) is one address
				   * and the share would let four connections starve it */
				  MHD_OPTION_PER_IP_CONNECTION_LIMIT,
				  is_loopback(c) ? 0u : (unsigned int)XL4_METRICS_CONN_PER_IP,
				  MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)10,
				  MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!m->mhd) {
		close(fd);
		pr_warn("metrics: cannot start the HTTP server on %s", c->listen);
		return -EIO;
	}
	if (!is_loopback(c))
		pr_warn("metrics: serving on %s, a non-loopback address, as configured", c->listen);
	pr_info("metrics: http://%s/metrics", c->listen);
	return 0;
}

void xl4_metrics_publish(struct xl4_metrics *m, char *text, size_t len)
{
	char *old;

	pthread_mutex_lock(&m->lock);
	old = m->text;
	m->text = text;
	m->len = len;
	pthread_mutex_unlock(&m->lock);
	free(old);
}

void xl4_metrics_stop(struct xl4_metrics *m)
{
	if (m->mhd)
		MHD_stop_daemon(m->mhd); /* joins the thread, closes the listening socket */
	m->mhd = NULL;
	free(m->text);
	m->text = NULL;
	pthread_mutex_destroy(&m->lock);
}
