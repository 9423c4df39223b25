<?php
/*
 * job.php: an example Driveshaft endpoint for PHP shops.
 *
 * Driveshaft POSTs each Gearman job here and hands the answer back to
 * gearmand. Both request formats arrive here:
 *
 *   request_format "json" (default): a JSON body
 *     {"function_name", "job_handle", "unique", "workload"}; a field that is
 *     not UTF-8 comes base64-encoded, flagged "<field>_encoding": "base64".
 *   request_format "form": multipart/form-data with the same four fields,
 *     read from $_POST (what the original Driveshaft sends).
 *
 * The answer is HTTP 200 with {"gearman_ret": 0, "response_string": "..."}
 * for WORK_COMPLETE; any other gearman_ret is WORK_FAIL. Bytes that are not
 * UTF-8 go back base64-encoded with "response_encoding": "base64", and
 * Driveshaft decodes them before WORK_COMPLETE, byte for byte.
 *
 * Any exception (and any PHP warning or notice, turned into one) becomes
 * gearman_ret 1 with the exception's class and message: a job never fails
 * silently, and the worker logs the reason.
 *
 * Who may run a job. A browser can be made to POST here by any page it
 * visits; Driveshaft cannot. So a request is refused (4xx, with a reason in
 * response_string) when it:
 *   - carries an Origin header (browsers send one with every cross-site
 *     POST; Driveshaft never does): 403;
 *   - has a Content-Type other than the two Driveshaft sends,
 *     application/json and multipart/form-data: 415;
 *   - when the environment variable DRIVESHAFT_ENDPOINT_SECRET is set,
 *     lacks HTTP basic-auth credentials whose password is that secret (any
 *     user name): 401. Put them in the pool's URI, which Driveshaft turns
 *     into basic auth and never shows in a log or status line:
 *       "job_processing_uri": "http://driveshaft:SECRET@127.0.0.1/job.php"
 *     (a secret with characters special in a URI, such as / @ : %, goes
 *     percent-encoded there). With PHP-FPM, pass the variable with
 *     env[DRIVESHAFT_ENDPOINT_SECRET] in the pool's config, or with
 *     fastcgi_param from nginx.
 *
 * Try it:  DRIVESHAFT_ENDPOINT_SECRET=s3cret php -S 127.0.0.1:8080 job.php
 * and point a pool's job_processing_uri at
 * http://driveshaft:s3cret@127.0.0.1:8080/job.php.
 * Under nginx or Apache with PHP-FPM, install it as any other script.
 */

declare(strict_types=1);

/* The jobs this endpoint runs: Gearman function name => PHP callable taking
 * (string $workload, array $job) and returning the response bytes. Add
 * your own here, or require them from your application. */
$DRIVESHAFT_JOBS = [
    'Sum' => 'job_sum',
    'Sum2' => 'job_sum',
    'Sum3' => 'job_sum',
    'FormSum' => 'job_sum',
    'FormEcho' => 'job_echo',
    'Echo' => 'job_echo',
    'Fail' => 'job_fail',
];

/* "1 2 3", "1,2,3" or the original README's "[1,2]": their sum. */
function job_sum(string $workload, array $job): string
{
    $w = trim($workload);
    $nums = ($w !== '' && $w[0] === '[') ?
        json_decode($w, true, 2, JSON_THROW_ON_ERROR) :
        preg_split('/[\s,]+/', $w, -1, PREG_SPLIT_NO_EMPTY);
    $sum = 0;
    foreach ($nums as $n) {
        if (!is_numeric($n) || (string)(int)$n !== (string)$n) {
            throw new InvalidArgumentException('not an integer: ' .
                var_export($n, true));
        }
        $sum += (int)$n;
    }
    return (string)$sum;
}

/* The workload back, whatever its bytes. */
function job_echo(string $workload, array $job): string
{
    return $workload;
}

/* Always fails: shows how an exception reaches Gearman as WORK_FAIL. */
function job_fail(string $workload, array $job): string
{
    throw new RuntimeException('job_fail was asked to fail (' .
        strlen($workload) . ' bytes)');
}

/* --- the contract; nothing below needs changing --- */

const DRIVESHAFT_FIELDS = ['function_name', 'job_handle', 'unique', 'workload'];

/* A request that is not Driveshaft's: its HTTP status and why. A 400 is a
 * malformed job; anything else a request refused. */
class BadRequest extends Exception
{
    public $http;

    public function __construct(string $message, int $http = 400)
    {
        parent::__construct(($http === 400 ? 'bad request: ' : 'refused: ') . $message);
        $this->http = $http;
    }
}

