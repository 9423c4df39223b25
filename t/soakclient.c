/* soakclient.c: the soak's load generator over libgearman (t/soak/soak.py).
 *
 * Foreground mode (default): THREADS threads, each with its own client,
 * submit a stream of foreground jobs in batches of BATCH
 * (gearman_client_add_task + gearman_client_run_tasks, with a callback per
 * answer) until stdin says "stop" or reaches EOF, then finish the batches
 * in hand and exit. Every event is one line on stdout, written whole:
 *   S <unique> <function> <workload>      the job goes out
 *   C <unique> <hex result> <ms>          WORK_COMPLETE
 *   F <unique> - <ms>                     WORK_FAIL
 *   X <unique> <hex exception> <ms>       WORK_EXCEPTION
 *   G <unique> <created>:<error> <ms>     no answer: the client was told its
 *                                         server went away (created: 1 if
 *                                         gearmand had acknowledged the job)
 *   L <unique> - <ms>                     no answer and nothing heard from
 *                                         the server for TIMEOUT seconds
 *   D <unique> <kind> <ms>                a second final answer (must never be)
 * Fields are tab-separated. A job whose S line has no final line after it
 * was never answered. A batch that fails (server gone) makes its thread
 * start over with a new client after a short pause.
 *
 * Background mode (-B): reads "FUNCTION<TAB>UNIQUE<TAB>WORKLOAD" lines and
 * submits each as a background job, printing B <unique> <handle> or
 * E <unique> <error>. Exit 0 when gearmand took every one. */
#include <libgearman-1.0/gearman.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 64

struct job {
	char unique[64];
	char workload[96];
	const char *function;
	int answers;		/* final answers seen */
	int created;		/* JOB_CREATED seen */
	long long t0;
};

static const char *server = "127.0.0.1:4730";
static char **functions;
static size_t nfunctions;
static int batch = 4, nthreads = 8, timeout_s = 60;
static const char *prefix = "soak";
static volatile int stopping;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One event line, written at once so lines of two threads never mix. */
static void
emit(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&out_lock);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static void
hex(char *out, const char *data, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", (unsigned char)data[i]);
	out[2 * n] = '\0';
}

/* Records an answer; a second one for the same job is a D line. */
static void
answer(gearman_task_st *task, char kind, int with_data)
{
	struct job *j = gearman_task_context(task);
	long long ms = now_ms() - j->t0;
	size_t n = with_data ? gearman_task_data_size(task) : 0;
	char *h = malloc(2 * n + 2);

	if (h == NULL) {
		perror("soakclient");
		exit(2);
	}
	if (j->answers++ > 0) {
		emit("D\t%s\t%c\t%lld\n", j->unique, kind, ms);
		free(h);
		return;
	}
	if (n)
		hex(h, gearman_task_data(task), n);
	else
		strcpy(h, "-");
	emit("%c\t%s\t%s\t%lld\n", kind, j->unique, h, ms);
	free(h);
}

static gearman_return_t
on_complete(gearman_task_st *task)
{
	answer(task, 'C', 1);
	return GEARMAN_SUCCESS;
}

static gearman_return_t
on_fail(gearman_task_st *task)
{
	answer(task, 'F', 0);
	return GEARMAN_SUCCESS;
}

static gearman_return_t
on_exception(gearman_task_st *task)
{
	answer(task, 'X', 1);
	return GEARMAN_SUCCESS;
}

static gearman_return_t
on_created(gearman_task_st *task)
{
	struct job *j = gearman_task_context(task);

	j->created = 1;
	return GEARMAN_SUCCESS;
}

static gearman_client_st *
new_client(void)
{
	gearman_client_st *c = gearman_client_create(NULL);

	if (c == NULL || gearman_client_add_servers(c, server) != GEARMAN_SUCCESS) {
		fprintf(stderr, "soakclient: cannot use server %s\n", server);
		exit(2);
	}
	gearman_client_set_timeout(c, timeout_s * 1000);
	gearman_client_set_complete_fn(c, on_complete);
	gearman_client_set_fail_fn(c, on_fail);
	gearman_client_set_exception_fn(c, on_exception);
	gearman_client_set_created_fn(c, on_created);
	return c;
}

/* A workload of three numbers; the endpoint answers "<unique>:<sum>". */
static void
make_job(struct job *j, int thread, long long seq, unsigned *seed)
{
	memset(j, 0, sizeof(*j));
	snprintf(j->unique, sizeof(j->unique), "%s-%d-%lld", prefix, thread, seq);
	snprintf(j->workload, sizeof(j->workload), "%lld %d %u", seq, thread,
	    rand_r(seed) % 100000);
	j->function = functions[rand_r(seed) % nfunctions];
}

