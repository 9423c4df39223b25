/* version.c: the version the worker writes into its slot page (report.c),
 * alone in its file so that a test can link a worker that says another
 * version by compiling only this file again (the Makefile's
 * other-version worker, for t/integration/test_roll.py). */
#include "worker/version.h"

const char ds_worker_version[] = DS_VERSION;
