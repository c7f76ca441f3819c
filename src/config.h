/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The daemon's configuration file (libconfig syntax; see examples/xl4.conf and docs/config.md).
 * Loading validates everything and either fills a whole struct or reports one error naming the
 * file, line and key; a failed load never touches the caller's running config.
 */
#ifndef XL4_CONFIG_H
#define XL4_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <net/if.h>
#include <linux/types.h>

#include "engine.h"
#include "filter_state.h"
#include "health.h"
#include "lb_spec.h"

#define XL4_MAX_IFACES 16
#define XL4_DEFAULT_SOCKET "/run/xl4/xl4.sock"
#define XL4_DEFAULT_PIN_PATH "/sys/fs/bpf/xl4"
#define XL4_CONFIG_ERR_MAX 512
#define XL4_VIP_MAX_BACKENDS_CONF 1024

/* One VIP as the file declares it. Health checks (if any) use health as a template: address
 * and port are filled in per backend (port 0 = the backend's own port). */
struct xl4_vip_conf {
	struct xl4_vip_spec spec;
	bool health_on;
	struct xl4_health_spec health;
	struct xl4_backend_spec *backends;
	int n_backends;
};

struct xl4_lb_conf {
	uint32_t seed;
	bool seed_set;		/* false: a random seed (fine for one node only) */
	uint32_t table_size;	/* Maglev table size, prime */
	uint32_t ct_max;
	uint32_t ct6_max; /* the IPv6 table's entries; 0: ct_max */
	bool ct_per_cpu_lru;	/* per-CPU LRU lists (the default, see xl4_ct_lru_settle()) */
	bool ct_per_cpu_lru_set; /* the file says which: pins and CPUs do not decide */
	uint32_t fcache_slots;	/* the flow cache's slots per CPU (a power of two); 0: off */
	uint32_t ct_inserts_per_sec;
	uint32_t too_big_per_sec;	/* ICMP too-big replies per second per CPU (0: no cap) */
	uint32_t icmp_errors_per_sec;	/* ICMP errors steered to backends per second per CPU */
	__be32 ipip_src4;
	uint32_t ipip_src4_hostmask; /* host order */
	__be32 ipip_src6[4];
};

/* The filter section: source lists (never expiring), destination rules and the global
 * per-source limit, applied by the daemon at start (docs/filter.md). */
#define XL4_FILTER_LIST_MAX_CONF 1000000
#define XL4_FILTER_RATE_TABLE_DEFAULT 262144
#define XL4_FILTER_NEW_SOURCES_DEFAULT 100000

struct xl4_filter_conf {
	struct xl4_prefix *allow, *block; /* owned */
	int n_allow, n_block;
	struct xl4_rule_spec *rules;	  /* owned; ids are given by the daemon in this order */
	int n_rules;
	uint32_t limit_rate, limit_burst; /* global per-source limit; rate 0 = off */
	uint8_t limit_v6_prefix;
	uint32_t new_sources_per_sec;	  /* per-CPU budget of new buckets (0 = unlimited) */
	uint32_t rate_table_size;	  /* xl4_rate_v1 entries */
	uint32_t ipv4_groups;		  /* xl4_b4grp_v2 groups of 256 leaves */
};

/* The Prometheus endpoint (docs/metrics.md). listen "" = off; any address other than the
 * default loopback one is only ever used because the file says so. */
#define XL4_METRICS_LISTEN_DEFAULT "127.0.0.1:9143"

struct xl4_metrics_conf {
	char listen[64];   /* as written ("" = disabled) */
	int family;	   /* AF_INET or AF_INET6 */
	uint8_t addr[16];  /* network order; 4 bytes used for AF_INET */
	uint16_t port;	   /* host order */
};

/* The flood guard (docs/guard.md). Rates are per VIP over all CPUs; the daemon turns them into
 * the kernel's per-CPU window thresholds (struct xl4_guard_cfg). */
#define XL4_ANALYZER_MAX_BLOCKS 256 /* the most guard.analyzer.max_blocks may be */
struct xl4_analyzer_conf {
	bool block_top;		/* block new SYNs to the VIP from a source or prefix that dominates
				 * an attack (off unless configured) */
	uint32_t block_seconds; /* for this long, never renewed */
	uint32_t max_blocks;	/* automatic blocks in force at once, at most */
	double min_share;	/* it must hold at least this share of the sampled drops */
	uint32_t min_samples;	/* ...of at least this many samples */
};

