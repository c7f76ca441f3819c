// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon: one struct of state and one epoll loop over the control socket, a 1 s timer
 * (counters into rates, and the metrics text), the drop-event ring buffer and a signalfd.
 * Every control request is answered from this loop. Two helper threads touch none of its
 * state: the health checker (results come back through a pipe) and the metrics HTTP server
 * (it copies the text this loop renders, under a mutex).
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "adopt.h"
#include "conntrack.h"
#include "control.h"
#include "counters.h"
#include "ct_lru.h"
#include "daemon.h"
#include "daemon_filter.h"
#include "daemon_guard.h"
#include "daemon_cluster.h"
#include "daemon_job.h"
#include "daemon_lb.h"
#include "daemon_log.h"
#include "engine.h"
#include "engine_opts.h"
#include "event_fmt.h"
#include "kernel_check.h"
#include "log.h"
#include "map_fill.h"
#include "metrics.h"
#include "names.h"
#include "reload.h"
#include "stats_view.h"
#include "version.h"

#define RECENT_EVENTS 64

struct attached_iface {
	char name[IF_NAMESIZE];
	int ifindex;
	enum xl4_xdp_mode mode;
	int attached; /* 0 no, 1 attached by this daemon, 2 was running or replaced */
};

/* Map pressure (map_fill.h), counted every XL4_MAP_FILL_PERIOD_S on the tick. */
struct daemon_maps {
	struct xl4_map_fills fills;
	const struct xl4_engine *eng;
	const struct xl4_filter *filter;
};