/* The media type of the request, lowercased, without its parameters. */
function driveshaft_media_type(): string
{
    $ctype = (string)($_SERVER['CONTENT_TYPE'] ?? $_SERVER['HTTP_CONTENT_TYPE'] ?? '');
    return strtolower(trim(explode(';', $ctype, 2)[0]));
}

/* The basic-auth user and password sent, or null: PHP_AUTH_* where the
 * server fills them in (mod_php, php -S), else the Authorization header. */
function driveshaft_credentials(): ?array
{
    if (isset($_SERVER['PHP_AUTH_USER'])) {
        return [$_SERVER['PHP_AUTH_USER'], (string)($_SERVER['PHP_AUTH_PW'] ?? '')];
    }
    $h = (string)($_SERVER['HTTP_AUTHORIZATION'] ?? $_SERVER['REDIRECT_HTTP_AUTHORIZATION'] ?? '');
    if (stripos($h, 'basic ') !== 0) {
        return null;
    }
    $pair = base64_decode(trim(substr($h, 6)), true);
    if ($pair === false || strpos($pair, ':') === false) {
        return null;
    }
    return explode(':', $pair, 2);
}

/* Refuses what Driveshaft would never send (see the header). */
function driveshaft_admit(): void
{
    if (isset($_SERVER['HTTP_ORIGIN'])) {
        throw new BadRequest('a request with an Origin header (from a browser)', 403);
    }
    $secret = getenv('DRIVESHAFT_ENDPOINT_SECRET');
    if ($secret !== false) {
        if ($secret === '') {
            throw new BadRequest('DRIVESHAFT_ENDPOINT_SECRET is set but empty', 500);
        }
        $cred = driveshaft_credentials();
        if ($cred === null || !hash_equals($secret, $cred[1])) {
            header('WWW-Authenticate: Basic realm="driveshaft"');
            throw new BadRequest(($cred === null ? 'no' : 'wrong') .
                ' credentials (DRIVESHAFT_ENDPOINT_SECRET is set)', 401);
        }
    }
    if (($_SERVER['REQUEST_METHOD'] ?? '') !== 'POST') {
        throw new BadRequest('expected a POST', 405);
    }
    $type = driveshaft_media_type();
    if ($type !== 'application/json' && $type !== 'multipart/form-data') {
        throw new BadRequest('Content-Type ' . var_export($type, true) .
            ', expected application/json or multipart/form-data', 415);
    }
}

/* The job from either request format, every field as raw bytes. */
function driveshaft_request(): array
{
    driveshaft_admit();
    if (driveshaft_media_type() === 'multipart/form-data') {
        $in = $_POST;
    } else {
        $in = json_decode((string)file_get_contents('php://input'), true);
        if (!is_array($in)) {
            throw new BadRequest('expected a JSON object: ' . json_last_error_msg());
        }
    }
    $job = [];
    foreach (DRIVESHAFT_FIELDS as $f) {
        $v = $in[$f] ?? '';
        if (!is_string($v)) {
            throw new BadRequest("field $f is not a string");
        }
        if (($in[$f . '_encoding'] ?? '') === 'base64') {
            $v = base64_decode($v, true);
            if ($v === false) {
                throw new BadRequest("field $f is not valid base64");
            }
        }
        $job[$f] = $v;
    }
    return $job;
}

function driveshaft_reply(int $http, int $ret, string $response): void
{
    $body = ['gearman_ret' => $ret, 'response_string' => $response];
    if (preg_match('//u', $response) !== 1) {    /* not UTF-8 */
        $body['response_encoding'] = 'base64';
        $body['response_string'] = base64_encode($response);
    }
    http_response_code($http);
    header('Content-Type: application/json');
    echo json_encode($body, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE |
        JSON_THROW_ON_ERROR);
}

function driveshaft_serve(array $jobs): void
{
    /* a warning or notice is a failed job, not a half-done one */
    set_error_handler(function (int $no, string $msg, string $file, int $line): bool {
        throw new ErrorException($msg, 0, $no, $file, $line);
    });
    try {
        $job = driveshaft_request();
        $fn = $jobs[$job['function_name']] ?? null;
        if ($fn === null) {
            throw new DomainException('no such job: ' . $job['function_name']);
        }
        driveshaft_reply(200, 0, (string)$fn($job['workload'], $job));
    } catch (BadRequest $e) {
        driveshaft_reply($e->http, 1, $e->getMessage());
    } catch (Throwable $e) {
        error_log(sprintf('job.php: %s failed: %s: %s', $job['function_name'] ?? '?',
            get_class($e), $e->getMessage()));
        driveshaft_reply(200, 1, get_class($e) . ': ' . $e->getMessage());
    }
}

driveshaft_serve($DRIVESHAFT_JOBS);
