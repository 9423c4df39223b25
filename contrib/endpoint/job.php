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
 * Try it:  php -S 127.0.0.1:8080 contrib/endpoint/job.php
 * and point a pool's job_processing_uri at http://127.0.0.1:8080/job.php.
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

class BadRequest extends Exception
{
}

/* The job from either request format, every field as raw bytes. */
function driveshaft_request(): array
{
    if (($_SERVER['REQUEST_METHOD'] ?? '') !== 'POST') {
        throw new BadRequest('expected a POST');
    }
    $ctype = $_SERVER['CONTENT_TYPE'] ?? '';
    if (stripos($ctype, 'multipart/form-data') === 0 ||
        stripos($ctype, 'application/x-www-form-urlencoded') === 0) {
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
        driveshaft_reply(400, 1, 'bad request: ' . $e->getMessage());
    } catch (Throwable $e) {
        error_log(sprintf('job.php: %s failed: %s: %s', $job['function_name'] ?? '?',
            get_class($e), $e->getMessage()));
        driveshaft_reply(200, 1, get_class($e) . ': ' . $e->getMessage());
    }
}

driveshaft_serve($DRIVESHAFT_JOBS);