struct daemon {
	struct xl4_config cfg;
	bool cfg_owned;		/* after a reload: ours to free */
	struct xl4_daemon_opts opts;
	bool adopted;		/* took over the running program rather than loading one */
	__u64 fingerprint;	/* of the program this daemon runs */
	struct xl4_engine eng;
	struct attached_iface ifs[XL4_MAX_IFACES];
	int n_ifs;
	int epfd, sigfd, timerfd, ctlfd;
	int pin_lock;		/* flock on the pin directory, held while we run */
	struct ring_buffer *rb;
	struct xl4_totals prev, cur; /* the last two 1 s samples, for rates */
	double dt;
	int samples;
	time_t started;
	struct xl4_event recent[RECENT_EVENTS];
	__u64 events_total;
	struct xl4_ctl_server ctl;
	/* the jobs' state (jobs[] below) */
	struct xl4_metrics metrics;
	struct daemon_lb lb;
	struct daemon_filter filter;
	struct daemon_maps maps;
	struct daemon_guard guard;
	struct daemon_cluster cluster;
	size_t n_started;	/* jobs whose start was called (stopped in reverse) */
	int stop;
	double detach_at;	/* CLOCK_MONOTONIC s: detach then, after cluster.drain_ms (0: no) */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int metrics_start(void *m, const struct daemon_env *env)
{
	return xl4_metrics_start(m, &env->cfg->metrics);
}

static void metrics_stop(void *m)
{
	xl4_metrics_stop(m);
}

static int maps_start(void *state, const struct daemon_env *env)
{
	struct daemon_maps *m = state;

	m->eng = env->eng;
	m->filter = &env->filter->f;
	return 0;
}

static void maps_tick(void *state)
{
	struct daemon_maps *m = state;

	xl4_map_fill_tick(&m->fills, m->eng, m->filter, now_s());
}

static void maps_status(void *state, json_t *status)
{
	struct daemon_maps *m = state;

	json_object_set_new(status, "maps", xl4_map_fill_json(&m->fills));
}

#define JOB_STATE(member) offsetof(struct daemon, member)

/*
 * The daemon's jobs (daemon_job.h), in the order they start, tick, reload and add to `xl4
 * status`; they stop in reverse. The metrics endpoint starts first, so a taken or bad address
 * stops the start before anything is written; VIPs and filter lists are in place before the
 * first packet (attach comes after every start); the guard leans on the LB and the filter;
 * the cluster announces what the LB can serve (and annotates its "vips").
 * A new subsystem is one more row.
 */
static const struct daemon_job jobs[] = {
	{ .name = "metrics", .state = JOB_STATE(metrics), .start = metrics_start,
	  .stop = metrics_stop },
	{ .name = "lb", .state = JOB_STATE(lb), .start = daemon_lb_start, .stop = daemon_lb_stop,
	  .tick = daemon_lb_tick, .request = daemon_lb_cmds, .reload = daemon_lb_reload,
	  .json = daemon_lb_status, .fd = daemon_lb_health_fd, .on_fd = daemon_lb_on_health },
	{ .name = "filter", .state = JOB_STATE(filter), .start = daemon_filter_start,
	  .stop = daemon_filter_stop, .tick = daemon_filter_tick, .request = daemon_filter_cmds,
	  .reload = daemon_filter_reload, .json = daemon_filter_status },
	{ .name = "maps", .state = JOB_STATE(maps), .start = maps_start, .tick = maps_tick,
	  .json = maps_status },
	{ .name = "guard", .state = JOB_STATE(guard), .start = daemon_guard_start,
	  .stop = daemon_guard_stop, .tick = daemon_guard_tick, .request = daemon_guard_cmds,
	  .reload = daemon_guard_reload, .json = daemon_guard_status,
	  .fd = daemon_guard_analyzer_fd, .on_fd = daemon_guard_on_analyzer },
	{ .name = "cluster", .state = JOB_STATE(cluster), .start = daemon_cluster_start,
	  .stop = daemon_cluster_stop, .tick = daemon_cluster_tick, .request = daemon_cluster_cmds,
	  .reload = daemon_cluster_reload, .json = daemon_cluster_status },
};

#define N_JOBS (sizeof(jobs) / sizeof(jobs[0]))

static void *job_state(struct daemon *d, const struct daemon_job *j)
{
	return (char *)d + j->state;
}

/* Each job's fd into the loop's epoll: at start, and after a reload (a job may have a new fd;
 * one it kept is there already, EEXIST; a closed one left epoll when it closed). */
static void jobs_poll(struct daemon *d)
{
	for (size_t i = 0; i < N_JOBS; i++) {
		struct epoll_event ev = { .events = EPOLLIN };

		if (jobs[i].fd && (ev.data.fd = jobs[i].fd(job_state(d, &jobs[i]))) >= 0)
			epoll_ctl(d->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	}
}

/* What every job adds to the status object, in table order. */
static void jobs_json(struct daemon *d, json_t *status)
{
	for (size_t i = 0; i < N_JOBS; i++)
		if (jobs[i].json)
			jobs[i].json(job_state(d, &jobs[i]), status);
}

static int resolve_ifaces(struct daemon *d)
{
	for (int i = 0; i < d->cfg.n_ifaces; i++) {
		struct attached_iface *a = &d->ifs[i];

		snprintf(a->name, sizeof(a->name), "%s", d->cfg.ifaces[i]);
		a->ifindex = if_nametoindex(a->name);
		if (!a->ifindex) {
			daemon_log_start_failed("iface", a->name, "no such interface");
			return -ENODEV;
		}
	}
	d->n_ifs = d->cfg.n_ifaces;
	return 0;
}

static void meta_fill(struct daemon *d, struct xl4_meta *m, __u32 prog_id)
{
	m->fingerprint = d->fingerprint;
	m->prog_id = prog_id;
	for (int i = 0; i < d->n_ifs && i < XL4_META_MAX_IFS; i++)
		m->ifindex[m->n_ifs++] = d->ifs[i].ifindex;
}

/* fresh_only: undo a failed start, leaving interfaces where an xl4 program ran before it. */
static void detach_all(struct daemon *d, bool fresh_only)
{
	for (int i = 0; i < d->n_ifs; i++) {
		struct attached_iface *a = &d->ifs[i];
		bool failed;

		if (!a->attached || (fresh_only && a->attached != 1))
			continue;
		failed = xl4_xdp_detach(a->ifindex, d->eng.prog_fd, a->mode) != 0;
		daemon_log_detach(a->name, failed);
		if (!failed) /* still ours: program_live() must see it */
			a->attached = 0;
	}
}

/* Does this daemon's program run on an interface (attached, adopted or swapped in)? */
static bool program_live(const struct daemon *d)
{
	for (int i = 0; i < d->n_ifs; i++)
		if (d->ifs[i].attached)
			return true;
	return false;
}

/* Every interface gets this program: already there (adopted), swapped in atomically for an
 * older xl4 program, or attached. Then xl4_meta_v1 records what runs where. */
static int attach_all(struct daemon *d)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	struct xl4_meta m = { 0 }, before;
	int keep[XL4_MAX_IFACES];
	bool had = xl4_meta_read(d->cfg.pin_path, &before) == 0;

	bpf_obj_get_info_by_fd(d->eng.prog_fd, &info, &len);
	for (int i = 0; i < d->n_ifs; i++) {
		struct attached_iface *a = &d->ifs[i];
		bool replaced;
		int err = xl4_xdp_install(a->ifindex, d->eng.prog_fd, d->cfg.pin_path, d->cfg.mode,
					  &a->mode, &replaced);

		if (err) {
			/* Only what this start attached afresh goes: a replaced interface keeps
			 * the new program, which serves the same maps. */
			detach_all(d, true);
			return err;
		}
		a->attached = !replaced && !d->adopted ? 1 : 2;
		daemon_log_attach(a->name, xl4_mode_name(a->mode), info.id,
				  d->adopted ? "running" : replaced ? "replaced" : "attached");
	}
	for (int i = 0; i < d->n_ifs; i++)
		keep[i] = d->ifs[i].ifindex;
	if (had)
		xl4_xdp_retire(&before, keep, d->n_ifs, d->cfg.pin_path);
	meta_fill(d, &m, info.id);
	return xl4_meta_write(d->cfg.pin_path, &m);
}

static json_t *status_json(struct daemon *d)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	json_t *ifs = json_array(), *st;