struct xl4_guard_conf {
	bool enabled;
	uint32_t response;	      /* enum xl4_guard_response */
	uint32_t syn_rate;	      /* SYN/s per VIP below which no window is an attack */
	uint32_t surge_rate;	      /* SYN/s per VIP from which an attack window enters at once */
	double ratio;		      /* SYN : completing ACK above which a window is an attack */
	uint32_t enter_ms, leave_ms, escalate_ms;
	uint32_t fd_min_ms, fd_max_ms; /* First Drop: the retransmission window */
	uint32_t fd_hold_ms;	      /* ...and the delay its greylist must hold at the flood's rate */
	uint32_t min_sources;	      /* distinct sources (about) whose repeats can beat First Drop */
	uint32_t verify_v6_prefix;    /* IPv6 sources are verified per prefix of this length */
	uint32_t verify_per_sec;      /* per CPU cap on new First Drop verifications; 0 = none */
	uint32_t verified_ttl_s;
	uint32_t challenge_per_sec;   /* per CPU; 0 = no cap */
	uint32_t key_rotation_s;      /* a cookie key serves this long (rounded to cookie slices) */
	uint32_t grey_slots, syn_slots, verified_max;
	struct xl4_analyzer_conf analyzer;
};

/* Scale-out (docs/scale-out.md): the VIP routes this node keeps for BIRD to announce. */
struct xl4_cluster_conf {
	uint32_t route_table; /* kernel routing table; 0 = this node announces nothing */
	uint32_t min_healthy; /* a VIP is announced with at least this many usable backends */
	uint32_t drain_ms;    /* after withdrawing, wait this long before detaching */
};

/* Which settings the daemon's command line gave (they win over the file, on reload too). */
#define XL4_CLI_IFACES (1u << 0)
#define XL4_CLI_MODE (1u << 1)
#define XL4_CLI_SOCKET (1u << 2)
#define XL4_CLI_PIN_PATH (1u << 3)
#define XL4_CLI_SOCKET_GROUP (1u << 4)

struct xl4_config {
	char path[PATH_MAX];
	unsigned cli_set; /* XL4_CLI_* */
	char ifaces[XL4_MAX_IFACES][IF_NAMESIZE];
	int n_ifaces;
	enum xl4_xdp_mode mode;
	char pin_path[PATH_MAX];
	char control_socket[108]; /* sun_path */
	__u32 frag_policy;	  /* enum xl4_frag_policy */
	__u32 sample_per_sec;
	struct xl4_lb_conf lb;
	struct xl4_vip_conf *vips; /* owned; freed by xl4_config_free() */
	int n_vips;
	struct xl4_filter_conf filter;
	struct xl4_metrics_conf metrics;
	char socket_group[64];	  /* daemon.socket_group: "" = the control socket is root-only */
	long socket_gid;	  /* its gid, or -1 */
	struct xl4_guard_conf guard;
	struct xl4_cluster_conf cluster;
};

/*
 * Every key of the file, declared once as a row of xl4_conf_keys[] (src/config.c): the parser
 * walks the rows, the reload refuses a change to a restart_only one ("needs restart: KEY
 * (OLD -> NEW)"), and `xl4 config --markdown` / `--man` print docs/config.md's tables and
 * xl4.conf(5)'s key list from them. Lists of groups (vips, filter.rules) are one CUSTOM row
 * each; their inner keys are read and documented by hand (a table of one row per VIP does
 * not fit: their ranges depend on each other and on the VIP's family).
 */
enum xl4_conf_type {
	XL4_CONF_GROUP,	 /* a section ("guard.first_drop"); its keys are the rows below it */
	XL4_CONF_INT,	 /* an integer min..max, checked as written, into an unsigned field */
	XL4_CONF_BOOL,	 /* true or false */
	XL4_CONF_REAL,	 /* a number (3 or 3.0) rmin..rmax, into a double */
	XL4_CONF_ENUM,	 /* one of names[], its value into a 4-byte field */
	XL4_CONF_STRING, /* a non-empty string into a char[size] */
	XL4_CONF_CUSTOM, /* parse() reads it, show() prints it */
};

struct xl4_conf_name {
	const char *name;
	unsigned value;
	bool alias; /* accepted, not listed */
};

struct xl4_conf_ctx;
struct config_setting_t;

