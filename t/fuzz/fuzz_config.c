/* fuzz_config.c: libFuzzer harness for ds_config_parse() (config/config.h):
 * the jobs config text, any bytes, then ds_config_free()/ds_diag_free().
 * Checks that a failure always comes with an error, a success with none,
 * every message is one line, and that no valid JSON is ever reported as
 * "out of memory" (the fuzzer never runs out). */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

static void
check_msgs(char **list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		assert(list[i] != NULL);
		assert(strncmp(list[i], "fuzz.json", 9) == 0);
		assert(strchr(list[i], '\n') == NULL);
		assert(strchr(list[i], '\r') == NULL);
		assert(strcmp(list[i], "fuzz.json: out of memory") != 0);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ds_config cfg;
	struct ds_diag diag;
	char *text = malloc(size ? size : 1);	/* exact size, no NUL */
	int rc;

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	rc = ds_config_parse(text, size, "fuzz.json", &cfg, &diag);
	check_msgs(diag.errors, diag.nerrors);
	check_msgs(diag.warnings, diag.nwarnings);
	if (rc == 0) {
		assert(diag.nerrors == 0);
		assert(cfg.nservers >= 1);
		for (size_t i = 0; i < cfg.npools; i++) {
			const struct ds_pool *p = &cfg.pools[i];

			assert(p->name != NULL && p->uri != NULL);
			assert(p->njobs >= 1 && p->worker_count >= 0);
			assert(ds_config_pool(&cfg, p->name) != NULL);
		}
	} else {
		assert(rc == -1 && diag.nerrors >= 1);
		assert(cfg.npools == 0 && cfg.nservers == 0);
	}
	ds_config_free(&cfg);
	ds_diag_free(&diag);
	free(text);
	return 0;
}