	bpf_obj_get_info_by_fd(d->eng.prog_fd, &info, &len);
	for (int i = 0; i < d->n_ifs; i++)
		json_array_append_new(ifs, json_pack("{s:s, s:i, s:s, s:b}", "name", d->ifs[i].name,
						     "ifindex", d->ifs[i].ifindex, "mode",
						     xl4_mode_name(d->ifs[i].mode), "attached",
						     d->ifs[i].attached));
	st = json_pack("{s:b, s:s, s:i, s:I, s:i, s:s, s:s, s:o, s:I}", "ok", 1, "version",
		       XL4_VERSION, "pid", (int)getpid(), "uptime_s",
		       (json_int_t)(time(NULL) - d->started), "prog_id", (int)info.id, "pin_path",
		       d->cfg.pin_path, "config", d->cfg.path, "interfaces", ifs, "events_sampled",
		       (json_int_t)d->events_total);
	if (st)
		jobs_json(d, st); /* "vips", "filter", "maps", "guard" */
	return st;
}

/* Totals are read fresh for each request; rates come from the last two 1 s samples. */
static json_t *stats_reply(struct daemon *d)
{
	struct xl4_totals now;
	json_t *s, *rates, *group, *e, *r;
	const char *gname, *name;

	if (xl4_counters_read(d->eng.stats_fd, &now))
		return xl4_control_error("cannot read counters: %s", strerror(errno));
	s = xl4_stats_json(&now, NULL, 0);
	rates = d->samples > 1 ? xl4_stats_json(&d->cur, &d->prev, d->dt) : NULL;
	json_object_foreach(s, gname, group) {
		json_object_foreach(group, name, e) {
			r = rates ? json_object_get(json_object_get(rates, gname), name) : NULL;
			json_object_set_new(e, "pps", r ? json_incref(json_object_get(r, "pps")) : json_real(0));
			json_object_set_new(e, "bps", r ? json_incref(json_object_get(r, "bps")) : json_real(0));
		}
	}
	json_decref(rates);

	json_object_set_new(s, "ok", json_true());
	return s;
}

static json_int_t event_ts(json_t *e)
{
	return json_integer_value(json_object_get(e, "ts_ns"));
}

