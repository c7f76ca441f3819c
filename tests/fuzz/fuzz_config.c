// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target: arbitrary bytes as a config file. Invariants: no crash, no leak, and an
 * accepted config is within every documented bound; a rejected one leaves the caller's
 * config untouched and names a line. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "xl4/abi.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[XL4_CONFIG_ERR_MAX] = "";
	struct xl4_config cfg, before;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	xl4_config_defaults(&cfg);
	before = cfg;
	if (xl4_config_parse(text, "fuzz.conf", &cfg, err, sizeof(err)) == 0) {
		assert(cfg.n_ifaces >= 0 && cfg.n_ifaces <= XL4_MAX_IFACES);
		for (int i = 0; i < cfg.n_ifaces; i++)
			assert(strlen(cfg.ifaces[i]) > 0 && strlen(cfg.ifaces[i]) < IF_NAMESIZE);
		assert(cfg.mode <= XL4_MODE_SKB);
		assert(cfg.frag_policy == XL4_FRAG_PASS || cfg.frag_policy == XL4_FRAG_DROP);
		assert(cfg.sample_per_sec <= 1000000);
		assert(!strncmp(cfg.pin_path, "/sys/fs/bpf/", 12));
		assert(cfg.control_socket[0] == '/');
		/* integers as written, never wrapped into range by libconfig's 32-bit read */
		for (int i = 0; i < cfg.n_vips; i++) {
			assert(!cfg.vips[i].spec.mtu || (cfg.vips[i].spec.mtu >= 596 && cfg.vips[i].spec.mtu <= 9216));
			for (int j = 0; j < cfg.vips[i].n_backends; j++)
				assert(cfg.vips[i].backends[j].weight >= 1 && cfg.vips[i].backends[j].weight <= 65535);
		}
		assert(cfg.lb.ct_inserts_per_sec <= 100000000);
		assert(cfg.filter.limit_rate <= 10000000); /* XL4_RULE_RATE_MAX, config.c */
		xl4_config_free(&cfg);
	} else {
		assert(memcmp(&cfg, &before, sizeof(cfg)) == 0);
		assert(!strncmp(err, "fuzz.conf:", 10));
	}
	free(text);
	return 0;
}