/* Runs one batch; returns 0 when the client can be kept. */
static int
run_batch(gearman_client_st *c, struct job *jobs, int n)
{
	gearman_task_st *tasks[MAX_BATCH];
	gearman_return_t rc;
	int added = 0, keep;

	for (int i = 0; i < n; i++) {
		jobs[i].t0 = now_ms();
		tasks[i] = gearman_client_add_task(c, NULL, &jobs[i],
		    jobs[i].function, jobs[i].unique, jobs[i].workload,
		    strlen(jobs[i].workload), &rc);
		if (tasks[i] == NULL) {
			emit("S\t%s\t%s\t%s\n", jobs[i].unique, jobs[i].function,
			    jobs[i].workload);
			emit("G\t%s\t0:add_task:%s\t0\n", jobs[i].unique,
			    gearman_strerror(rc));
			jobs[i].answers = -1000;
			continue;
		}
		added++;
		emit("S\t%s\t%s\t%s\n", jobs[i].unique, jobs[i].function,
		    jobs[i].workload);
	}
	rc = added ? gearman_client_run_tasks(c) : GEARMAN_SUCCESS;
	keep = rc == GEARMAN_SUCCESS;
	for (int i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		long long ms = now_ms() - j->t0;

		if (j->answers == 0 && rc == GEARMAN_TIMEOUT)
			emit("L\t%s\t-\t%lld\n", j->unique, ms);
		else if (j->answers == 0)
			emit("G\t%s\t%d:%s\t%lld\n", j->unique, j->created,
			    gearman_strerror(rc == GEARMAN_SUCCESS ?
			    gearman_task_return(tasks[i]) : rc), ms);
		if (tasks[i] != NULL)
			gearman_task_free(tasks[i]);
	}
	return keep ? 0 : -1;
}

static void *
thread_main(void *arg)
{
	int id = (int)(long)arg;
	unsigned seed = (unsigned)(id * 7919 + getpid());
	gearman_client_st *c = new_client();
	struct job jobs[MAX_BATCH];
	long long seq = 0;

	while (!stopping) {
		for (int i = 0; i < batch; i++)
			make_job(&jobs[i], id, seq++, &seed);
		if (run_batch(c, jobs, batch) < 0) {
			/* server gone: a fresh client, after a pause so a
			 * stopped gearmand is not hammered */
			gearman_client_free(c);
			usleep(100000 + rand_r(&seed) % 200000);
			c = new_client();
		}
	}
	gearman_client_free(c);
	return NULL;
}

static void
split_functions(const char *list)
{
	char *s = strdup(list), *save = NULL;

	if (s == NULL) {
		perror("soakclient");
		exit(2);
	}

	for (char *t = strtok_r(s, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char **grown = realloc(functions, (nfunctions + 1) * sizeof(*functions));

		if (grown == NULL) {
			perror("soakclient");
			exit(2);
		}
		functions = grown;
		functions[nfunctions++] = t;
	}
}

static int
background(void)
{
	gearman_client_st *c = new_client();
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int bad = 0;

	while ((len = getline(&line, &cap, stdin)) > 0) {
		char *fn = line, *u, *w, handle[GEARMAN_JOB_HANDLE_SIZE];
		gearman_return_t rc;

		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if ((u = strchr(fn, '\t')) == NULL || (w = strchr(u + 1, '\t')) == NULL)
			continue;
		*u++ = '\0';
		*w++ = '\0';
		rc = gearman_client_do_background(c, fn, u, w, strlen(w), handle);
		if (rc == GEARMAN_SUCCESS)
			emit("B\t%s\t%s\n", u, handle);
		else {
			emit("E\t%s\t%s\n", u, gearman_client_error(c));
			bad++;
		}
	}
	free(line);
	gearman_client_free(c);
	return bad ? 1 : 0;
}

static void
usage(void)
{
	fprintf(stderr, "usage: soakclient [-s HOST:PORT] -f F1[,F2...] "
	    "[-n THREADS] [-b BATCH] [-t TIMEOUT_S] [-p PREFIX] < control\n"
	    "       soakclient -B [-s HOST:PORT] < 'FUNCTION\\tUNIQUE\\tWORKLOAD' lines\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	pthread_t *th;
	char line[64];
	int opt, bg = 0;

	while ((opt = getopt(argc, argv, "s:f:n:b:t:p:B")) != -1) {
		switch (opt) {
		case 's': server = optarg; break;
		case 'f': split_functions(optarg); break;
		case 'n': nthreads = atoi(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 't': timeout_s = atoi(optarg); break;
		case 'p': prefix = optarg; break;
		case 'B': bg = 1; break;
		default: usage();
		}
	}
	if (bg)
		return background();
	if (nfunctions == 0 || nthreads < 1 || batch < 1 || batch > MAX_BATCH ||
	    timeout_s < 1)
		usage();
	if ((th = calloc((size_t)nthreads, sizeof(*th))) == NULL) {
		perror("soakclient");
		return 2;
	}
	for (int i = 0; i < nthreads; i++)
		if ((errno = pthread_create(&th[i], NULL, thread_main, (void *)(long)i))) {
			perror("soakclient: pthread_create");
			return 2;
		}
	while (fgets(line, sizeof(line), stdin) != NULL &&
	    strncmp(line, "stop", 4) != 0)
		;
	stopping = 1;
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	emit("END\n");
	free(th);
	return 0;
}