/* Drop samples and the guard's mode changes, oldest first (both on CLOCK_MONOTONIC). */
static json_t *events_reply(struct daemon *d)
{
	json_t *arr = json_array(), *guard = daemon_guard_events(&d->guard), *ge;
	__u64 first = d->events_total > RECENT_EVENTS ? d->events_total - RECENT_EVENTS : 0;
	size_t gi = 0;

	for (__u64 i = first; i < d->events_total; i++) {
		json_t *e = xl4_event_json(&d->recent[i % RECENT_EVENTS]);

		for (; (ge = json_array_get(guard, gi)) && event_ts(ge) <= event_ts(e); gi++)
			json_array_append(arr, ge);
		json_array_append_new(arr, e);
	}
	for (; (ge = json_array_get(guard, gi)); gi++)
		json_array_append(arr, ge);
	json_decref(guard);
	return json_pack("{s:b, s:I, s:o}", "ok", 1, "total", (json_int_t)d->events_total, "events",
			 arr);
}

/* Reload the config file (xl4 reload, SIGHUP). Each job with a reload takes its part in
 * turn, in table order. */
static json_t *do_reload(struct daemon *d, const char *via)
{
	struct xl4_reloader subs[N_JOBS];
	struct xl4_config next;
	char err[1024];
	double t0 = now_s(), ms;
	size_t n = 0;
	int ret;

	for (size_t i = 0; i < N_JOBS; i++)
		if (jobs[i].reload)
			subs[n++] = (struct xl4_reloader){ jobs[i].name, jobs[i].reload,
							   job_state(d, &jobs[i]) };
	ret = xl4_reload_prepare(&d->cfg, &next, err, sizeof(err));
	if (!ret) {
		ret = xl4_reload_apply(subs, n, &d->cfg, &next, err, sizeof(err));
		if (ret)
			xl4_config_free(&next);
	}
	jobs_poll(d); /* the guard may have restarted its analyzer, with a new fd */
	if (ret) {
		pr_warn("reload (%s) refused: %s", via, err);
		return xl4_control_error("%s", err);
	}
	if (d->cfg_owned)
		xl4_config_free(&d->cfg);
	d->cfg = next;
	d->cfg_owned = true;
	ms = (now_s() - t0) * 1e3;
	pr_info("reload (%s): %s applied in %.1f ms: %d VIPs, %d rules", via, d->cfg.path, ms,
		d->cfg.n_vips, d->cfg.filter.n_rules);
	return json_pack("{s:b, s:s, s:f, s:i, s:i}", "ok", 1, "config", d->cfg.path, "ms", ms,
			 "vips", d->cfg.n_vips, "rules", d->cfg.filter.n_rules);
}

/* Stopping with the program detached: a cluster node first withdraws its VIP routes, then
 * keeps forwarding for cluster.drain_ms while the router moves the flows elsewhere. The loop
 * runs meanwhile (health changes still reach the tables; status answers). Returns the ms to
 * wait (0: detach now). */
static unsigned leave_before_detach(struct daemon *d)
{
	int n = daemon_cluster_leave(&d->cluster);
	unsigned ms = d->cluster.conf.drain_ms;

	if (!n || !ms)
		return 0;
	pr_info("cluster: %d VIP route(s) withdrawn; detaching in %u ms (cluster.drain_ms)", n, ms);
	d->detach_at = now_s() + ms / 1e3;
	return ms;
}

/* xl4 detach: stop handling traffic (the one way besides --detach-on-exit), then exit. */
static json_t *do_detach(struct daemon *d)
{
	json_t *ifs = json_array();
	unsigned ms;

	for (int i = 0; i < d->n_ifs; i++)
		if (d->ifs[i].attached)
			json_array_append_new(ifs, json_string(d->ifs[i].name));
	if (d->detach_at)
		return json_pack("{s:b, s:o, s:i}", "ok", 1, "detached", ifs, "drain_ms",
				 (int)((d->detach_at - now_s()) * 1e3));
	ms = leave_before_detach(d);
	if (ms) {
		d->opts.detach_on_exit = true; /* a second signal meanwhile still detaches */
		return json_pack("{s:b, s:o, s:i}", "ok", 1, "detached", ifs, "drain_ms", (int)ms);
	}
	detach_all(d, false);
	d->stop = 1;
	pr_info("detached on request ('xl4 detach'); exiting");
	return json_pack("{s:b, s:o, s:i}", "ok", 1, "detached", ifs, "drain_ms", 0);
}