struct xl4_conf_key {
	const char *key;	/* the full path: "guard.first_drop.min_ms" */
	enum xl4_conf_type type;
	size_t offset, size;	/* the field in struct xl4_config (not for GROUP, CUSTOM) */
	long long min, max;	/* INT */
	double rmin, rmax;	/* REAL */
	bool restart_only;	/* baked into the program, a map's size or a held resource */
	bool pinned_size;	/* the size of a pinned map: a restart with a new value is refused
				 * while the old pins hold the running state (src/engine.c) */
	const struct xl4_conf_name *names; /* ENUM, up to { NULL } */
	/* CUSTOM: reads the setting. Otherwise, when set: a check after the typed read (for a
	 * GROUP: after its keys, when the file has the group). */
	int (*parse)(struct xl4_conf_ctx *c, const struct xl4_conf_key *k,
		     const struct config_setting_t *s, struct xl4_config *cfg);
	void (*show)(const struct xl4_config *cfg, char *buf, size_t len); /* CUSTOM's value */
	/* restart_only, when the value written is not what decides (a 0 that means another
	 * key's): what a reload from a to b reports, as was/now (equal: no change) */
	void (*change)(const struct xl4_config *a, const struct xl4_config *b, char *was,
		       char *now, size_t len);
	const char *kind;	/* docs' type: INT/REAL "prime" for "prime 3..65537"; STRING,
				 * CUSTOM the whole text; GROUP the section's title, or NULL
				 * to stay in its parent's table */
	const char *def_doc;	/* docs' default, where not the value of xl4_config_defaults() */
	const char *help;	/* one paragraph, Markdown with `code` only (the man page
				 * gets it converted); GROUP: said under the section's title */
	const char *example;	/* GROUP: for "expected a group: ..." */
};

extern const struct xl4_conf_key xl4_conf_keys[]; /* up to { NULL } */

/* k's value in cfg as the file writes it: 500, true, 3, "auto", ["eth0"]. */
void xl4_conf_value(const struct xl4_conf_key *k, const struct xl4_config *cfg, char *buf,
		    size_t len);
/* docs/config.md's key tables and xl4.conf(5)'s key list (src/conf_doc.c). */
void xl4_conf_markdown(FILE *out);
void xl4_conf_man(FILE *out);
void xl4_conf_text(FILE *out);

void xl4_config_defaults(struct xl4_config *cfg);
void xl4_config_free(struct xl4_config *cfg);
/* Parse and validate path into *cfg (which must hold defaults or a loaded config; on success
 * what it held is freed and replaced). On error returns -EINVAL (or -errno), writes
 * "FILE:LINE: KEY: problem" into err and leaves *cfg untouched. */
int xl4_config_load(const char *path, struct xl4_config *cfg, char *err, size_t errlen);
/* Same, from a string (tests, fuzzing); name stands in for the file name in errors. */
int xl4_config_parse(const char *text, const char *name, struct xl4_config *cfg, char *err,
		     size_t errlen);
/* "127.0.0.1:9143", "[::1]:9143" -> m (listen, family, addr, port); "" -> disabled.
 * 0, or -EINVAL with the problem in err. */
int xl4_metrics_listen_parse(const char *s, struct xl4_metrics_conf *m, char *err, size_t errlen);
/* daemon.socket_group / --socket-group: the group's gid, or -ENOENT/-EINVAL with err set. */
int xl4_socket_group_parse(const char *name, struct xl4_config *cfg, char *err, size_t errlen);
/* Add an interface by name (from -i); checks length and duplicates. */
int xl4_config_add_iface(struct xl4_config *cfg, const char *name, char *err, size_t errlen);
/* Set cfg->pin_path (--pin-path, $XL4_PIN_PATH): -EINVAL unless path is a directory under
 * /sys/fs/bpf/ that fits, as daemon.pin_path must be. */
int xl4_config_set_pin_path(struct xl4_config *cfg, const char *path);
/* XL4_SOCKET and XL4_PIN_PATH from the environment in place of the defaults, after the file is
 * read (its daemon.control_socket and daemon.pin_path win, and the command line after this);
 * at start and at each reload alike. xl4_config_paths_check() judges what is in effect. */
void xl4_config_from_env(struct xl4_config *cfg);
/* The pin path (and the control socket, with socket) in effect, checked as --pin-path and
 * --socket are: 0, or -EINVAL with why in err (naming the environment variable it came from). */
int xl4_config_paths_check(const struct xl4_config *cfg, bool socket, char *err, size_t errlen);

/* Cross-field checks on a rule, shared by the config file and the control socket: ports only
 * with tcp/udp/any, rate and burst (> 0) only and always with "limit", v6_prefix 1..128. */
int xl4_rule_spec_check(const struct xl4_rule_spec *r, bool has_rate, bool has_burst,
			bool has_v6_prefix, char *err, size_t errlen);

#endif
