/* preflight.c: the checks a start makes before it touches anything
 * (preflight.h). Moved out of main.c so that --upgrade-check runs exactly
 * the checks a start runs. */
#include "master/preflight.h"

#include <stdio.h>
#include <string.h>

#include "master/daemon.h"
#include "master/limits.h"
#include "master/reload.h"

int
ds_preflight_log(const struct ds_master_opts *o, struct ds_log_settings *ls)
{
	char err[512], warn[512];

	if (ds_master_log_settings(o, ls, err, sizeof(err), warn,
	    sizeof(warn)) < 0) {
		fprintf(stderr, "driveshaft: --logconfig %s\n", err);
		return -1;
	}
	if (warn[0])
		fprintf(stderr, "driveshaft: warning: %s\n", warn);
	return 0;
}

int
ds_preflight_jobs(const struct ds_master_opts *o, struct ds_config *cfg)
{
	struct ds_diag diag;
	char err[512];
	int rc = ds_config_load(o->jobsconfig, cfg, &diag);

	for (size_t i = 0; i < diag.nwarnings; i++)
		fprintf(stderr, "driveshaft: warning: %s\n", diag.warnings[i]);
	for (size_t i = 0; i < diag.nerrors; i++)
		fprintf(stderr, "driveshaft: %s\n", diag.errors[i]);
	ds_diag_free(&diag);
	if (rc == 0 && ds_config_fits(cfg, ds_raise_nofile(), err,
	    sizeof(err)) < 0) {
		fprintf(stderr, "driveshaft: %s: %s\n", o->jobsconfig, err);
		return -1;
	}
	return rc;
}

int
ds_preflight_user_reads(const struct ds_master_opts *o)
{
	struct ds_user_file files[] = {
		{"--jobsconfig", o->jobsconfig},
		{"--logconfig", o->logconfig},
	};
	char err[2048];

	if (ds_user_can_read(o->user, files, 2, err, sizeof(err)) == 0)
		return 1;
	for (char *line = strtok(err, "\n"); line; line = strtok(NULL, "\n"))
		fprintf(stderr, "driveshaft: %s\n", line);
	return 0;
}