static json_t *req_status(void *d, const struct xl4_ctl_cmd *c, json_t *req)
{
	(void)c, (void)req;
	return status_json(d);
}

static json_t *req_stats(void *d, const struct xl4_ctl_cmd *c, json_t *req)
{
	(void)c, (void)req;
	return stats_reply(d);
}

static json_t *req_events(void *d, const struct xl4_ctl_cmd *c, json_t *req)
{
	(void)c, (void)req;
	return events_reply(d);
}

static json_t *req_ping(void *d, const struct xl4_ctl_cmd *c, json_t *req)
{
	(void)d, (void)c, (void)req;
	return json_pack("{s:b}", "ok", 1);
}

static json_t *req_reload(void *d, const struct xl4_ctl_cmd *c, json_t *req)
{
	(void)c, (void)req;
	return do_reload(d, "xl4 reload");
}

static json_t *req_detach(void *d, const struct xl4_ctl_cmd *c, json_t *req)
{
	(void)c, (void)req;
	return do_detach(d);
}

/* The LB's VIPs, each with its guard state: the status object's "vips". */
static json_t *req_vip_list(void *d, const struct xl4_ctl_cmd *c, json_t *req)
{
	json_t *st = json_object(), *r;

	(void)c, (void)req;
	jobs_json(d, st);
	r = json_pack("{s:b, s:O}", "ok", 1, "vips", json_object_get(st, "vips"));
	json_decref(st);
	return r;
}

/* The daemon's own commands; each job brings its own table (jobs[].request). */
static const struct xl4_ctl_cmd daemon_cmds[] = {
	{ "status", req_status, 0, NULL,
	  "the daemon, its interfaces, VIPs, filter, map pressure and guard" },
	{ "stats", req_stats, 0, NULL, "counters by verdict and by drop reason, with rates" },
	{ "events", req_events, 0, NULL,
	  "recent drop samples and guard mode changes, oldest first" },
	{ "ping", req_ping, 0, NULL, "is the daemon there?" },
	{ "reload", req_reload, 0, NULL,
	  "read the config file again and apply it, all or nothing" },
	{ "detach", req_detach, 0, NULL, "detach the program from every interface, then exit" },
	{ "vip-list", req_vip_list, 0, NULL, "VIPs with their backends, health and guard state" },
	{ 0 },
};

/* One control request (already a JSON object with a string "cmd"). */
static json_t *dispatch(void *ctx, json_t *req)
{
	struct daemon *d = ctx;
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	const struct xl4_ctl_cmd *c = xl4_ctl_find(daemon_cmds, cmd);

	if (c)
		return xl4_ctl_run(c, d, req);
	for (size_t i = 0; i < N_JOBS; i++)
		if ((c = xl4_ctl_find(jobs[i].request, cmd)))
			return xl4_ctl_run(c, job_state(d, &jobs[i]), req);
	return xl4_control_error("unknown command '%.64s'", cmd);
}

void xl4_daemon_commands_markdown(FILE *out)
{
	struct xl4_ctl_table t[N_JOBS + 1] = { { "daemon", daemon_cmds } };
	size_t n = 1;

	for (size_t i = 0; i < N_JOBS; i++)
		if (jobs[i].request)
			t[n++] = (struct xl4_ctl_table){ jobs[i].name, jobs[i].request };
	xl4_ctl_markdown(out, t, n);
}

static void sample_counters(struct daemon *d)
{
	static double last;
	double t = now_s();

	d->prev = d->cur;
	if (xl4_counters_read(d->eng.stats_fd, &d->cur)) {
		pr_warn("cannot read counters: %s", strerror(errno));
		return;
	}
	d->dt = last ? t - last : 0;
	last = t;
	d->samples++;
}

/* The metrics text from the latest sample (d->cur) and the jobs' part of `xl4 status`,
 * rendered here on the loop and handed to the HTTP thread. */
static void render_metrics(struct daemon *d)
{
	struct xl4_metrics_input in;
	json_t *st;
	size_t len = 0;
	char *text;

	if (!d->metrics.mhd)
		return; /* metrics.listen = "" */
	st = json_object();
	jobs_json(d, st);
	in = (struct xl4_metrics_input){
		.totals = &d->cur,
		.vips = json_object_get(st, "vips"),
		.rules = xl4_filter_rules_json(&d->filter.f),
		.filter = json_object_get(st, "filter"),
		.guard = json_object_get(st, "guard"),
		.started = d->started,
		.events_sampled = d->events_total,
		.maps = json_object_get(st, "maps"),
		.cluster = json_object_get(st, "cluster"),
	};
	text = xl4_metrics_render(&in, &len);
	if (text)
		xl4_metrics_publish(&d->metrics, text, len);
	else
		pr_warn("metrics: cannot render: out of memory");
	json_decref(in.rules);
	json_decref(st);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct daemon *d = ctx;
	struct xl4_event ev;

	if (!xl4_event_read(data, size, &ev))
		return 0;
	d->recent[d->events_total++ % RECENT_EVENTS] = ev;
	daemon_guard_on_event(&d->guard, &ev);
	pr_debug("drop sample: %s, %u bytes", xl4_reason_name(ev.reason), ev.pkt_len);
	return 0;
}

static int setup_loop(struct daemon *d)
{
	struct itimerspec its = { .it_interval = { 1, 0 }, .it_value = { 1, 0 } };
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t mask;

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN); /* belt and braces: replies use MSG_NOSIGNAL already */
	d->sigfd = signalfd(-1, &mask, SFD_CLOEXEC);
	d->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	d->rb = ring_buffer__new(d->eng.events_fd, on_event, d, NULL);
	if (d->sigfd < 0 || d->timerfd < 0 || d->epfd < 0 || !d->rb)
		return -errno;
	timerfd_settime(d->timerfd, 0, &its, NULL);
	ev.data.fd = d->sigfd;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sigfd, &ev);
	ev.data.fd = d->timerfd;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->timerfd, &ev);
	ev.data.fd = d->ctlfd;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->ctlfd, &ev);
	xl4_ctl_server_init(&d->ctl, d->ctlfd, d->epfd, dispatch, d);
	ev.data.fd = ring_buffer__epoll_fd(d->rb);
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	jobs_poll(d);
	return 0;
}

/* fd is a job's: run its handler. 0 if it is nobody's. */
static int job_on_fd(struct daemon *d, int fd)
{
	for (size_t i = 0; i < N_JOBS; i++) {
		void *state = job_state(d, &jobs[i]);

		if (jobs[i].fd && jobs[i].fd(state) == fd) {
			jobs[i].on_fd(state);
			return 1;
		}
	}
	return 0;
}

static void run_loop(struct daemon *d)
{
	struct epoll_event evs[8];

	while (!d->stop) {
		int wait_ms = d->detach_at ? (int)((d->detach_at - now_s()) * 1e3) + 1 : -1;
		int n = epoll_wait(d->epfd, evs, 8, d->detach_at && wait_ms < 0 ? 0 : wait_ms);
		bool changed = false;

		if (n < 0 && errno == EINTR)
			continue;
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			/* anything but a drop sample may change what the node can serve */
			changed |= fd != ring_buffer__epoll_fd(d->rb);
			if (fd == d->sigfd) {
				struct signalfd_siginfo si;

				if (read(fd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGHUP) {
					json_decref(do_reload(d, "SIGHUP"));
					continue;
				}
				daemon_log_stop(si.ssi_signo, d->opts.detach_on_exit);
				/* detaching: withdraw first and keep forwarding for drain_ms; a
				 * second signal meanwhile stops at once */
				if (!d->opts.detach_on_exit || d->detach_at || !leave_before_detach(d))
					d->stop = 1;
			} else if (fd == d->timerfd) {
				__u64 ticks;

				if (read(fd, &ticks, sizeof(ticks)) == sizeof(ticks)) {
					xl4_ctl_server_expire(&d->ctl, now_s());
					sample_counters(d);
					for (size_t j = 0; j < N_JOBS; j++)
						if (jobs[j].tick)
							jobs[j].tick(job_state(d, &jobs[j]));
					render_metrics(d);
				}
			} else if (fd == d->ctlfd) {
				xl4_ctl_server_accept(&d->ctl, now_s());
			} else if (xl4_ctl_server_io(&d->ctl, fd, now_s())) {
				/* a control client's request */
			} else if (!job_on_fd(d, fd)) {
				ring_buffer__consume(d->rb);
			}
		}
		/* a health change reaches the routes now, not at the next tick */
		if (changed && !d->stop)
			daemon_cluster_sync(&d->cluster);
		if (d->detach_at && now_s() >= d->detach_at) {
			pr_info("cluster.drain_ms passed: detaching");
			detach_all(d, false);
			d->stop = 1;
		}
	}
}

/* The stop signals, blocked from the first moment (the loop reads them from a signalfd): a
 * stop during the start, which can take a while, then ends it cleanly, at the next step,
 * instead of killing the process mid-way with the control socket file left behind. */
static void block_stop_signals(sigset_t *mask)
{
	sigemptyset(mask);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGHUP);
	sigprocmask(SIG_BLOCK, mask, NULL);
}

/* A SIGINT or SIGTERM arrived during the start (it stays pending for the loop otherwise). */
static bool stop_pending(void)
{
	sigset_t p;

	sigpending(&p);
	return sigismember(&p, SIGTERM) || sigismember(&p, SIGINT);
}

int xl4_daemon_run(const struct xl4_config *cfg, const struct xl4_daemon_opts *opts)
{
	struct xl4_engine_opts eo = { 0 };
	struct daemon_env env;
	sigset_t stop_mask;
	struct daemon *d = calloc(1, sizeof(*d));
	bool attached = false;
	int err, rc = 1;

	if (!d)
		return 1;
	d->cfg = *cfg;
	d->opts = *opts;
	d->sigfd = d->timerfd = d->epfd = d->ctlfd = d->pin_lock = -1;
	xl4_ctl_server_init(&d->ctl, -1, -1, dispatch, d); /* no clients yet; set up for real later */
	d->started = time(NULL);
	block_stop_signals(&stop_mask);
	daemon_log_start(cfg);

	/* check: say plainly what the kernel lacks before trying anything */
	if (xl4_features_check())
		goto out;
	if (resolve_ifaces(d))
		goto out;
	/* pin: shared maps live under pin_path so counters outlive this process */
	if (xl4_bpffs_prepare(cfg->pin_path))
		goto out;
	/* lock: one daemon per datapath (a second would adopt the same program) */
	if ((d->pin_lock = xl4_pins_lock(cfg->pin_path)) < 0)
		goto out;
	/* load-time knobs: they decide whether the running program can be adopted */
	xl4_engine_opts_from_config(cfg, &eo);
	xl4_ct_lru_settle_here(&eo); /* the pins in place, then the CPUs, when the file is silent */
	d->cfg.lb.ct_per_cpu_lru = eo.ct_per_cpu_lru; /* as settled: what a reload compares */
	{
		const char *names[XL4_MAX_IFACES];

		for (int i = 0; i < d->n_ifs; i++)
			names[i] = d->ifs[i].name;
		xl4_ct_lru_check_ifaces(&eo, names, d->n_ifs); /* NICs with fewer queues than CPUs */
	}
	d->fingerprint = xl4_engine_fingerprint(&eo);
	/* adopt the running program (same build and knobs), or load one to replace it */
	if (xl4_datapath_open(&d->eng, &eo, opts->upgrade, &d->adopted))
		goto out;
	/* control socket before attaching, so a second daemon fails before touching interfaces */
	d->ctlfd = xl4_control_listen_as(cfg->control_socket, cfg->socket_gid);
	if (d->ctlfd < 0) {
		daemon_log_start_failed("socket", cfg->control_socket,
					d->ctlfd == -EADDRINUSE ? "another xl4 daemon is running" :
					d->ctlfd == -ENOTSOCK ? "something that is not a socket is there "
								"(not removed: is the path right?)" :
								strerror(-d->ctlfd));
		goto out_engine;
	}
	/* jobs: the metrics endpoint, then VIPs, filter and guard before the first packet */
	env = (struct daemon_env){ .cfg = cfg, .eng = &d->eng, .ifindex = d->ifs[0].ifindex,
				   .lb = &d->lb, .filter = &d->filter };
	for (size_t i = 0; i < N_JOBS; i++) {
		/* counted before it runs: a start that fails half-way is stopped too */
		d->n_started = i + 1;
		if (jobs[i].start && jobs[i].start(job_state(d, &jobs[i]), &env))
			goto out_socket;
		if (stop_pending())
			goto out_stopped;
	}
	if ((err = setup_loop(d))) {
		pr_warn("event loop setup failed: %s", strerror(-err));
		goto out_socket;
	}
	/* the seed in force (configured, adopted from the pins, or random): reload compares it */
	d->cfg.lb.seed = d->lb.lb.set.seed;
	if (stop_pending())
		goto out_stopped;
	/* attach: every interface (or replace atomically, or keep the adopted program), or none */
	if (attach_all(d))
		goto out_socket;
	attached = true;
	xl4_pins_replaced_commit(cfg->pin_path); /* the older pins our program replaced */
	/* our program serves every interface now: IPv4 flows an older build left in the IPv6
	 * table (copied at load, re-pointed since) are moved out of it */
	xl4_ct_split_pins(d->eng.lb.ct, d->eng.lb.ct4, d->eng.lb.fcgen, true);
	{
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int ifindex[XL4_MAX_IFACES];

		bpf_obj_get_info_by_fd(d->eng.prog_fd, &info, &len);
		for (int i = 0; i < d->n_ifs; i++)
			ifindex[i] = d->ifs[i].ifindex;
		daemon_cluster_attached(&d->cluster, ifindex, d->n_ifs, info.id);
	}
	sample_counters(d);
	maps_tick(&d->maps);
	render_metrics(d);
	daemon_log_ready(cfg, d->n_ifs);

	run_loop(d);
	rc = 0;

	daemon_cluster_leave(&d->cluster); /* (done already when it detached after drain_ms) */
	if (d->opts.detach_on_exit) {
		detach_all(d, false);
	} else if (d->n_ifs && d->ifs[0].attached) {
		pr_info("leaving the program attached on %d interface(s): traffic is still handled "
			"('xl4 detach' or --detach-on-exit stop that)", d->n_ifs);
	}
	goto out_socket;
out_stopped:
	pr_info("stopped by a signal before the start was complete");
	rc = 0;
out_socket:
	xl4_ctl_server_close(&d->ctl);
	for (size_t i = d->n_started; i-- > 0;)
		if (jobs[i].stop)
			jobs[i].stop(job_state(d, &jobs[i]));
	close(d->ctlfd);
	unlink(cfg->control_socket);
out_engine:
	if (d->rb)
		ring_buffer__free(d->rb);
	xl4_engine_close(&d->eng);
out:
	/* a start that failed before its program ran anywhere: the older build's pins stay, the
	 * new ones it made in their place go (one that replaced some interfaces keeps both) */
	if (!attached && !d->adopted && !program_live(d))
		xl4_pins_replaced_abort(cfg->pin_path);
	if (d->epfd >= 0)
		close(d->epfd);
	if (d->sigfd >= 0)
		close(d->sigfd);
	if (d->timerfd >= 0)
		close(d->timerfd);
	if (d->pin_lock >= 0)
		close(d->pin_lock);
	if (d->cfg_owned)
		xl4_config_free(&d->cfg);
	free(d);
	return rc;
}
